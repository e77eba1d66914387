"""User profiles (GET|PATCH /api/me/profile): a display name and a bio others read on the creator
page, each change checked by the safety pipeline on surface `profile`. Operator rules refuse at
any score (422 blocked_content, nothing changes), private details are masked, and every outcome
but allow reaches moderators as a flag on the user."""
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from core.auth.roles import grant_role
from core.db import utcnow
from core.errors import KindredError
from core.profiles import update_profile
from core.users import User
from moderation.models import Flag
from safety.moderator import Decision
from tests.conftest import AuthActions
from tests.support.users import update_user

BLOCKED_WORD = "grimblefrotz"


@pytest.fixture
def db(app):
    return app.extensions["kindred.db"]


@pytest.fixture
def admin(app, db):
    staff = AuthActions(app.test_client())
    staff.signup()
    with Session(db) as session:
        grant_role(session, staff.username, "admin")
    return staff


@pytest.fixture
def blocking_rule(admin):
    response = admin.call("POST", "/api/admin/moderation/rules",
                          json={"category": "harassment", "kind": "word",
                                "pattern": BLOCKED_WORD})
    assert response.status_code == 201, response.get_json()


def _patch(auth, **body):
    return auth.call("PATCH", "/api/me/profile", json=body)


def _profile(auth) -> dict:
    response = auth.call("GET", "/api/me/profile")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["profile"]


def _flags(db, user_id) -> list[Flag]:
    with Session(db) as session:
        return list(session.exec(select(Flag).where(Flag.target_type == "user",
                                                    Flag.target_id == user_id)
                                 .order_by(Flag.id)))


def _user_id(client) -> int:
    return client.get("/api/auth/me").get_json()["user"]["id"]


@pytest.mark.both_databases
def test_a_profile_is_set_read_back_shown_to_others_and_cleared(client, auth):
    auth.signup()
    assert _profile(auth) == {"username": auth.username, "display_name": None, "bio": None}
    response = _patch(auth, display_name="  Ada the Baker ",
                      bio="I write cozy characters.\nMostly bakers and cats.")
    assert response.status_code == 200, response.get_json()
    expected = {"username": auth.username, "display_name": "Ada the Baker",
                "bio": "I write cozy characters.\nMostly bakers and cats."}
    assert response.get_json() == {"profile": expected, "masked": {}}
    assert _profile(auth) == expected
    me = client.get("/api/auth/me").get_json()["user"]
    assert me["display_name"] == "Ada the Baker" and me["bio"] == expected["bio"]
    other = client.application.test_client()
    creator = other.get(f"/api/creators/{auth.username}").get_json()["creator"]
    assert creator["display_name"] == "Ada the Baker" and creator["bio"] == expected["bio"]

    assert _patch(auth, bio="").get_json()["profile"] == {**expected, "bio": None}
    assert _patch(auth, display_name=None).get_json()["profile"]["display_name"] is None


