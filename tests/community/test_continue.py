"""Continuing a shared chat: POST /api/posts/<id>/continue starts the reader's own conversation
with the post's character, seeded with the exchange the post shows, and the reader carries on
from there. What cannot be continued is a clear 4xx and stores no conversation."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conversations.models import Conversation, Message
from core.db import session_scope, utcnow
from core.extensions import socketio
from tests.moderation.conftest import Person
from tests.support.chat import add_turn
from tests.support.events import collect_until, payloads
from tests.support.users import update_user

SHARED_CHARACTER = 1  # one of the seeded cast


@pytest.fixture
def sharer(app):
    return Person(app)


@pytest.fixture
def reader(app, client, auth):
    auth.signup()
    return auth


def shared_chat(app, sharer, turns, character_id=SHARED_CHARACTER):
    """A chat post of `sharer` showing `turns` [(user text | None, reply)], and its lines."""
    conversation = sharer.auth.start_conversation(character_id)
    ids = []
    for user_text, reply in turns:
        question, answer = add_turn(app, conversation["id"], user_text, reply)
        ids += [i for i in (question, answer) if i is not None]
    answer = sharer.call("POST", "/api/posts", json={"kind": "chat", "body": "Look at this",
                                                     "conversation_id": conversation["id"],
                                                     "message_ids": ids})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["post"]


def conversations_count(app):
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(sa.select(sa.func.count()).select_from(Conversation)).scalar()


@pytest.mark.both_databases
def test_the_reader_gets_their_own_chat_holding_the_shared_exchange(app, sharer, reader):
    post = shared_chat(app, sharer, [("I found a map under the floor.", "Then we follow it.")])
    answer = reader.call("POST", f"/api/posts/{post['id']}/continue")
    assert answer.status_code == 201, answer.get_json()
    conversation = answer.get_json()["conversation"]
    assert conversation["character_id"] == SHARED_CHARACTER
    contents = [(m["role"], m["content"]) for m in conversation["messages"]]
    # the exchange opened with a person's line, so the card's greeting comes first
    assert contents[1:] == [("user", "I found a map under the floor."),
                            ("assistant", "Then we follow it.")]
    assert contents[0][0] == "assistant" and contents[0][1]
    mine = reader.call("GET", f"/api/conversations/{conversation['id']}")
    assert mine.status_code == 200
    assert mine.get_json()["conversation"]["messages"] == conversation["messages"]
    assert sharer.call("GET", f"/api/conversations/{conversation['id']}").status_code == 404
    listed = reader.call("GET", "/api/conversations").get_json()["conversations"]
    assert [c["id"] for c in listed] == [conversation["id"]]


def test_an_exchange_opening_with_the_character_starts_the_chat_itself(app, sharer, reader):
    post = shared_chat(app, sharer, [(None, "The lighthouse is dark tonight."),
                                     ("Who put it out?", "Someone who wanted ships lost.")])
    conversation = reader.call("POST", f"/api/posts/{post['id']}/continue").get_json()[
        "conversation"]
    assert [(m["role"], m["content"]) for m in conversation["messages"]] == [
        ("assistant", "The lighthouse is dark tonight."), ("user", "Who put it out?"),
        ("assistant", "Someone who wanted ships lost.")]
    assert conversation["messages"][0]["parent_id"] is None


def test_what_was_masked_in_the_post_stays_masked_in_the_continued_chat(app, sharer, reader):
    post = shared_chat(app, sharer, [("Write to me at ada.lovelace@example.com",
                                      "I will send a raven.")])
    conversation = reader.call("POST", f"/api/posts/{post['id']}/continue").get_json()[
        "conversation"]
    text = " ".join(m["content"] for m in conversation["messages"])
    assert "ada.lovelace@example.com" not in text
    assert post["excerpt"][0]["content"] in text


def test_the_reader_carries_on_and_the_character_answers(app, sharer, reader, client):
    post = shared_chat(app, sharer, [("Shall we open the door?", "Slowly. It creaks.")])
    conversation = reader.call("POST", f"/api/posts/{post['id']}/continue").get_json()[
        "conversation"]
    sio = socketio.test_client(app, flask_test_client=client)
    try:
        sio.emit("chat:send", {"conversation_id": conversation["id"], "content": "I push it."})
        events = collect_until(sio)
    finally:
        sio.disconnect()
    assert payloads(events, "chat:done"), [e["name"] for e in events]
    with session_scope(app.extensions["kindred.db"]) as session:
        roles = [m.role for m in session.exec(sa.select(Message).where(
            Message.conversation_id == conversation["id"]).order_by(Message.id)).scalars()]
    assert roles == ["assistant", "user", "assistant", "user", "assistant"]


def test_posts_that_cannot_be_continued_are_refused_and_store_no_conversation(app, sharer,
                                                                              reader, client):
    chat = shared_chat(app, sharer, [("Hello?", "Hello.")])
    text = sharer.call("POST", "/api/posts", json={"kind": "text", "body": "Just words"})
    about = sharer.call("POST", "/api/posts", json={"kind": "character",
                                                    "character_id": SHARED_CHARACTER})
    before = conversations_count(app)
    for post_id, status, code in [(text.get_json()["post"]["id"], 422, "nothing_to_continue"),
                                  (about.get_json()["post"]["id"], 422, "nothing_to_continue"),
                                  (999_999, 404, "not_found")]:
        answer = reader.call("POST", f"/api/posts/{post_id}/continue")
        assert answer.status_code == status and answer.get_json()["error"]["code"] == code
    sharer.call("DELETE", f"/api/posts/{chat['id']}")
    deleted = reader.call("POST", f"/api/posts/{chat['id']}/continue")
    assert deleted.status_code == 404
    signed_out = app.test_client().post(f"/api/posts/{chat['id']}/continue")
    assert signed_out.status_code in (401, 403)
    assert conversations_count(app) == before


def test_a_suspended_reader_cannot_continue_a_chat(app, sharer, reader):
    post = shared_chat(app, sharer, [("Hello?", "Hello.")])
    update_user(app.extensions["kindred.db"], reader.username,
                suspended_until=utcnow() + timedelta(days=2))
    before = conversations_count(app)
    answer = reader.call("POST", f"/api/posts/{post['id']}/continue")
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "suspended"
    assert conversations_count(app) == before


def test_a_character_made_private_after_the_post_cannot_be_continued(app, reader):
    creator = Person(app)
    made = creator.call("POST", "/api/characters", json={"name": "Wren", "first_mes": "Hi."})
    character_id = made.get_json()["character"]["id"]
    creator.call("POST", f"/api/characters/{character_id}/publish")
    post = shared_chat(app, creator, [("Sing?", "La la.")], character_id=character_id)
    creator.call("POST", f"/api/characters/{character_id}/unpublish")
    before = conversations_count(app)
    answer = reader.call("POST", f"/api/posts/{post['id']}/continue")
    assert answer.status_code == 404
    assert conversations_count(app) == before
