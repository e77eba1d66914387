"""Creators' own drafts: create, edit and publish through the JSON API."""
import pytest

from characters.cards import parse_card_file

pytestmark = pytest.mark.both_databases

DRAFT = {"name": "Quill", "tagline": "A talking pen", "description": "{{char}} writes letters.",
         "first_mes": "Ink?", "alternate_greetings": ["Dip me."], "tags": ["writing"],
         "content_rating": "sfw", "character_book": {"entries": [
             {"keys": ["letter"], "content": "Quill's letters rhyme.", "enabled": True,
              "insertion_order": 1}]}}


def create(auth, body=DRAFT):
    return auth.call("POST", "/api/characters", json=body)


def test_a_new_draft_is_private_until_published(auth, client):
    auth.signup()
    response = create(auth)
    assert response.status_code == 201, response.get_json()
    draft = response.get_json()["character"]
    assert draft["visibility"] == "private" and draft["lorebook_entries"] == 1
    assert draft["id"] not in [c["id"] for c in client.get("/api/characters").get_json()]
    published = auth.call("POST", f"/api/characters/{draft['id']}/publish")
    assert published.status_code == 200
    assert published.get_json()["character"]["visibility"] == "public"
    assert draft["id"] in [c["id"] for c in client.get("/api/characters").get_json()]
    unlisted = auth.call("POST", f"/api/characters/{draft['id']}/publish",
                         json={"visibility": "unlisted"})
    assert unlisted.get_json()["character"]["visibility"] == "unlisted"
    private = auth.call("POST", f"/api/characters/{draft['id']}/unpublish")
    assert private.get_json()["character"]["visibility"] == "private"


def test_editing_changes_only_the_given_fields_and_exports(auth):
    auth.signup()
    draft = create(auth).get_json()["character"]
    response = auth.call("PATCH", f"/api/characters/{draft['id']}",
                         json={"personality": "fussy", "tags": ["pen", "letters"]})
    assert response.status_code == 200
    edited = response.get_json()["character"]
    assert edited["personality"] == "fussy" and edited["tags"] == ["pen", "letters"]
    assert edited["description"] == DRAFT["description"]
    exported = auth.call("GET", f"/api/characters/{draft['id']}/export?format=json&spec=v3")
    card = parse_card_file(exported.data)[0]
    assert card.personality == "fussy"
    assert card.extensions["kindred/profile"] == {"tagline": "A talking pen"}


@pytest.mark.parametrize("body, code", [
    ({"name": ""}, "missing_name"),
    ({"name": "x" * 121}, "field_too_long"),
    ({"name": "ok", "colour": "blue"}, "unknown_field"),
    ({"name": "ok", "tags": "not a list"}, "bad_field"),
    ({"name": "ok", "content_rating": "nsfw-ish"}, "bad_field"),
    ({"name": "ok", "character_book": {"entries": "nope"}}, "bad_field"),
])
def test_bad_drafts_are_a_400_naming_the_problem(auth, body, code):
    auth.signup()
    response = create(auth, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_only_the_creator_can_edit_or_publish(app, auth):
    auth.signup()
    draft = create(auth).get_json()["character"]
    auth.call("POST", "/api/auth/logout")
    auth.signup()
    assert auth.call("PATCH", f"/api/characters/{draft['id']}",
                     json={"name": "Mine now"}).status_code == 404
    assert auth.call("POST", f"/api/characters/{draft['id']}/publish").status_code == 404
    assert auth.call("PATCH", "/api/characters/1", json={"name": "Seeded"}).status_code == 404


def test_publish_rejects_private_as_a_target(auth):
    auth.signup()
    draft = create(auth).get_json()["character"]
    response = auth.call("POST", f"/api/characters/{draft['id']}/publish",
                         json={"visibility": "private"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_visibility"
