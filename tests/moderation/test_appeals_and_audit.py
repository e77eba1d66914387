"""Appeals (once per action, by the user affected) and the append-only audit log."""
import pytest
from sqlmodel import select

from core.users import standing
from moderation.audit import AppendOnly
from moderation.models import ModerationAction
from tests.moderation.conftest import act


def appeal(person, action_id, text="I did nothing wrong."):
    return person.call("POST", "/api/appeals", json={"action_id": action_id, "text": text})


@pytest.mark.both_databases
def test_the_user_affected_appeals_once_and_it_shows_in_the_queue(person):
    moderator, other_moderator, alice, bob = (person("moderator"), person("moderator"),
                                              person(), person())
    action = act(moderator, "suspend", "user", alice.id, rule="R5", days=7).get_json()["action"]
    assert appeal(bob, action["id"]).status_code == 404  # not bob's to appeal
    assert appeal(alice, 999999).status_code == 404
    response = appeal(alice, action["id"])
    assert response.status_code == 201
    appeal_id = response.get_json()["appeal"]["id"]
    again = appeal(alice, action["id"], "Please!")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_appealed"
    items = moderator.get("/api/moderation/queue").get_json()["items"]
    assert [(i["target_type"], i["target_id"]) for i in items] == [("user", alice.id)]
    assert [(a["id"], a["status"]) for a in items[0]["appeals"]] == [(appeal_id, "open")]
    # Another moderator grants it: the suspension is lifted, in the log, and alice is told.
    decided = other_moderator.call("POST", f"/api/moderation/appeals/{appeal_id}",
                                   json={"decision": "granted", "reason": "Misread the chat."})
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["action"]["action"] == "unsuspend"
    assert decided.get_json()["action"]["appeal_id"] == appeal_id
    assert standing(alice.user()) == "ok"
    kinds = [n["kind"] for n in alice.get("/api/me/notices").get_json()["notices"]]
    assert set(kinds[:2]) == {"appeal_granted", "unsuspend"}
    twice = other_moderator.call("POST", f"/api/moderation/appeals/{appeal_id}",
                                 json={"decision": "denied", "reason": "No."})
    assert twice.status_code == 409
    # The unsuspension itself is not appealed again.
    assert appeal(alice, decided.get_json()["action"]["id"]).status_code == 404


def test_a_denied_appeal_is_logged_and_the_action_stands(person):
    moderator, alice = person("moderator"), person()
    action = act(moderator, "warn", "user", alice.id, rule="R5").get_json()["action"]
    appeal_id = appeal(alice, action["id"]).get_json()["appeal"]["id"]
    bad = moderator.call("POST", f"/api/moderation/appeals/{appeal_id}",
                         json={"decision": "maybe", "reason": "x"})
    assert bad.status_code == 400
    decided = moderator.call("POST", f"/api/moderation/appeals/{appeal_id}",
                             json={"decision": "denied", "reason": "The warning stands."})
    assert decided.status_code == 200
    assert decided.get_json()["action"]["action"] == "appeal_denied"
    assert alice.get("/api/me/notices").get_json()["notices"][0]["kind"] == "appeal_denied"


@pytest.mark.both_databases
def test_the_audit_log_lists_every_action_newest_first_in_pages(person):
    moderator, alice, bob = person("moderator"), person(), person()
    character_id = alice.character()
    taken = [act(moderator, *args, **more).get_json()["action"]["id"] for args, more in (
        (("warn", "user", bob.id), {"rule": "R8"}),
        (("hide", "character", character_id), {"rule": "R3"}),
        (("restore", "character", character_id), {}),
        (("suspend", "user", bob.id), {"rule": "R8", "days": 2}),
        (("ban", "user", alice.id), {"rule": "R3"}),
    )]
    listed = moderator.get("/api/moderation/audit").get_json()["actions"]
    assert [a["id"] for a in listed] == taken[::-1]
    assert [a["action"] for a in listed] == ["ban", "suspend", "restore", "hide", "warn"]
    assert all(a["moderator_id"] == moderator.id and a["reason"] for a in listed)
    page = moderator.get(f"/api/moderation/audit?before={taken[2]}&limit=1").get_json()
    assert [a["id"] for a in page["actions"]] == [taken[1]]
    mine = moderator.get(f"/api/moderation/audit?user_id={bob.id}").get_json()["actions"]
    assert {a["action"] for a in mine} == {"warn", "suspend"}
    assert moderator.get("/api/moderation/audit?before=x").status_code == 400


def test_the_audit_log_has_no_way_to_change_it(app, person):
    moderator, alice = person("moderator"), person()
    act(moderator, "warn", "user", alice.id, rule="R5")
    audit_routes = [r for r in app.url_map.iter_rules() if "audit" in r.rule]
    assert [(r.rule, sorted(r.methods - {"HEAD", "OPTIONS"})) for r in audit_routes] == [
        ("/api/moderation/audit", ["GET"])]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert moderator.call(method, "/api/moderation/audit", json={}).status_code == 405
    with moderator.session() as session:
        logged = session.exec(select(ModerationAction)).one()
        logged.reason = "rewritten"
        session.add(logged)
        with pytest.raises(AppendOnly):
            session.commit()
        session.rollback()
        with pytest.raises(AppendOnly):
            session.delete(session.exec(select(ModerationAction)).one())
            session.commit()
        session.rollback()
    with moderator.session() as session:
        assert session.exec(select(ModerationAction)).one().reason == "Breaks the rules."


def test_rules_are_shown_and_accepted(person, client):
    alice = person()
    page = client.get("/rules")
    assert page.status_code == 200 and "R1." in page.get_data(as_text=True)
    rules = alice.get("/api/rules").get_json()["rules"]
    assert rules["accepted_version"] is None and [r["id"] for r in rules["rules"]][0] == "R1"
    assert alice.call("POST", "/api/rules/accept", json={"version": 7}).status_code == 409
    accepted = alice.call("POST", "/api/rules/accept", json={"version": rules["version"]})
    assert accepted.status_code == 200
    assert alice.get("/api/rules").get_json()["rules"]["accepted_version"] == rules["version"]


def test_a_banned_user_appeals_the_ban_with_their_password_once(person, client):
    moderator, alice = person("moderator"), person()
    ban = act(moderator, "ban", "user", alice.id, rule="R8").get_json()["action"]
    body = {"username": alice.username, "password": "correct horse", "text": "Not spam."}
    wrong = client.post("/api/appeals/ban", json={**body, "password": "wrong password"})
    assert wrong.status_code == 401
    made = client.post("/api/appeals/ban", json=body)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["appeal"]["action_id"] == ban["id"]
    assert client.post("/api/appeals/ban", json=body).status_code == 409
    items = moderator.get("/api/moderation/queue").get_json()["items"]
    assert [a["action_id"] for a in items[0]["appeals"]] == [ban["id"]]
    granted = moderator.call("POST", f"/api/moderation/appeals/{made.get_json()['appeal']['id']}",
                             json={"decision": "granted", "reason": "It was not spam."})
    assert granted.get_json()["action"]["action"] == "unban"
    assert alice.auth.login(alice.username).status_code == 200


def test_only_a_banned_account_uses_the_ban_appeal(person, client):
    alice = person()
    response = client.post("/api/appeals/ban", json={"username": alice.username,
                                                     "password": "correct horse", "text": "?"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_banned"
