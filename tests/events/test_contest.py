"""A contest: creators enter their own public characters while the event runs; after the end it
is judged by retained users (people who came back to the entry on two UTC days of the event),
not by raw message counts, and each winner is paid once through the ledger, however often it
is judged. Bad entries are clear 4xx that store nothing."""
from datetime import timedelta

import pytest
from sqlmodel import Session

from analytics.models import AnalyticsEvent
from gacha import ledger
from tests.events.conftest import created, now, set_window, stored

pytestmark = pytest.mark.both_databases


def enter(person, event_id, character_id):
    return person.call("POST", f"/api/events/{event_id}/entries",
                       json={"character_id": character_id})


def entered(person, event_id, character_id) -> dict:
    response = enter(person, event_id, character_id)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["entry"]


def chats(app, rows, dataset="live") -> None:
    """Hand-made log rows: (user_id, character_id, occurred_at, how many messages)."""
    with Session(app.extensions["kindred.db"]) as session:
        for user_id, character_id, at, count in rows:
            session.add_all([AnalyticsEvent(user_id=user_id, name="message_sent",
                                            occurred_at=at + timedelta(seconds=i),
                                            session_id=f"s{user_id}", dataset=dataset,
                                            properties={"character_id": character_id,
                                                        "conversation_id": 1, "chars": 20})
                             for i in range(count)])
        session.commit()


def gems(app, user_id) -> int:
    with Session(app.extensions["kindred.db"]) as session:
        return ledger.balance(session, user_id, "gems")


def ledger_is_balanced(app) -> bool:
    with Session(app.extensions["kindred.db"]) as session:
        return ledger.ledger_problems(session) == []


def test_the_entry_people_come_back_to_wins_over_the_one_with_more_messages(app, admin, person):
    a, b, c = person(), person(), person()
    chatty = a.character(visibility="public", name="Chatty")
    loved = b.character(visibility="public", name="Loved")
    quiet = c.character(visibility="public", name="Quiet")
    event = created(admin, prizes=[300, 100, 50])
    for creator, character in ((a, chatty), (b, loved), (c, quiet)):
        entered(creator, event["id"], character)
    assert admin.call("POST", f"/api/admin/events/{event['id']}/judge").get_json()[
        "error"]["code"] == "event_not_over"

    start = now() - timedelta(days=4)
    set_window(app, event["id"], start, now() - timedelta(hours=1))
    d0, d1, d2 = (start + timedelta(days=n, hours=1) for n in range(3))
    chats(app, [(10001, chatty, d0, 60), (10001, chatty, d1, 60),  # one devoted user: 1
                (10002, chatty, d0, 80),                           # many messages, one day: 0
                (10003, loved, d0, 1), (10003, loved, d1, 1),      # two who came back: 2
                (10004, loved, d1, 2), (10004, loved, d2, 1),
                (b.id, loved, d0, 5), (b.id, loved, d1, 5),        # its creator: not counted
                (10006, loved, start - timedelta(days=1), 3), (10006, loved, d0, 1)])  # once inside
    chats(app, [(10005, quiet, d0, 9), (10005, quiet, d1, 9)], dataset="demo")  # simulated
    before = {p.id: gems(app, p.id) for p in (a, b, c)}

    judged = admin.call("POST", f"/api/admin/events/{event['id']}/judge")
    assert judged.status_code == 200, judged.get_json()
    contest = judged.get_json()["event"]["contest"]
    assert [(w["character"]["name"], w["place"], w["score"], w["prize_gems"], w["paid"])
            for w in contest["winners"]] == [("Loved", 1, 2, 300, True),
                                             ("Chatty", 2, 1, 100, True)]
    assert {e["character"]["name"]: e["score"] for e in contest["entries"]}["Quiet"] == 0
    paid = {p.id: gems(app, p.id) - before[p.id] for p in (a, b, c)}
    assert paid == {a.id: 100, b.id: 300, c.id: 0}
    assert ledger_is_balanced(app)

    # Judging again (the endpoint, then the scheduler) pays nothing more.
    again = stored(app)
    assert admin.call("POST", f"/api/admin/events/{event['id']}/judge").status_code == 200
    assert app.extensions["kindred.event_jobs"].run_due() == []
    after = stored(app)
    assert after["prizes"] == again["prizes"] == [(b.id, f"event:{event['id']}:place:1", 300),
                                                   (a.id, f"event:{event['id']}:place:2", 100)]
    assert {p.id: gems(app, p.id) - before[p.id] for p in (a, b, c)} == paid

    # The winners were announced, once: a post, and a notification to each person.
    shown = admin.call("GET", f"/api/events/{event['id']}").get_json()["event"]
    assert shown["status"] == "judged" and shown["winners_post_id"] is not None
    post = admin.get(f"/api/posts/{shown['winners_post_id']}").get_json()["post"]
    assert "1. Loved" in post["body"] and "2. Chatty" in post["body"]
    kinds = [n["kind"] for n in c.call("GET", "/api/notifications").get_json()["notifications"]]
    assert kinds.count("event") == 2  # the start, then the winners