def test_the_creator_page_shows_the_display_name_and_the_bio_escaped(client, auth):
    auth.signup()
    assert _patch(auth, display_name="Ada <b>Baker</b>",
                  bio="Line one & more\nLine two").status_code == 200
    page = client.application.test_client().get(f"/creators/{auth.username}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ada &lt;b&gt;Baker&lt;/b&gt;" in html and "<b>Baker</b>" not in html
    assert f"@{auth.username}" in html
    assert "Line one &amp; more<br>Line two" in html


@pytest.mark.both_databases
def test_private_details_in_a_bio_are_masked_and_flagged(db, client, auth):
    auth.signup()
    response = _patch(auth, bio="Happy to chat about stories. Write to jane.doe@example.com "
                                "or call 555-123-4567.")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["masked"] == {"bio": ["email", "phone"]}
    bio = body["profile"]["bio"]
    assert "[email hidden]" in bio and "[phone hidden]" in bio
    assert "jane.doe" not in bio and "4567" not in bio
    assert _profile(auth)["bio"] == bio
    flags = _flags(db, _user_id(client))
    assert [(f.surface, f.action, f.category, f.user_id) for f in flags] == [
        ("profile", "mask", "privacy", flags[0].target_id)]


@pytest.mark.both_databases
def test_a_bio_that_masking_makes_too_long_is_cut_before_the_label(auth):
    auth.signup()
    fits = "x" * 480 + " a@b.io"  # 487 characters, 495 masked
    assert _patch(auth, bio=fits).get_json()["profile"]["bio"] == "x" * 480 + " [email hidden]"
    over = "x" * 490 + " a@b.io"  # 497 characters, 505 masked: the label would be cut
    response = _patch(auth, bio=over)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["profile"]["bio"] == "x" * 490
    assert response.get_json()["masked"] == {"bio": ["email"]}


@pytest.mark.both_databases
def test_a_bio_an_operator_rule_blocks_is_a_422_and_the_old_bio_stays(
        db, client, auth, admin, blocking_rule):
    auth.signup()
    assert _patch(auth, display_name="Ada", bio="I bake.").status_code == 200
    response = _patch(auth, display_name="Ada Lovelace", bio=f"You are all a {BLOCKED_WORD}.")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "blocked_content" and error["category"] == "harassment"
    assert error["rule"] and "bio" in error["message"]
    assert _profile(auth) == {"username": auth.username, "display_name": "Ada",
                              "bio": "I bake."}
    user_id = _user_id(client)
    assert [(f.surface, f.category, f.stage, f.rule) for f in _flags(db, user_id)
            if f.action == "block"] == [("profile", "harassment", "rules", error["rule"])]
    queue = admin.call("GET", "/api/moderation/queue").get_json()["items"]
    item = next(i for i in queue if i["target_type"] == "user" and i["target_id"] == user_id)
    assert {"field": "bio", "text": "I bake."} in item["context"]


def test_a_blocked_display_name_is_refused_too(auth, blocking_rule):
    auth.signup()
    response = _patch(auth, display_name=f"{BLOCKED_WORD} king")
    assert response.status_code == 422
    assert "display name" in response.get_json()["error"]["message"]
    assert _profile(auth)["display_name"] is None


@pytest.mark.parametrize("body, code", [
    ({"display_name": "x" * 41}, "field_too_long"),
    ({"bio": "y" * 501}, "field_too_long"),
    ({"bio": 42}, "bad_field"),
    ({"display_name": ["Ada"]}, "bad_field"),
    ({"bio": True}, "bad_field"),
    ({"display_name": "Ada\nBaker"}, "bad_field"),
    ({"nickname": "Ada"}, "unknown_field"),
    ({"bio": "ok", "username": "root"}, "unknown_field"),
    ({}, "no_fields"),
])
def test_bad_profile_changes_are_a_400_and_change_nothing(auth, body, code):
    auth.signup()
    assert _patch(auth, display_name="Ada", bio="I bake.").status_code == 200
    response = auth.call("PATCH", "/api/me/profile", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert _profile(auth) == {"username": auth.username, "display_name": "Ada",
                              "bio": "I bake."}


def test_a_body_that_is_not_a_json_object_is_a_400(auth):
    auth.signup()
    for data, kind in (("[1, 2]", "application/json"), ("bio=hi", "text/plain")):
        response = auth.call("PATCH", "/api/me/profile", data=data, content_type=kind)
        assert response.status_code == 400 and response.get_json()["error"]["code"]


def test_a_profile_needs_a_login_and_a_csrf_token(client, auth):
    assert client.get("/api/me/profile").status_code == 401
    assert client.get("/api/me/profile").get_json()["error"]["code"] == "login_required"
    refused = client.patch("/api/me/profile", json={"bio": "hi"})
    assert refused.status_code in (401, 403) and refused.get_json()["error"]["code"]
    auth.signup()
    no_token = client.patch("/api/me/profile", json={"bio": "hi"})
    assert no_token.status_code == 403
    assert no_token.get_json()["error"]["code"] == "csrf_failed"
    assert _profile(auth)["bio"] is None


@pytest.mark.parametrize("standing", ["suspended", "banned"])
def test_a_suspended_or_banned_user_cannot_change_their_profile(db, auth, standing):
    auth.signup()
    until = utcnow() + timedelta(days=3)
    update_user(db, auth.username, **({"suspended_until": until} if standing == "suspended"
                                     else {"banned_at": utcnow()}))
    response = _patch(auth, bio="New bio")
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == standing and "profile" in error["message"]
    if standing == "suspended":
        assert error["until"].startswith(until.date().isoformat())
    assert _profile(auth)["bio"] is None


# The service's own decisions, with a stand-in Moderator

class _Fixed:
    """A Moderator that gives every text the same decision (or fails)."""

    def __init__(self, decision=None, error=None):
        self.decision, self.error, self.calls = decision, error, []

    def moderate(self, text, surface, context=None):
        self.calls.append((text, surface, context))
        if self.error:
            raise self.error
        return self.decision(text) if callable(self.decision) else self.decision


def _decision(action, category, text, score, stage="classifier", flagged=None, masked=()):
    return Decision(action=action, category=category, categories={category: score},
                    flagged=tuple(flagged or (category,)), stage=stage, rule="R5", text=text,
                    masked=masked)


def _new_user(db) -> int:
    with Session(db) as session:
        user = User(username="prof", username_key="prof", password_hash="-")
        session.add(user)
        session.commit()
        return user.id


def test_a_borderline_classifier_score_is_stored_as_written_without_a_flag(db):
    user_id = _new_user(db)
    moderator = _Fixed(lambda text: _decision("block", "hate", text, 0.55))
    with Session(db) as session:
        update = update_profile(session, moderator, user_id, {"bio": "Just us?"})
        assert update.user.bio == "Just us?" and update.masked == {}
    assert moderator.calls == [("Just us?", "profile",
                                {"mature_allowed": False, "under_18": True,
                                 "user_id": user_id})]
    assert _flags(db, user_id) == []


def test_support_is_flagged_only_when_the_self_harm_flag_is_sure(db):
    user_id = _new_user(db)
    borderline = _Fixed(lambda text: _decision("support", "self_harm", text, 0.55))
    sure = _Fixed(lambda text: _decision("support", "self_harm", text, 0.55, stage="rules"))
    with Session(db) as session:
        assert update_profile(session, borderline, user_id, {"bio": "I bake."}).user.bio == \
            "I bake."
        assert _flags(db, user_id) == []
        assert update_profile(session, sure, user_id, {"bio": "Some days are hard."}).user.bio \
            == "Some days are hard."
    assert [(f.action, f.category) for f in _flags(db, user_id)] == [("support", "self_harm")]


def test_a_borderline_refusal_still_stores_the_private_details_masked(db):
    """The pipeline masks private details whatever decides (safety/moderator.py): a bio kept as
    written after a borderline spam score keeps its phone number hidden."""
    user_id = _new_user(db)
    moderator = _Fixed(lambda text: _decision(
        "block", "spam", text.replace("312-555-0187", "[phone hidden]"), 0.55,
        flagged=("spam", "privacy"), masked=("phone",)))
    with Session(db) as session:
        update = update_profile(session, moderator, user_id,
                                {"bio": "Commissions open! Call 312-555-0187"})
        assert update.user.bio == "Commissions open! Call [phone hidden]"
        assert update.masked == {"bio": ["phone"]}


def test_a_failing_pipeline_changes_nothing(db):
    user_id = _new_user(db)
    with Session(db) as session:
        with pytest.raises(KindredError) as failed:
            update_profile(session, _Fixed(error=RuntimeError("down")), user_id,
                           {"display_name": "Ada"})
    assert failed.value.code == "moderation_unavailable" and failed.value.status == 503
    with Session(db) as session:
        assert session.get(User, user_id).display_name is None


def test_without_a_pipeline_nothing_is_screened(db):
    user_id = _new_user(db)
    with Session(db) as session:
        update = update_profile(session, None, user_id, {"display_name": "Ada", "bio": ""})
        assert (update.user.display_name, update.user.bio) == ("Ada", None)
