"""Moderation actions and their effects, each one transaction; who may act on whom."""
from datetime import timedelta

import pytest
from sqlmodel import func, select

from characters.models import Character
from core.auth.logins import Login
from core.db import utcnow
from core.users import standing
from moderation import actions
from moderation.models import ModerationAction, Notice, QueueItem
from tests.moderation.conftest import act

MODERATION_PREFIX = "/api/moderation"


def public_ids(person) -> set[int]:
    return {c["id"] for c in person.get("/api/characters").get_json()}


def test_plain_users_get_403_on_every_moderation_endpoint(app, person):
    alice = person()
    rules = [r for r in app.url_map.iter_rules()
             if r.rule.startswith(MODERATION_PREFIX) or r.rule in ("/api/admin/rules",)]
    assert len(rules) >= 4
    for rule in rules:
        path = rule.rule.replace("<int:appeal_id>", "1")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = alice.call(method, path, json={} if method != "GET" else None)
            assert response.status_code == 403, (method, path)
            assert response.get_json()["error"]["code"] == "forbidden"
    assert alice.get("/moderation").status_code == 403


def test_a_moderator_may_not_edit_the_rules_but_an_admin_may(person, client):
    moderator, admin = person("moderator"), person("admin")
    body = {"markdown": "# Be kind\n\n<script>alert(1)</script>"}
    assert moderator.call("PUT", "/api/admin/rules", json=body).status_code == 403
    response = admin.call("PUT", "/api/admin/rules", json=body)
    assert response.status_code == 200 and response.get_json()["rules"]["version"] == 2
    page = client.get("/rules").get_data(as_text=True)
    assert "<h1>Be kind</h1>" in page and "<script>alert" not in page


@pytest.mark.both_databases
def test_hide_and_restore_a_character_takes_it_off_the_public_list_and_back(person):
    moderator, creator, viewer = person("moderator"), person(), person()
    character_id = creator.character()
    assert character_id in public_ids(viewer)
    response = act(moderator, "hide", "character", character_id, rule="R3")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["action"]["rule"] == "R3"
    assert character_id not in public_ids(viewer)
    assert viewer.get(f"/api/characters/{character_id}").status_code == 404
    assert creator.get(f"/api/characters/{character_id}").status_code == 200  # still theirs
    assert act(moderator, "restore", "character", character_id).status_code == 201
    assert character_id in public_ids(viewer)
    kinds = [n["kind"] for n in creator.get("/api/me/notices").get_json()["notices"]]
    assert kinds == ["restore", "hide"]


def test_hiding_a_message_is_what_is_hidden_answers(person, app):
    from moderation.queue import hidden_ids, is_hidden
    moderator, alice = person("moderator"), person()
    message_id = alice.message("bad words")
    assert act(moderator, "hide", "message", message_id, rule="R5").status_code == 201
    with alice.session() as session:
        assert is_hidden(session, "message", message_id)
        assert hidden_ids(session, "message", [message_id, message_id + 1]) == {message_id}
    assert act(moderator, "restore", "message", message_id).status_code == 201
    with alice.session() as session:
        assert not is_hidden(session, "message", message_id)


def test_warn_notifies_the_user_with_the_rule_and_reason(person):
    moderator, alice = person("moderator"), person()
    response = act(moderator, "warn", "user", alice.id, reason="Calm down.", rule="R5")
    assert response.status_code == 201
    notice = alice.get("/api/me/notices?unread=1").get_json()["notices"][0]
    assert notice["kind"] == "warn" and notice["rule"] == "R5" and "Calm down." in notice["text"]
    assert notice["action_id"] == response.get_json()["action"]["id"]
    assert alice.call("POST", "/api/me/notices/read", json={}).get_json()["marked"] == 1
    assert alice.get("/api/me/notices?unread=1").get_json()["notices"] == []


def test_suspend_for_n_days_sets_the_standing_and_unsuspend_lifts_it(person):
    moderator, alice = person("moderator"), person()
    before = utcnow()
    response = act(moderator, "suspend", "user", alice.id, rule="R5", days=3)
    assert response.status_code == 201 and response.get_json()["action"]["days"] == 3
    user = alice.user()
    assert standing(user) == "suspended"
    assert before + timedelta(days=3) <= user.suspended_until <= utcnow() + timedelta(days=3)
    assert standing(user, now=utcnow() + timedelta(days=3, minutes=1)) == "ok"
    assert alice.get("/api/auth/me").status_code == 200  # a suspended user stays logged in
    assert "suspended for 3 day" in alice.get("/api/me/notices").get_json()["notices"][0]["text"]
    assert act(moderator, "unsuspend", "user", alice.id).status_code == 201
    assert standing(alice.user()) == "ok"


@pytest.mark.parametrize("days", [None, 0, 366, "3", True, 2.5])
def test_a_suspension_needs_whole_days_in_range(person, days):
    moderator, alice = person("moderator"), person()
    response = act(moderator, "suspend", "user", alice.id, rule="R5", days=days)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_days"
    assert standing(alice.user()) == "ok"


