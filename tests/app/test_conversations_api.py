"""Characters and conversations over REST, on SQLite and PostgreSQL."""
import pytest

from app import create_app
from tests.support.chat import add_turn

pytestmark = pytest.mark.both_databases


def test_character_list_shows_the_seeded_cast(client):
    characters = client.get("/api/characters").get_json()
    assert len(characters) >= 6
    assert {"id", "name", "tagline", "tags", "avatar_url"} <= set(characters[0])
    assert len({c["name"] for c in characters}) == len(characters)
    avatar = client.get(characters[0]["avatar_url"])
    assert avatar.status_code == 200 and avatar.data.startswith(b"\x89PNG")


def test_new_conversation_opens_with_the_greeting(auth):
    auth.signup("hana")
    conversation = auth.start_conversation(character_id=1)
    greeting = conversation["messages"][0]
    assert greeting["role"] == "assistant" and greeting["parent_id"] is None
    assert len(conversation["messages"]) == 1
    assert len(greeting["sibling_ids"]) == 3  # first_mes plus two alternate greetings


def test_greeting_fills_in_the_character_and_user_names(auth, client):
    auth.signup("ivy")
    character = client.get("/api/characters/2").get_json()["character"]
    greeting = auth.start_conversation(character_id=2)["messages"][0]["content"]
    assert "{{char}}" not in greeting and "{{user}}" not in greeting
    if "{{char}}" in character["first_mes"]:
        assert character["name"] in greeting


def test_conversation_with_an_unknown_character_is_a_404(auth):
    auth.signup()
    response = auth.call("POST", "/api/conversations", json={"character_id": 9999})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("body", [{}, {"character_id": "1"}, {"character_id": -3},
                                  {"character_id": True}, [1]])
def test_malformed_conversation_requests_are_a_clear_400(auth, body):
    auth.signup()
    response = auth.call("POST", "/api/conversations", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]
    assert auth.call("GET", "/api/conversations").get_json()["conversations"] == []


def test_someone_elses_conversation_is_invisible(app, auth):
    auth.signup("owner")
    conversation = auth.start_conversation()
    other = app.test_client()
    other.post("/api/auth/signup", json={"username": "snoop", "password": "password1"})
    assert other.get(f"/api/conversations/{conversation['id']}").status_code == 404
    assert other.get("/api/conversations").get_json()["conversations"] == []
    assert other.get(f"/chat/{conversation['id']}").status_code == 404


def test_conversations_survive_a_server_restart(app_config, app, auth, inference):
    auth.signup("julia")
    conversation = auth.start_conversation()
    add_turn(app, conversation["id"], "See you tomorrow!", "Until then.")
    restarted = create_app(app_config, inference=inference).test_client()
    restarted.post("/api/auth/login", json={"username": "julia", "password": "correct horse"})
    listed = restarted.get("/api/conversations").get_json()["conversations"]
    assert [c["id"] for c in listed] == [conversation["id"]]
    messages = restarted.get(f"/api/conversations/{conversation['id']}").get_json()[
        "conversation"]["messages"]
    assert [m["content"] for m in messages[1:]] == ["See you tomorrow!", "Until then."]


def test_editing_a_reply_changes_it_in_place(app, auth):
    auth.signup()
    conversation = auth.start_conversation()
    _, reply = add_turn(app, conversation["id"], "Hello", "Hi there.")
    response = auth.call("PATCH", f"/api/messages/{reply}", json={"content": "Well met."})
    assert response.status_code == 200
    messages = response.get_json()["conversation"]["messages"]
    assert messages[-1]["id"] == reply and messages[-1]["content"] == "Well met."
    assert messages[-1]["edited_at"] is not None


def test_editing_a_user_message_branches_and_keeps_the_original(app, auth):
    auth.signup()
    conversation = auth.start_conversation()
    question, _ = add_turn(app, conversation["id"], "Do you like tea?", "Very much.")
    response = auth.call("PATCH", f"/api/messages/{question}", json={"content": "Do you like coffee?"})
    messages = response.get_json()["conversation"]["messages"]
    edited = messages[-1]
    assert edited["content"] == "Do you like coffee?" and edited["role"] == "user"
    assert edited["sibling_ids"] == [question, edited["id"]]
    flipped = auth.call("POST", f"/api/messages/{question}/select").get_json()["conversation"]
    assert [m["content"] for m in flipped["messages"][1:]] == ["Do you like tea?", "Very much."]


def test_flipping_between_alternative_replies(app, auth):
    auth.signup()
    conversation = auth.start_conversation()
    question, first = add_turn(app, conversation["id"], "Tell me a joke", "Why did the crow...")
    second = add_turn(app, conversation["id"], None, "Knock knock.", parent_id=question)[1]
    shown = auth.call("GET", f"/api/conversations/{conversation['id']}").get_json()["conversation"]
    assert shown["messages"][-1]["id"] == second
    assert shown["messages"][-1]["sibling_ids"] == [first, second]
    back = auth.call("POST", f"/api/messages/{first}/select").get_json()["conversation"]
    assert back["messages"][-1]["content"] == "Why did the crow..."
    assert back["messages"][-1]["sibling_index"] == 0


def test_deleting_a_message_removes_it_and_what_follows(app, auth):
    auth.signup()
    conversation = auth.start_conversation()
    first_q, _ = add_turn(app, conversation["id"], "One", "Reply one")
    add_turn(app, conversation["id"], "Two", "Reply two")
    response = auth.call("DELETE", f"/api/messages/{first_q}")
    assert response.status_code == 200
    assert len(response.get_json()["conversation"]["messages"]) == 1
    assert auth.call("GET", f"/api/conversations/{conversation['id']}").get_json()[
        "conversation"]["messages"][0]["role"] == "assistant"


def test_the_greeting_cannot_be_deleted(auth):
    auth.signup()
    greeting = auth.start_conversation()["messages"][0]
    response = auth.call("DELETE", f"/api/messages/{greeting['id']}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "cannot_delete_greeting"


@pytest.mark.parametrize("content", ["", "   ", None, 5, "x" * 2001])
def test_bad_edits_are_refused_and_leave_the_message_alone(app, auth, content):
    auth.signup()
    conversation = auth.start_conversation()
    _, reply = add_turn(app, conversation["id"], "Hello", "Original")
    response = auth.call("PATCH", f"/api/messages/{reply}", json={"content": content})
    assert response.status_code == 400
    shown = auth.call("GET", f"/api/conversations/{conversation['id']}").get_json()["conversation"]
    assert shown["messages"][-1]["content"] == "Original"


def test_other_users_cannot_edit_or_delete_my_messages(app, auth):
    auth.signup("mine")
    conversation = auth.start_conversation()
    question, reply = add_turn(app, conversation["id"], "Secret", "Kept")
    other = app.test_client()
    csrf = other.post("/api/auth/signup", json={"username": "thief", "password": "password1"}
                      ).get_json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    assert other.patch(f"/api/messages/{reply}", json={"content": "x"}, headers=headers).status_code == 404
    assert other.delete(f"/api/messages/{question}", headers=headers).status_code == 404
    shown = auth.call("GET", f"/api/conversations/{conversation['id']}").get_json()["conversation"]
    assert [m["content"] for m in shown["messages"][1:]] == ["Secret", "Kept"]


def test_unknown_api_paths_answer_in_json(client):
    response = client.get("/api/nope")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
