"""Chat over Socket.IO with the Flask-SocketIO test client and the tiny model, on both databases."""
import pytest

from core.extensions import socketio
from tests.support.chat import add_turn
from tests.support.events import collect_until, payloads

pytestmark = pytest.mark.both_databases


def _messages(auth, conversation_id):
    return auth.call("GET", f"/api/conversations/{conversation_id}").get_json()[
        "conversation"]["messages"]


def test_connecting_without_logging_in_is_refused(app):
    sio = socketio.test_client(app, flask_test_client=app.test_client())
    assert not sio.is_connected()


def test_a_reply_streams_in_and_is_stored(socket_client, auth):
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hello!"})
    events = collect_until(socket_client)
    assert events[0]["name"] == "chat:message"
    user_message = events[0]["args"][0]["message"]
    assert user_message["content"] == "Hello!" and user_message["role"] == "user"
    tokens = payloads(events, "chat:token")
    assert len(tokens) > 1
    done = payloads(events, "chat:done")[0]
    assert done["stopped"] is False
    assert done["message"]["content"] == "".join(t["text"] for t in tokens).strip()
    assert {t["message_id"] for t in tokens} == {done["message"]["id"]}
    stored = _messages(auth, conversation["id"])
    assert [m["role"] for m in stored] == ["assistant", "user", "assistant"]
    assert stored[-1]["content"] == done["message"]["content"]
    assert stored[-1]["status"] == "complete" and stored[-1]["parent_id"] == user_message["id"]


def test_stop_keeps_the_partial_reply(app, socket_client, auth):
    app.config["MAX_NEW_TOKENS"] = 1500
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Talk a lot"})
    collect_until(socket_client, names=("chat:token",))
    socket_client.emit("chat:stop", {"conversation_id": conversation["id"]})
    events = collect_until(socket_client)
    done = payloads(events, "chat:done")[0]
    assert done["stopped"] is True and done["stop_reason"] == "user"
    assert 0 < done["tokens"] < 1500
    stored = _messages(auth, conversation["id"])[-1]
    assert stored["status"] == "stopped" and stored["content"] == done["message"]["content"]


def test_sending_while_a_reply_streams_is_refused_and_stores_nothing(app, socket_client, auth):
    app.config["MAX_NEW_TOKENS"] = 1500
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "First"})
    collect_until(socket_client, names=("chat:token",))
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Second"})
    error = payloads(collect_until(socket_client, names=("chat:error",)), "chat:error")[0]
    assert error["code"] == "busy"
    busy_edit = auth.call("PATCH", f"/api/messages/{conversation['messages'][0]['id']}",
                          json={"content": "changed"})
    assert busy_edit.status_code == 409
    socket_client.emit("chat:stop", {"conversation_id": conversation["id"]})
    collect_until(socket_client, names=("chat:done",))
    contents = [m["content"] for m in _messages(auth, conversation["id"]) if m["role"] == "user"]
    assert contents == ["First"]


@pytest.mark.parametrize("payload, code", [
    ({"content": ""}, "empty_message"),
    ({"content": "   \n "}, "empty_message"),
    ({"content": None}, "empty_message"),
    ({"content": "x" * 2001}, "message_too_long"),
    ({"conversation_id": "1", "content": "hi"}, "not_found"),
    ({"conversation_id": 10**6, "content": "hi"}, "not_found"),
    ("just a string", "bad_payload"),
    (None, "bad_payload"),
])
def test_bad_messages_get_a_chat_error_and_change_nothing(socket_client, auth, payload, code):
    conversation = auth.start_conversation()
    if isinstance(payload, dict):
        payload = {"conversation_id": conversation["id"], **payload}
    socket_client.emit("chat:send", payload)
    error = payloads(collect_until(socket_client, names=("chat:error",), timeout=10), "chat:error")[0]
    assert error["code"] == code and error["message"]
    assert len(_messages(auth, conversation["id"])) == 1


def test_another_users_conversation_cannot_be_used(app, socket_client, auth):
    conversation = auth.start_conversation()
    intruder = app.test_client()
    intruder.post("/api/auth/signup", json={"username": "intruder", "password": "password1"})
    other = socketio.test_client(app, flask_test_client=intruder)
    for event in ("chat:send", "chat:join", "chat:regenerate", "chat:stop"):
        other.emit(event, {"conversation_id": conversation["id"], "content": "boo"})
        error = payloads(collect_until(other, names=("chat:error",), timeout=10), "chat:error")[0]
        assert error["code"] == "not_found"
    assert len(_messages(auth, conversation["id"])) == 1
    other.disconnect()


