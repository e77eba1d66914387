"""Under-18 accounts (and accounts without a birth year, and visitors) never see mature
characters: not in lists, search, trending, creator pages or by id, and they cannot chat with
them or make them (issue 13, Age)."""
from datetime import datetime, timezone

import pytest

from tests.conftest import AuthActions

pytestmark = pytest.mark.both_databases
ADULT_YEAR = datetime.now(timezone.utc).year - 30
TEEN_YEAR = datetime.now(timezone.utc).year - 15


def _account(app, name, birth_year=None):
    actions = AuthActions(app.test_client())
    body = {"username": name, "password": "correct horse"}
    if birth_year is not None:
        body["birth_year"] = birth_year
    response = actions.client.post("/api/auth/signup", json=body)
    assert response.status_code == 201, response.get_json()
    actions.csrf, actions.username = response.get_json()["csrf_token"], name
    return actions


@pytest.fixture
def mature_character(app):
    creator = _account(app, "creator18", ADULT_YEAR)
    made = creator.call("POST", "/api/characters", json={
        "name": "Velvet Nocturne", "description": "A sultry vampire courtesan.",
        "first_mes": "Good evening.", "content_rating": "mature", "tags": ["vampire"]})
    assert made.status_code == 201, made.get_json()
    character = made.get_json()["character"]
    assert creator.call("POST", f"/api/characters/{character['id']}/publish").status_code == 200
    return character


def _sees(actions, character) -> dict:
    client = actions.client if hasattr(actions, "client") else actions
    return {
        "list": any(c["id"] == character["id"] for c in client.get("/api/characters").get_json()),
        "detail": client.get(f"/api/characters/{character['id']}").status_code == 200,
        "search": any(c["id"] == character["id"] for c in
                      client.get("/api/search?q=Velvet").get_json()["results"]),
        "tag": any(c["id"] == character["id"] for c in
                   client.get("/api/search?tag=vampire").get_json()["results"]),
        "creator": any(c["id"] == character["id"] for c in
                       client.get("/api/creators/creator18").get_json()["creator"]["characters"]),
    }


def test_adults_see_mature_characters_and_everyone_else_does_not(app, mature_character):
    adult = _account(app, "grownup", ADULT_YEAR)
    assert all(_sees(adult, mature_character).values())
    for viewer in (_account(app, "teen", TEEN_YEAR), _account(app, "noyear"),
                   app.test_client()):
        assert not any(_sees(viewer, mature_character).values())


def test_a_minor_cannot_chat_with_a_mature_character(app, mature_character):
    teen = _account(app, "teen2", TEEN_YEAR)
    response = teen.call("POST", "/api/conversations",
                         json={"character_id": mature_character["id"]})
    assert response.status_code == 404
    assert teen.call("GET", "/api/conversations").get_json()["conversations"] == []
    adult = _account(app, "grownup2", ADULT_YEAR)
    assert adult.call("POST", "/api/conversations",
                      json={"character_id": mature_character["id"]}).status_code == 201


def test_a_minor_cannot_make_a_character_mature(app):
    teen = _account(app, "teen3", TEEN_YEAR)
    refused = teen.call("POST", "/api/characters", json={"name": "X", "content_rating": "mature"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "age_restricted"
    draft = teen.call("POST", "/api/characters", json={"name": "Y"}).get_json()["character"]
    edit = teen.call("PATCH", f"/api/characters/{draft['id']}", json={"content_rating": "mature"})
    assert edit.status_code == 403
    assert teen.call("GET", f"/api/characters/{draft['id']}").get_json()["character"][
        "content_rating"] == "sfw"
