"""An admin runs an event: its topic becomes the community's topic of the day, its limited banner
opens and closes with it, it is announced once in the feed and to everyone's notifications, and
the public sees it with its contest. Every bad request is a clear 4xx that stores nothing."""
from datetime import timedelta

import pytest
from sqlmodel import Session

from gacha.models import Banner
from tests.events.conftest import create, created, event_body, iso, now, stored

pytestmark = pytest.mark.both_databases


def test_an_event_created_running_sets_the_topic_opens_its_banner_and_is_announced_once(
        app, client, admin, member):
    event = created(admin, topics=["What lights up your winter?", "Who would you invite?"],
                    banner={"featured_character_ids": [1]}, prizes=[500, 200])
    assert event["status"] == "running" and event["contest"]["prizes"] == [500, 200]
    assert event["topic_today"] == "What lights up your winter?"

    topic = client.get("/api/community/topic").get_json()["topic"]
    assert topic["prompt"] == "What lights up your winter?" and topic["source"] == "operator"

    banner = event["banner"]
    assert banner["featured_character_ids"] == [1] and banner["status"] == "open"
    assert (banner["starts_at"], banner["ends_at"]) == (event["starts_at"], event["ends_at"])

    post = client.get(f"/api/posts/{event['announcement_post_id']}").get_json()["post"]
    assert post["tags"] == ["event"] and "Winter Lights" in post["body"]
    shown = member.call("GET", "/api/notifications").get_json()["notifications"]
    assert [(n["kind"], n["post_id"]) for n in shown] == [("event", post["id"])]

    # The scheduler finds nothing left to announce: once, however many times it looks.
    before = stored(app)
    assert app.extensions["kindred.event_jobs"].run_due() == []
    assert app.extensions["kindred.event_announcer"].started(event["id"]) is False
    assert stored(app) == before

    listed = client.get("/api/events").get_json()["events"]
    assert [e["id"] for e in listed] == [event["id"]]
    assert client.get(f"/api/events/{event['id']}").get_json()["event"]["name"] == "Winter Lights"


def test_an_upcoming_event_is_announced_by_the_scheduler_when_it_starts(app, admin, member):
    starts = now() + timedelta(hours=2)
    event = created(admin, starts_at=iso(starts), ends_at=iso(starts + timedelta(days=1)))
    assert event["status"] == "upcoming" and event["announcement_post_id"] is None
    assert member.call("GET", "/api/notifications").get_json()["notifications"] == []

    jobs = app.extensions["kindred.event_jobs"]
    assert jobs.run_due(now()) == []
    assert jobs.run_due(starts + timedelta(minutes=1)) == [f"announced:{event['id']}"]
    assert jobs.run_due(starts + timedelta(minutes=2)) == []
    notes = member.call("GET", "/api/notifications").get_json()["notifications"]
    assert [n["kind"] for n in notes] == ["event"]


def test_an_admin_edits_an_event_and_a_limited_banner_follows_its_window(app, admin):
    event = created(admin, banner={"featured_character_ids": [1], "name": "Candle Banner"})
    later = now() + timedelta(days=5)
    changed = admin.call("PATCH", f"/api/admin/events/{event['id']}",
                         json={"ends_at": iso(later), "theme": "Longer nights"})
    assert changed.status_code == 200, changed.get_json()
    shown = changed.get_json()["event"]
    assert shown["theme"] == "Longer nights" and shown["banner"]["ends_at"] == shown["ends_at"]
    with Session(app.extensions["kindred.db"]) as session:
        assert session.get(Banner, shown["banner"]["id"]).name == "Candle Banner"
    listed = admin.call("GET", "/api/admin/events").get_json()["events"]
    assert [e["theme"] for e in listed] == ["Longer nights"]


BAD_EVENTS = [
    ({"ends_at": iso(now() - timedelta(days=1))}, 400, "ends_before_start"),
    ({"ends_at": iso(now() + timedelta(days=90))}, 400, "event_too_long"),
    ({"starts_at": "next tuesday"}, 400, "bad_time"),
    ({"name": ""}, 400, "missing_field"),
    ({"name": "x" * 81}, 400, "too_long"),
    ({"prizes": [100, 0]}, 400, "bad_prizes"),
    ({"prizes": [100, -5]}, 400, "bad_prizes"),
    ({"prizes": [1.5]}, 400, "bad_prizes"),
    ({"prizes": ["100"]}, 400, "bad_prizes"),
    ({"prizes": [True]}, 400, "bad_prizes"),
    ({"prizes": []}, 400, "bad_prizes"),
    ({"topics": ["a"] * 10}, 400, "bad_topics"),
    ({"topics": [""]}, 400, "missing_field"),
    ({"banner": {"featured_character_ids": []}}, 400, "bad_banner"),
    ({"banner": {"featured_character_ids": [999999]}}, 404, "not_found"),
    ({"colour": "blue"}, 400, "unknown_field"),
]


@pytest.mark.parametrize("change, status, code", BAD_EVENTS)
def test_a_bad_event_is_refused_and_nothing_is_stored(app, admin, change, status, code):
    before = stored(app)
    response = create(admin, **change)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert stored(app) == before


def test_a_bad_edit_or_an_unknown_event_changes_nothing(app, admin):
    event = created(admin, prizes=[100])
    before = stored(app)
    path = f"/api/admin/events/{event['id']}"
    assert admin.call("PATCH", path, json={"ends_at": event["starts_at"]}).get_json()[
        "error"]["code"] == "ends_before_start"
    assert admin.call("PATCH", path, json={"prizes": [0]}).status_code == 400
    assert admin.call("PATCH", path, json={"starts_at": iso(now())}).get_json()[
        "error"]["code"] == "event_started"
    assert admin.call("PATCH", "/api/admin/events/987654", json={"theme": "x"}).status_code == 404
    assert admin.call("POST", "/api/admin/events/987654/judge").status_code == 404
    assert admin.call("GET", "/api/events/987654").status_code == 404
    assert stored(app) == before


def test_non_admins_get_403_and_nothing_is_stored(app, client, member):
    before = stored(app)
    assert client.post("/api/admin/events", json=event_body()).status_code == 401
    assert member.call("POST", "/api/admin/events", json=event_body()).status_code == 403
    assert member.call("GET", "/api/admin/events").status_code == 403
    assert member.call("PATCH", "/api/admin/events/1", json={"theme": "x"}).status_code == 403
    assert member.call("POST", "/api/admin/events/1/judge").status_code == 403
    assert member.get("/admin/events").status_code == 403
    assert client.get("/admin/events").status_code == 302
    assert stored(app) == before


def test_the_announcement_reaches_a_connected_member_live(app, socket_client, admin):
    socket_client.get_received()  # what connecting sent
    event = created(admin)
    pushed = [m["args"][0] for m in socket_client.get_received() if m["name"] == "notify:new"]
    assert [(p["notification"]["kind"], p["notification"]["post_id"]) for p in pushed] == [
        ("event", event["announcement_post_id"])]
    assert pushed[0]["unread"] == 1
