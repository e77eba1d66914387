"""Remixing characters: a private draft copy that always says where it came from, its lineage,
the creator's switch that turns remixing off, and what the original creator's dashboard shows.
Bad input is a 4xx and stores nothing."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import session_scope, utcnow
from characters.models import Character, CharacterCommunity, CharacterRemix
from tests.moderation.conftest import Person
from tests.support.users import update_user

pytestmark = pytest.mark.both_databases

DRAFT = {"name": "Quill", "tagline": "A talking pen", "description": "{{char}} writes letters.",
         "personality": "fussy", "first_mes": "Ink?", "tags": ["writing"],
         "extensions": {"colour": "blue"},
         "character_book": {"entries": [{"keys": ["letter"], "content": "Quill's letters rhyme.",
                                         "enabled": True, "insertion_order": 1}]}}


@pytest.fixture
def app_config(app_config):
    app_config.EMBED_ON_PUBLISH = False  # no embedding thread per publish
    return app_config


@pytest.fixture
def creator(app):
    return Person(app)


@pytest.fixture
def fan(app):
    return Person(app)


def published(person, visibility="public", **fields):
    draft = person.call("POST", "/api/characters", json={**DRAFT, **fields}).get_json()
    answer = person.call("POST", f"/api/characters/{draft['character']['id']}/publish",
                         json={"visibility": visibility})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["character"]


def remix(person, character_id, status=201):
    answer = person.call("POST", f"/api/characters/{character_id}/remix")
    assert answer.status_code == status, answer.get_json()
    return answer.get_json()


def count(app, model, *where):
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(sa.select(sa.func.count()).select_from(model).where(*where)).scalar()


def test_a_remix_is_a_private_copy_owned_by_the_remixer_saying_where_it_came_from(
        app, creator, fan, client):
    original = published(creator)
    copy = remix(fan, original["id"])["character"]
    assert copy["id"] != original["id"] and copy["visibility"] == "private"
    assert copy["creator"] == fan.username
    for field in ("name", "tagline", "description", "personality", "first_mes", "tags"):
        assert copy[field] == original[field]
    assert copy["lorebook_entries"] == 1
    assert copy["remixed_from"] == {"parent_id": original["id"], "name": "Quill",
                                    "creator": creator.username,
                                    "label": f"remixed from Quill by {creator.username}"}
    assert copy["allow_remix"] is True and copy["community_replies"] is False
    mine = fan.call("GET", "/api/me/characters").get_json()["characters"]
    assert [c["id"] for c in mine] == [copy["id"]]
    assert copy["id"] not in [c["id"] for c in client.get("/api/characters").get_json()]
    assert creator.call("GET", f"/api/characters/{copy['id']}").status_code == 404
    # the remixer edits their copy; the original does not change
    fan.call("PATCH", f"/api/characters/{copy['id']}", json={"personality": "cheerful"})
    assert creator.call("GET", f"/api/characters/{original['id']}").get_json()[
        "character"]["personality"] == "fussy"


def test_the_attribution_stays_after_the_copy_and_the_parent_are_renamed(creator, fan):
    original = published(creator)
    copy = remix(fan, original["id"])["character"]
    fan.call("PATCH", f"/api/characters/{copy['id']}", json={"name": "Inkwell",
                                                             "creator": "someone else"})
    creator.call("PATCH", f"/api/characters/{original['id']}", json={"name": "Quill II"})
    shown = fan.call("GET", f"/api/characters/{copy['id']}").get_json()["character"]
    assert shown["name"] == "Inkwell"
    assert shown["remixed_from"]["label"] == f"remixed from Quill by {creator.username}"
    studio = fan.call("GET", f"/api/characters/{copy['id']}/studio").get_json()["character"]
    assert studio["remixed_from"]["parent_id"] == original["id"]


def test_lineage_lists_ancestors_nearest_first_and_hides_private_descendants(app, creator, fan,
                                                                             client):
    original = published(creator)
    child = remix(fan, original["id"])["character"]
    fan.call("POST", f"/api/characters/{child['id']}/publish")
    third = Person(app)
    grandchild = remix(third, child["id"])["character"]  # stays a private draft

    lineage = third.call("GET", f"/api/characters/{grandchild['id']}/lineage").get_json()
    assert lineage["ancestors"] == [
        {"id": child["id"], "name": "Quill", "creator": fan.username, "available": True},
        {"id": original["id"], "name": "Quill", "creator": creator.username, "available": True}]
    assert lineage["descendants"] == [] and lineage["descendant_count"] == 0

    seen_by_anyone = client.get(f"/api/characters/{original['id']}/lineage").get_json()
    assert seen_by_anyone["ancestors"] == []
    assert [(d["id"], d["parent_id"], d["depth"]) for d in seen_by_anyone["descendants"]] == [
        (child["id"], original["id"], 1)]
    assert seen_by_anyone["descendant_count"] == 2  # the private draft counted, not shown
    seen_by_its_owner = third.call("GET", f"/api/characters/{original['id']}/lineage").get_json()
    assert [d["id"] for d in seen_by_its_owner["descendants"]] == [child["id"], grandchild["id"]]

    # a parent made private is still named, without its id
    fan.call("POST", f"/api/characters/{child['id']}/unpublish")
    lineage = third.call("GET", f"/api/characters/{grandchild['id']}/lineage").get_json()
    assert lineage["ancestors"][0] == {"id": None, "name": "Quill", "creator": fan.username,
                                       "available": False}
    assert lineage["ancestors"][1]["id"] == original["id"]


def test_the_original_creator_sees_remixes_on_the_dashboard(creator, fan):
    original = published(creator)
    public_remix = remix(fan, original["id"])["character"]
    fan.call("POST", f"/api/characters/{public_remix['id']}/publish")
    remix(fan, original["id"])  # a private draft: counted only
    stats = creator.call("GET", f"/api/characters/{original['id']}/stats").get_json()
    assert stats["remixes"]["count"] == 2 and stats["remixes"]["direct"] == 2
    assert [r["id"] for r in stats["remixes"]["recent"]] == [public_remix["id"]]
    assert stats["totals"]["likes"] == 0  # the rest of the dashboard is still there


def test_creators_turn_remixing_off_and_then_the_endpoint_refuses(app, creator, fan):
    original = published(creator)
    answer = creator.call("PATCH", f"/api/characters/{original['id']}",
                          json={"allow_remix": False})
    assert answer.status_code == 200 and answer.get_json()["character"]["allow_remix"] is False
    before = count(app, Character)
    refused = remix(fan, original["id"], status=403)
    assert refused["error"]["code"] == "no_remix"
    assert count(app, Character) == before
    assert fan.call("GET", "/api/me/characters").get_json()["characters"] == []
    remix(creator, original["id"])  # its creator may still copy their own
    creator.call("PATCH", f"/api/characters/{original['id']}", json={"allow_remix": True})
    remix(fan, original["id"])


def test_settings_edit_alone_or_with_card_fields_and_bad_values_store_nothing(app, creator,
                                                                              fan):
    original = published(creator)
    both = creator.call("PATCH", f"/api/characters/{original['id']}",
                        json={"community_replies": True, "tagline": "Now social"})
    shown = both.get_json()["character"]
    assert shown["community_replies"] is True and shown["tagline"] == "Now social"
    assert shown["allow_remix"] is True  # untouched
    for body, code in [({"allow_remix": "no"}, "bad_field"),
                       ({"community_replies": 1}, "bad_field"),
                       ({"allow_remix": False, "tagline": "x" * 201}, "field_too_long"),
                       ({"allow_remix": False, "colour": "red"}, "unknown_field")]:
        answer = creator.call("PATCH", f"/api/characters/{original['id']}", json=body)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == code, body
    shown = creator.call("GET", f"/api/characters/{original['id']}").get_json()["character"]
    assert shown["allow_remix"] is True and shown["tagline"] == "Now social"
    stranger = fan.call("PATCH", f"/api/characters/{original['id']}",
                        json={"allow_remix": False})
    assert stranger.status_code == 404
    assert count(app, CharacterCommunity, CharacterCommunity.allow_remix.is_(False)) == 0


def test_what_cannot_be_seen_or_done_is_refused_and_stores_nothing(app, creator, fan, client):
    private = creator.call("POST", "/api/characters", json=DRAFT).get_json()["character"]
    before = count(app, Character)
    assert remix(fan, private["id"], status=404)["error"]["code"] == "not_found"
    assert remix(fan, 999_999, status=404)["error"]["code"] == "not_found"
    assert fan.call("GET", f"/api/characters/{private['id']}/lineage").status_code == 404
    assert client.post("/api/characters/1/remix").status_code in (401, 403)  # signed out
    update_user(app.extensions["kindred.db"], creator.username, birth_year=utcnow().year - 30)
    mature = published(creator, content_rating="mature")
    assert remix(fan, mature["id"], status=404)["error"]["code"] == "not_found"  # no birth year
    update_user(app.extensions["kindred.db"], fan.username,
                suspended_until=utcnow() + timedelta(days=1))
    assert remix(fan, 1, status=403)["error"]["code"] == "suspended"
    assert count(app, Character) == before + 1  # only the creator's mature character
    assert count(app, CharacterRemix) == 0


def test_a_seeded_character_can_be_remixed_and_names_kindred_as_its_creator(fan):
    copy = remix(fan, 1)["character"]
    assert copy["remixed_from"]["creator"] == "Kindred"
    assert copy["remixed_from"]["label"].startswith("remixed from ")