@pytest.mark.both_databases
def test_ban_refuses_login_revokes_sessions_and_hides_public_characters(person, app):
    moderator, alice, viewer = person("moderator"), person(), person()
    character_id = alice.character()
    response = act(moderator, "ban", "user", alice.id, rule="R1", reason="Sexualised a minor.")
    assert response.status_code == 201, response.get_json()
    assert standing(alice.user()) == "banned"
    assert alice.get("/api/auth/me").status_code == 401  # the session ended
    login = alice.auth.login(alice.username)
    assert login.status_code == 403 and login.get_json()["error"]["code"] == "banned"
    assert character_id not in public_ids(viewer)
    assert viewer.get(f"/api/characters/{character_id}").status_code == 404
    with alice.session() as session:
        live = session.exec(select(Login).where(Login.user_id == alice.id,
                                                Login.revoked_at.is_(None))).all()
        assert live == []
    # Unban: the account logs in again and the characters come back.
    assert act(moderator, "unban", "user", alice.id).status_code == 201
    assert alice.auth.login(alice.username).status_code == 200
    assert character_id in public_ids(viewer)


def test_unban_keeps_a_character_a_moderator_hid_hidden(person):
    moderator, alice, viewer = person("moderator"), person(), person()
    hidden, kept = alice.character(name="Hidden"), alice.character(name="Kept")
    assert act(moderator, "hide", "character", hidden, rule="R3").status_code == 201
    assert act(moderator, "ban", "user", alice.id, rule="R3").status_code == 201
    assert act(moderator, "unban", "user", alice.id).status_code == 201
    visible = public_ids(viewer)
    assert kept in visible and hidden not in visible


@pytest.mark.parametrize("actor_role, target_role, allowed", [
    ("moderator", "admin", False), ("moderator", "moderator", False),
    ("admin", "admin", False), ("admin", "moderator", True), ("moderator", "user", True),
])
def test_who_may_ban_whom(person, actor_role, target_role, allowed):
    actor, target = person(actor_role), person(target_role)
    response = act(actor, "ban", "user", target.id, rule="R9")
    if allowed:
        assert response.status_code == 201
    else:
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "cannot_moderate_admin"
        assert standing(target.user()) == "ok"
        assert target.get("/api/auth/me").status_code == 200


def test_a_moderator_cannot_act_on_themselves(person):
    moderator = person("moderator")
    response = act(moderator, "warn", "user", moderator.id, rule="R9")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "cannot_moderate_self"


@pytest.mark.parametrize("body, code", [
    ({"action": "obliterate"}, "bad_action"),
    ({"reason": ""}, "missing_reason"),
    ({"reason": "r" * 501}, "reason_too_long"),
    ({"rule": None}, "missing_rule"),
    ({"rule": "R99"}, "bad_rule"),
    ({"action": "hide", "target_type": "user"}, "bad_action_for_target"),
    ({"target_id": 999999}, "not_found"),
])
def test_bad_actions_are_refused_and_store_nothing(person, body, code):
    moderator, alice = person("moderator"), person()
    payload = {"action": "warn", "target_type": "user", "target_id": alice.id,
               "reason": "Because.", "rule": "R5", **body}
    response = moderator.call("POST", "/api/moderation/actions", json=payload)
    assert 400 <= response.status_code < 500
    assert response.get_json()["error"]["code"] == code
    with moderator.session() as session:
        assert session.exec(select(func.count()).select_from(ModerationAction)).one() == 0
        assert session.exec(select(func.count()).select_from(Notice)).one() == 0


@pytest.mark.both_databases
def test_a_ban_that_fails_half_way_leaves_nothing_behind(person, app, monkeypatch):
    moderator, alice, viewer = person("moderator"), person(), person()
    character_id = alice.character()
    report = viewer.call("POST", "/api/reports", json={"target_type": "user",
                                                       "target_id": alice.id, "reason": "spam"})
    assert report.status_code == 201

    def fail(*_args, **_kwargs):
        raise RuntimeError("the revocation failed")
    monkeypatch.setattr(actions.logins, "revoke_all", fail)
    with moderator.session() as session, pytest.raises(RuntimeError):
        actions.act(session, moderator.id, "ban", "user", alice.id, "Spam.", "R8")
    assert standing(alice.user()) == "ok"
    assert alice.get("/api/auth/me").status_code == 200
    assert character_id in public_ids(viewer)
    with moderator.session() as session:
        assert session.exec(select(func.count()).select_from(ModerationAction)).one() == 0
        assert session.exec(select(func.count()).select_from(Notice)).one() == 0
        assert session.exec(select(QueueItem)).one().state == "open"
        assert session.get(Character, character_id).moderation_hidden is False


def test_dismiss_closes_the_item_and_its_reports(person):
    moderator, alice, bob = person("moderator"), person(), person()
    alice.call("POST", "/api/reports", json={"target_type": "user", "target_id": bob.id,
                                             "reason": "spam"})
    assert act(moderator, "dismiss", "user", bob.id).status_code == 201
    resolved = moderator.get("/api/moderation/queue?state=resolved").get_json()["items"]
    assert [i["reports"][0]["status"] for i in resolved] == ["dismissed"]
    assert moderator.get("/api/moderation/queue").get_json()["items"] == []
    assert bob.get("/api/me/notices").get_json()["notices"] == []  # nothing to tell bob