def test_the_scheduler_judges_an_ended_event_once_and_the_log_has_it(app, admin, person):
    a, b = person(), person()
    first, second = a.character(name="First"), b.character(name="Second")
    event = created(admin, prizes=[40])
    entered(a, event["id"], first)
    entered(b, event["id"], second)
    start = now() - timedelta(days=3)
    set_window(app, event["id"], start, now() - timedelta(minutes=1))
    d0, d1 = start + timedelta(hours=1), start + timedelta(days=1, hours=1)
    chats(app, [(20001, first, d0, 1), (20001, first, d1, 1),
                (20002, second, d0, 1), (20002, second, d1, 1)])  # a tie: the earlier entry

    jobs = app.extensions["kindred.event_jobs"]
    assert jobs.run_due() == [f"judged:{event['id']}", f"winners:{event['id']}"]
    assert jobs.run_due() == []
    assert stored(app)["prizes"] == [(a.id, f"event:{event['id']}:place:1", 40)]

    writer = app.extensions["kindred.analytics"]
    writer.retry_seconds = 0.0
    assert writer.flush()
    with Session(app.extensions["kindred.db"]) as session:
        rows = session.query(AnalyticsEvent).filter(AnalyticsEvent.name.like("event_%")).order_by(
            AnalyticsEvent.id).all()
        logged = [(r.name, r.user_id, r.properties.get("event_id")) for r in rows]
    assert logged == [("event_started", None, event["id"]),
                      ("event_judged", None, event["id"]),
                      ("event_prize_paid", a.id, event["id"])]
    assert rows[1].properties["winner_character_ids"] == [first]
    assert rows[2].properties["gems"] == 40 and rows[2].properties["place"] == 1


def test_a_creator_enters_and_withdraws_their_own_public_character(app, admin, member):
    character = member.character(name="Lumen")
    event = created(admin, prizes=[10])
    entry = entered(member, event["id"], character)
    assert entry["character"]["name"] == "Lumen" and entry["creator"]["id"] == member.id
    listed = member.get("/api/events").get_json()["events"][0]["contest"]["entries"]
    assert [e["character"]["id"] for e in listed] == [character]
    gone = member.call("DELETE", f"/api/events/{event['id']}/entries/{character}")
    assert gone.status_code == 204
    assert stored(app)["entries"] == []
    assert enter(member, event["id"], character).status_code == 201  # and may enter again


def test_bad_entries_are_refused_and_nothing_is_stored(app, admin, person):
    owner, other = person(), person()
    mine = owner.character(name="Mine")
    private = owner.character(visibility="private", name="Secret")
    event = created(admin, prizes=[10])
    no_contest = created(admin, name="Just a theme")
    entered(owner, event["id"], mine)
    second = owner.character(name="Second")
    before = stored(app)

    def refused(who, event_id, character_id, status, code):
        response = enter(who, event_id, character_id)
        assert response.status_code == status, response.get_json()
        assert response.get_json()["error"]["code"] == code

    refused(other, event["id"], mine, 403, "not_your_character")
    refused(owner, event["id"], private, 409, "character_not_public")
    refused(owner, event["id"], mine, 409, "already_entered")
    refused(owner, event["id"], second, 409, "already_entered")
    refused(owner, 987654, mine, 404, "not_found")
    refused(owner, event["id"], 987654, 404, "not_found")
    refused(owner, event["id"], "1", 400, "bad_field")
    refused(owner, no_contest["id"], mine, 409, "no_contest")
    assert owner.client.post(f"/api/events/{event['id']}/entries",
                             json={"character_id": mine}).status_code == 403  # no CSRF token
    assert app.test_client().post(f"/api/events/{event['id']}/entries",
                                  json={"character_id": mine}).status_code in (401, 403)
    assert other.call("DELETE", f"/api/events/{event['id']}/entries/{mine}").status_code == 404
    assert stored(app) == before

    set_window(app, event["id"], now() - timedelta(days=2), now() - timedelta(minutes=1))
    refused(other, event["id"], other.character(name="Late"), 409, "event_not_running")
    late = owner.call("DELETE", f"/api/events/{event['id']}/entries/{mine}")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "event_ended"
    assert stored(app)["entries"] == before["entries"]


def test_the_operator_judges_from_the_cli_once_and_the_server_announces_the_winners(
        app, admin, person, monkeypatch):
    from app.cli import app as cli_app
    monkeypatch.setattr("config.Config.DATABASE_URL", app.config["DATABASE_URL"])
    creator = person()
    character = creator.character(name="Beacon")
    event = created(admin, prizes=[70])
    entered(creator, event["id"], character)

    def judge_cli():
        # as `flask --app app.cli` runs it: that plain app, not a discovered create_app()
        return cli_app.test_cli_runner().invoke(args=["events", "judge", str(event["id"])])

    early = judge_cli()
    assert early.exit_code != 0 and "it is judged after that" in early.output
    start = now() - timedelta(days=2)
    set_window(app, event["id"], start, now() - timedelta(minutes=1))
    chats(app, [(30001, character, start + timedelta(hours=1), 1),
                (30001, character, start + timedelta(days=1, hours=1), 1)])
    before = gems(app, creator.id)
    first = judge_cli()
    assert first.exit_code == 0, first.output
    assert "1. Beacon by" in first.output and "70 gems" in first.output
    assert judge_cli().exit_code == 0
    assert gems(app, creator.id) - before == 70 and ledger_is_balanced(app)
    assert app.extensions["kindred.event_jobs"].run_due() == [f"winners:{event['id']}"]
