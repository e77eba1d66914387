"""The safety pipeline screens what others will read: a card on publish and on edits while it is
public, and a username at sign-up. A refusal is 422 blocked_content naming the category and the
rule, and changes nothing; what is held for review reaches the moderation queue."""
import pytest

from core.auth.roles import grant_role
from core.db import session_scope

pytestmark = pytest.mark.both_databases


def _staff(app, auth, role):
    auth.signup(f"{role}_{app.config['DATABASE_URL'][-6:].replace('/', '')}")
    with session_scope(app.extensions["kindred.db"]) as session:
        grant_role(session, auth.username, role)
    return auth


def _rule(admin, category, word):
    response = admin.call("POST", "/api/admin/moderation/rules",
                          json={"category": category, "kind": "word", "pattern": word})
    assert response.status_code == 201, response.get_json()


@pytest.fixture
def admin(app):
    from tests.conftest import AuthActions
    return _staff(app, AuthActions(app.test_client()), "admin")


def _draft(auth, **fields):
    response = auth.call("POST", "/api/characters", json={"name": "Screened", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["character"]


def _listed(client, character_id) -> bool:
    return any(c["id"] == character_id for c in client.get("/api/characters").get_json())


def test_publishing_a_blocked_card_is_a_422_and_changes_nothing(app, client, auth, admin):
    _rule(admin, "hate", "zorblaxhate")
    auth.signup()
    character = _draft(auth, description="A bard who sings zorblaxhate songs.")
    response = auth.call("POST", f"/api/characters/{character['id']}/publish")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "blocked_content" and error["category"] == "hate" and error["rule"]
    detail = auth.call("GET", f"/api/characters/{character['id']}").get_json()["character"]
    assert detail["visibility"] == "private" and not _listed(client, character["id"])


def test_a_held_card_goes_to_the_queue_and_is_not_listed(app, client, auth, admin):
    _rule(admin, "sexual_minors", "qwuppetminor")
    auth.signup()
    character = _draft(auth, first_mes="*qwuppetminor*")
    response = auth.call("POST", f"/api/characters/{character['id']}/publish")
    assert response.status_code == 422
    assert response.get_json()["error"]["category"] == "sexual_minors"
    assert not _listed(client, character["id"])
    queue = admin.call("GET", "/api/moderation/queue").get_json()["items"]
    assert any(i["target_type"] == "character" and i["target_id"] == character["id"]
               for i in queue)


def test_an_edit_of_a_public_card_is_screened_and_a_private_draft_is_not(app, auth, admin):
    _rule(admin, "violent_crime", "plimbombrecipe")
    auth.signup()
    character = _draft(auth, description="A kind baker.")
    assert auth.call("POST", f"/api/characters/{character['id']}/publish").status_code == 200
    edit = auth.call("PATCH", f"/api/characters/{character['id']}",
                     json={"description": "Shares a plimbombrecipe."})
    assert edit.status_code == 422
    assert auth.call("GET", f"/api/characters/{character['id']}").get_json()["character"][
        "description"] == "A kind baker."
    draft = _draft(auth)
    assert auth.call("PATCH", f"/api/characters/{draft['id']}",
                     json={"description": "Shares a plimbombrecipe."}).status_code == 200


def test_a_blocked_username_is_refused_and_no_account_is_made(app, client, admin):
    _rule(admin, "harassment", "grumbletroll")
    refused = client.post("/api/auth/signup", json={"username": "grumbletroll-99",
                                                    "password": "password1"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["category"] == "harassment"
    assert client.post("/api/auth/login", json={"username": "grumbletroll-99",
                                                "password": "password1"}).status_code == 401
    fine = client.post("/api/auth/signup", json={"username": "user_13065553",
                                                 "password": "password1"})
    assert fine.status_code == 201


def test_restoring_an_old_version_of_a_public_card_is_screened_by_todays_rules(app, auth, admin):
    auth.signup()
    character = _draft(auth, description="Shares a glorbfusemethod.")
    path = f"/api/characters/{character['id']}"
    assert auth.call("POST", f"{path}/publish").status_code == 200  # no rule yet: version 1
    assert auth.call("PATCH", path, json={"description": "A kind baker."}).status_code == 200
    assert auth.call("POST", f"{path}/publish").status_code == 200  # version 2
    _rule(admin, "violent_crime", "glorbfusemethod")

    restore = auth.call("POST", f"{path}/versions/1/restore")
    assert restore.status_code == 422
    assert restore.get_json()["error"]["category"] == "violent_crime"
    assert auth.call("GET", path).get_json()["character"]["description"] == "A kind baker."
    assert len(auth.call("GET", f"{path}/versions").get_json()["versions"]) == 2

    # a private draft is read by nobody else: its creator may restore anything
    assert auth.call("POST", f"{path}/unpublish").status_code == 200
    assert auth.call("POST", f"{path}/versions/1/restore").status_code == 200
