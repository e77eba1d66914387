"""Bounded input (hardening, rows 2-7): bodies are limited in size and depth, text must be
storable, ids outside the database's range are 404s, and a body that is not JSON changes
nothing. Each test sends what the attacker sent and asserts the safe answer."""
import io
import json
import os

import pytest
from PIL import Image
from sqlmodel import func, select

from characters.models import Character
from conversations.models import Message
from core.db import session_scope

pytestmark = pytest.mark.both_databases

HUGE_ID = 2**63  # past SQLite's 64-bit ids; 2**31 is already past PostgreSQL's INTEGER


def _count(app, model) -> int:
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _draft(auth, **fields) -> dict:
    response = auth.call("POST", "/api/characters", json={"name": "Bounded", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["character"]


def _stored(app, character_id: int) -> Character:
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.get(Character, character_id)


def _error(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    return response.get_json()["error"]["code"]


# Row 2: a 50 MB body is refused before it is read, logged in or not.
def test_a_huge_body_is_a_413_before_anything_is_read(app, client, auth):
    huge = b'{"username": "' + b"x" * (50 * 2**20) + b'"}'
    response = client.post("/api/auth/login", data=huge, content_type="application/json")
    assert _error(response, 413) == "request_entity_too_large"

    auth.signup()
    message_id = auth.start_conversation()["messages"][0]["id"]
    edit = auth.call("PATCH", f"/api/messages/{message_id}", data=huge,
                     content_type="application/json")
    assert _error(edit, 413) == "request_entity_too_large"


def test_uploads_keep_their_own_larger_limit(app, auth):
    auth.signup()
    character = _draft(auth)
    buffer = io.BytesIO()  # noise does not compress: a real PNG of about 3 MB
    Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(buffer, "PNG")
    image = buffer.getvalue()
    assert len(image) > app.config["MAX_CONTENT_LENGTH"]
    response = auth.call("POST", f"/api/characters/{character['id']}/avatar",
                         data={"file": (io.BytesIO(image), "big.png")},
                         content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()


# Row 3: lists and objects on a card are bounded, on edit and on import.
@pytest.mark.parametrize("field, value", [
    ("alternate_greetings", ["g"] * 101),
    ("tags", ["t"] * 100_000),
    ("tags", ["a" * 101]),
    ("extensions", {f"k{i}": 1 for i in range(201)}),
    ("character_book", {"entries": [{}] * 50_000}),
])
def test_oversized_card_fields_are_refused_and_change_nothing(app, auth, field, value):
    auth.signup()
    character = _draft(auth)
    response = auth.call("PATCH", f"/api/characters/{character['id']}", json={field: value})
    assert _error(response, 400) in ("too_many_items", "field_too_long")
    stored = _stored(app, character["id"])
    assert getattr(stored, field) in ([], {}, None)


def test_more_extension_keys_than_a_body_can_carry_is_a_413(auth):
    auth.signup()
    character = _draft(auth)
    response = auth.call("PATCH", f"/api/characters/{character['id']}",
                         json={"extensions": {f"k{i}": 1 for i in range(200_000)}})
    assert _error(response, 413) == "request_entity_too_large"


def test_an_imported_card_with_too_many_greetings_is_refused(app, auth):
    auth.signup()
    before = _count(app, Character)
    card = {"spec": "chara_card_v2", "spec_version": "2.0",
            "data": {"name": "Greeter", "first_mes": "Hi", "alternate_greetings": ["g"] * 5000}}
    response = auth.call("POST", "/api/characters/import",
                         data={"file": (io.BytesIO(json.dumps(card).encode()),
                                        "greeter.json")},
                         content_type="multipart/form-data")
    assert _error(response, 400) == "too_many_items"
    assert _count(app, Character) == before


def test_a_card_at_the_greeting_limit_opens_a_bounded_conversation(app, auth):
    auth.signup()
    character = _draft(auth, first_mes="Hello", alternate_greetings=[f"g{i}" for i in range(100)])
    assert auth.call("POST", f"/api/characters/{character['id']}/publish").status_code == 200
    before = _count(app, Message)
    conversation = auth.call("POST", "/api/conversations",
                             json={"character_id": character["id"]})
    assert conversation.status_code == 201
    assert _count(app, Message) - before == 101


# Row 4: a lone surrogate is a 400 bad_text everywhere, and nothing is stored.
SURROGATE = "a\ud800b"


def test_a_lone_surrogate_is_refused_on_every_text_route(app, client, auth):
    assert _error(client.post("/api/auth/login", json={"username": SURROGATE,
                                                       "password": "password1"}), 400) == "bad_text"
    assert _error(client.post("/api/auth/signup", json={"username": SURROGATE,
                                                        "password": "password1"}), 400) == "bad_text"
    auth.signup()
    characters = _count(app, Character)
    assert _error(auth.call("POST", "/api/characters", json={"name": SURROGATE}), 400) == "bad_text"
    assert _count(app, Character) == characters
    character = _draft(auth)
    assert _error(auth.call("PATCH", f"/api/characters/{character['id']}",
                            json={"description": SURROGATE}), 400) == "bad_text"
    assert _error(auth.call("PATCH", f"/api/characters/{character['id']}",
                            json={"extensions": {SURROGATE: 1}}), 400) == "bad_text"
    assert _stored(app, character["id"]).description == ""
    message = auth.start_conversation()["messages"][0]
    assert _error(auth.call("PATCH", f"/api/messages/{message['id']}",
                            json={"content": SURROGATE}), 400) == "bad_text"
    assert _error(auth.call("PATCH", "/api/memories/1", json={"content": SURROGATE}),
                  400) == "bad_text"
    assert _error(auth.call("PUT", "/api/me/interests", json={"tags": [SURROGATE]}),
                  400) == "bad_text"
    assert _error(auth.call("GET", "/api/search?q=a%00b"), 400) == "bad_text"
    with session_scope(app.extensions["kindred.db"]) as session:
        assert session.get(Message, message["id"]).content == message["content"]


def test_a_card_file_holding_a_lone_surrogate_is_refused(app, auth):
    auth.signup()
    before = _count(app, Character)
    text = '{"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "a\\ud800b"}}'
    response = auth.call("POST", "/api/characters/import",
                         data={"file": (io.BytesIO(text.encode()), "bad.json")},
                         content_type="multipart/form-data")
    assert _error(response, 400) == "bad_text"
    assert _count(app, Character) == before


# Row 5: ids past the database's range (PostgreSQL's INTEGER, 2^31 - 1) are 404s on every route
# that takes one.
def test_ids_past_the_database_range_are_404s_on_every_route(app, client, auth):
    auth.signup()
    routes = [rule for rule in app.url_map.iter_rules()
              if any(type(conv).__name__ == "DatabaseIdConverter"
                     for conv in rule._converters.values())]
    assert len(routes) >= 30
    for rule in routes:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for huge in (str(2**31), str(HUGE_ID), "9" * 5000):
                path = rule.rule
                for name in rule.arguments:
                    path = path.replace(f"<int:{name}>", huge)
                path = path.replace("<any(follow, like):kind>", "like")
                response = auth.call(method, path, json={})
                assert response.status_code == 404, (method, path[:80], response.status_code)
    anonymous = app.test_client().get(f"/api/characters/{HUGE_ID}")
    assert _error(anonymous, 404) == "not_found"


# Row 6: a body nested 10,000 deep is too_deep, not a RecursionError.
@pytest.mark.parametrize("depth", [33, 10_000])
def test_a_deeply_nested_body_is_too_deep(app, auth, depth):
    auth.signup()
    character = _draft(auth)
    body = '{"extensions": {"x": ' + "[" * depth + "]" * depth + "}}"
    response = auth.call("PATCH", f"/api/characters/{character['id']}", data=body,
                         content_type="application/json")
    assert _error(response, 400) == "too_deep"
    assert _stored(app, character["id"]).extensions == {}


# Row 7: a publish whose body is broken or form-encoded publishes nothing.
@pytest.mark.parametrize("data, content_type", [
    ('{"visibility": "unlisted"', "application/json"),
    ("visibility=unlisted", "application/x-www-form-urlencoded"),
    ('{"visibility": "unlisted"}', "text/plain"),
    ("[1, 2]", "application/json"),
])
def test_a_publish_with_a_broken_body_changes_nothing(app, auth, data, content_type):
    auth.signup()
    character = _draft(auth)
    response = auth.call("POST", f"/api/characters/{character['id']}/publish", data=data,
                         content_type=content_type)
    assert _error(response, 400) in ("bad_json", "bad_request")
    assert _stored(app, character["id"]).visibility == "private"


def test_a_publish_without_a_body_still_publishes_public(app, auth):
    auth.signup()
    character = _draft(auth)
    assert auth.call("POST", f"/api/characters/{character['id']}/publish").status_code == 200
    assert _stored(app, character["id"]).visibility == "public"