def test_regenerate_keeps_earlier_replies_as_alternatives(socket_client, auth):
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hi"})
    first = payloads(collect_until(socket_client), "chat:done")[0]["message"]
    socket_client.emit("chat:regenerate", {"conversation_id": conversation["id"]})
    second = payloads(collect_until(socket_client), "chat:done")[0]["message"]
    assert second["id"] != first["id"] and second["parent_id"] == first["parent_id"]
    assert second["sibling_ids"] == [first["id"], second["id"]]
    shown = _messages(auth, conversation["id"])
    assert shown[-1]["id"] == second["id"] and len(shown) == 3
    flipped = auth.call("POST", f"/api/messages/{first['id']}/select").get_json()["conversation"]
    assert flipped["messages"][-1]["content"] == first["content"]


def test_regenerate_with_nothing_to_answer_is_an_error(socket_client, auth):
    conversation = auth.start_conversation()
    socket_client.emit("chat:regenerate", {"conversation_id": conversation["id"]})
    error = payloads(collect_until(socket_client, names=("chat:error",)), "chat:error")[0]
    assert error["code"] == "nothing_to_regenerate"


def test_editing_a_user_message_then_regenerating_continues_from_the_edit(app, socket_client, auth):
    conversation = auth.start_conversation()
    question, _ = add_turn(app, conversation["id"], "Old question", "Old answer")
    edited = auth.call("PATCH", f"/api/messages/{question}", json={"content": "New question"}
                       ).get_json()["message"]
    socket_client.emit("chat:regenerate", {"conversation_id": conversation["id"]})
    reply = payloads(collect_until(socket_client), "chat:done")[0]["message"]
    assert reply["parent_id"] == edited["id"]
    shown = _messages(auth, conversation["id"])
    assert [m["content"] for m in shown[1:2]] == ["New question"] and shown[-1]["id"] == reply["id"]


def test_a_model_failure_mid_reply_reports_an_error_and_keeps_the_user_message(
        socket_client, auth, inference, monkeypatch):
    real_forward, calls = inference.runner.forward, {"n": 0}

    def failing_forward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 4:
            raise RuntimeError("simulated out-of-memory")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(inference.runner, "forward", failing_forward)
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Still here?"})
    events = collect_until(socket_client, names=("chat:error",))
    error = payloads(events, "chat:error")[0]
    assert error["code"] == "generation_failed"
    collect_until(socket_client, names=("chat:done",), timeout=10)
    stored = _messages(auth, conversation["id"])
    assert stored[1]["content"] == "Still here?" and stored[1]["role"] == "user"
    partial = "".join(t["text"] for t in payloads(events, "chat:token")).strip()
    assert stored[-1]["status"] == "error" and stored[-1]["content"] == partial
    monkeypatch.undo()
    socket_client.emit("chat:regenerate", {"conversation_id": conversation["id"]})
    assert payloads(collect_until(socket_client), "chat:done")[0]["message"]["status"] == "complete"


def test_one_message_announces_message_sent_prompt_built_and_reply_finished(app, socket_client,
                                                                          auth):
    import threading

    from core.event_types import MessageSent, PromptBuilt, ReplyFinished
    seen, finished_arrived = [], threading.Event()
    for event_type in (MessageSent, PromptBuilt, ReplyFinished):
        app.extensions["kindred.events"].subscribe(event_type, seen.append)
    app.extensions["kindred.events"].subscribe(ReplyFinished, lambda e: finished_arrived.set())
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hello!"})
    done = payloads(collect_until(socket_client), "chat:done")[0]
    assert finished_arrived.wait(30)  # published right after chat:done, in the reply's thread
    assert [type(e).__name__ for e in seen] == ["MessageSent", "PromptBuilt", "ReplyFinished"]
    sent, built, finished = seen
    assert sent.message_id == done["message"]["parent_id"] and sent.chars == len("Hello!")
    assert built.reply_id == finished.reply_id == done["message"]["id"]
    assert finished.finish_reason == done["finish_reason"] and finished.status == "complete"
    assert finished.tokens == done["tokens"] and finished.user_id == sent.user_id


def test_a_message_reads_the_history_in_one_query_however_long_the_chat(app, socket_client, auth):
    import threading

    import sqlalchemy as sa
    engine, here = app.extensions["kindred.db"], threading.get_ident()

    def message_reads(conversation_id):
        statements = []

        def count(_conn, _cursor, statement, *_args):
            if threading.get_ident() == here and statement.lstrip().upper().startswith("SELECT"):
                statements.append(statement)
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            socket_client.emit("chat:send", {"conversation_id": conversation_id, "content": "Hi"})
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        collect_until(socket_client)
        return [s for s in statements if "FROM messages" in s]

    short = auth.start_conversation()
    long = auth.start_conversation()
    for i in range(15):
        add_turn(app, long["id"], f"Question {i}?", f"Answer {i}.")
    assert len(message_reads(long["id"])) == len(message_reads(short["id"])) <= 3
