"""A character made private while other users chat with it (issue 14, row 8): their chats stay
readable but cannot go on, and the prompt inspector no longer shows them the creator's lore.
Flask-SocketIO's test client and the tiny model, on both databases."""
import pytest
import sqlalchemy as sa

from conversations.models import Message
from core.db import session_scope
from core.extensions import socketio
from tests.conftest import AuthActions
from tests.support.events import collect_until, payloads

pytestmark = pytest.mark.both_databases

LORE = "Quill's letters rhyme in secret."
DRAFT = {"name": "Quill", "tagline": "A talking pen", "description": "{{char}} writes letters "
         "by moonlight.", "first_mes": "Ink?", "tags": ["writing"],
         "character_book": {"entries": [{"keys": ["letter"], "content": LORE,
                                         "enabled": True, "insertion_order": 1}]}}


@pytest.fixture(autouse=True)
def no_embedding_threads(app):
    app.config["EMBED_ON_PUBLISH"] = False


@pytest.fixture
def creator(app, client):
    creator = AuthActions(client)
    creator.signup()
    return creator


@pytest.fixture
def reader(app):
    """Another user, with a socket of their own."""
    reader = AuthActions(app.test_client())
    reader.signup()
    reader.sio = socketio.test_client(app, flask_test_client=reader.client)
    yield reader
    if reader.sio.is_connected():
        reader.sio.disconnect()


def unlisted_character(creator) -> int:
    draft = creator.call("POST", "/api/characters", json=DRAFT).get_json()["character"]
    published = creator.call("POST", f"/api/characters/{draft['id']}/publish",
                             json={"visibility": "unlisted"})
    assert published.status_code == 200, published.get_json()
    return draft["id"]


def make_private(creator, character_id: int) -> None:
    response = creator.call("POST", f"/api/characters/{character_id}/unpublish")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["character"]["visibility"] == "private"


def chat(user, conversation_id: int, content: str) -> dict:
    user.sio.emit("chat:send", {"conversation_id": conversation_id, "content": content})
    events = collect_until(user.sio)
    assert payloads(events, "chat:done"), [e["name"] for e in events]
    return payloads(events, "chat:done")[0]["message"]


def stored_messages(app, conversation_id: int) -> list[tuple[str, str, str]]:
    with session_scope(app.extensions["kindred.db"]) as session:
        rows = session.exec(sa.select(Message.role, Message.content, Message.status)
                            .where(Message.conversation_id == conversation_id)
                            .order_by(Message.id)).all()
        return [tuple(row) for row in rows]


def test_a_chat_with_a_character_made_private_can_be_read_but_not_continued(app, creator,
                                                                            reader):
    character_id = unlisted_character(creator)
    conversation = reader.start_conversation(character_id)
    chat(reader, conversation["id"], "Write me a letter")
    before = stored_messages(app, conversation["id"])

    make_private(creator, character_id)

    for event, payload in (("chat:send", {"content": "Another letter?"}),
                           ("chat:regenerate", {})):
        reader.sio.emit(event, {"conversation_id": conversation["id"], **payload})
        events = collect_until(reader.sio, names=("chat:error", "chat:done"), timeout=10)
        # the earlier reply's relationship:update may still arrive: only chat events count here
        chat_events = [e for e in events if e["name"].startswith("chat:")]
        assert [e["name"] for e in chat_events] == ["chat:error"], event
        error = chat_events[0]["args"][0]
        assert error["code"] == "character_unavailable" and "private" in error["message"]
        assert error["conversation_id"] == conversation["id"]
    assert stored_messages(app, conversation["id"]) == before

    shown = reader.call("GET", f"/api/conversations/{conversation['id']}")
    assert shown.status_code == 200
    assert [m["content"] for m in shown.get_json()["conversation"]["messages"]] == [
        content for _role, content, _status in before]
    listed = reader.call("GET", "/api/conversations").get_json()["conversations"]
    assert conversation["id"] in [c["id"] for c in listed]


def test_the_inspector_hides_a_private_characters_lore_from_everyone_but_its_creator(
        app, creator, reader):
    character_id = unlisted_character(creator)
    conversation = reader.start_conversation(character_id)
    reply = chat(reader, conversation["id"], "Write me a letter")
    while_unlisted = reader.call("GET", f"/api/messages/{reply['id']}/prompt").get_json()["prompt"]
    assert [e["content"] for e in while_unlisted["lore_entries"]] == [LORE]
    assert while_unlisted["redacted"] is False

    make_private(creator, character_id)

    response = reader.call("GET", f"/api/messages/{reply['id']}/prompt")
    assert response.status_code == 200
    assert "rhyme" not in response.get_data(as_text=True)
    redacted = response.get_json()["prompt"]
    assert redacted["redacted"] is True and redacted["lore_entries"] == []
    assert redacted["parts"] == while_unlisted["parts"]  # the counts of the reader's own chat
    assert redacted["history_turns"] == while_unlisted["history_turns"]

    full = creator.call("GET", f"/api/messages/{reply['id']}/prompt").get_json()["prompt"]
    assert [e["content"] for e in full["lore_entries"]] == [LORE] and full["redacted"] is False
    stranger = AuthActions(app.test_client())
    stranger.signup()
    assert stranger.call("GET", f"/api/messages/{reply['id']}/prompt").status_code == 404


def test_the_creator_still_chats_with_their_private_character_and_publishing_again_reopens(
        app, creator, reader):
    character_id = unlisted_character(creator)
    theirs = reader.start_conversation(character_id)
    make_private(creator, character_id)
    creator.sio = socketio.test_client(app, flask_test_client=creator.client)
    try:
        mine = creator.start_conversation(character_id)
        reply = chat(creator, mine["id"], "Write me a letter")
        report = creator.call("GET", f"/api/messages/{reply['id']}/prompt").get_json()["prompt"]
        assert [e["content"] for e in report["lore_entries"]] == [LORE]
    finally:
        creator.sio.disconnect()
    refused = reader.call("POST", "/api/conversations", json={"character_id": character_id})
    assert refused.status_code == 404

    creator.call("POST", f"/api/characters/{character_id}/publish", json={"visibility": "unlisted"})
    assert chat(reader, theirs["id"], "Back again")["role"] == "assistant"
