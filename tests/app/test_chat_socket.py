"""Chat over Socket.IO with the Flask-SocketIO test client and the tiny model, on both databases."""
import logging
import threading

import pytest

from core.extensions import socketio
from tests.support.chat import add_turn
from tests.support.events import collect_until, payloads, wait_for

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
    # The test client has no transport; over a real one this is refused before any handler
    # runs (tests/app/test_live_server.py).
    ({"content": "x" * 2_000_000}, "message_too_long"),
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
        app, socket_client, auth, inference, monkeypatch):
    # The model fails on its first step after some visible text went out: with none, the
    # placeholder is dropped and no chat:done follows (the random model's first tokens can be
    # blank or half a character, so a fixed step count was not enough).
    replies, real_forward = app.extensions["kindred.replies"], inference.runner.forward
    real_emit, text_sent = replies.emit, threading.Event()

    def noting_emit(event, payload, room):
        if event == "chat:token" and payload["text"].strip():
            text_sent.set()
        real_emit(event, payload, room)

    def failing_forward(*args, **kwargs):
        if text_sent.is_set():
            raise RuntimeError("simulated out-of-memory")
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(replies, "emit", noting_emit)
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


def _user_contents(auth, conversation_id):
    return [m["content"] for m in _messages(auth, conversation_id) if m["role"] == "user"]


def _about(conversation_id):
    return lambda payload: payload.get("conversation_id") == conversation_id


def test_a_user_gets_only_so_many_replies_streaming_at_once(app, socket_client, auth):
    app.config["MAX_NEW_TOKENS"] = 1500
    cap = app.config["MAX_LIVE_REPLIES_PER_USER"]
    assert cap == 3
    streaming = [auth.start_conversation()["id"] for _ in range(cap)]
    extra = auth.start_conversation()["id"]
    for conversation_id in streaming:
        socket_client.emit("chat:send", {"conversation_id": conversation_id, "content": "Talk"})
        wait_for(socket_client, "chat:token", _about(conversation_id))

    for event in ("chat:send", "chat:regenerate"):
        socket_client.emit(event, {"conversation_id": extra, "content": "One more"})
        error = wait_for(socket_client, "chat:error", _about(extra), timeout=10)
        assert error["code"] == "too_many_replies" and "not stored" in error["message"]
    assert len(_messages(auth, extra)) == 1

    socket_client.emit("chat:stop", {"conversation_id": streaming[0]})
    wait_for(socket_client, "chat:done", _about(streaming[0]))
    socket_client.emit("chat:send", {"conversation_id": extra, "content": "One more"})
    wait_for(socket_client, "chat:token", _about(extra))
    for conversation_id in streaming[1:] + [extra]:
        socket_client.emit("chat:stop", {"conversation_id": conversation_id})
        wait_for(socket_client, "chat:done", _about(conversation_id))
    assert _user_contents(auth, extra) == ["One more"]
    assert all(_user_contents(auth, c) == ["Talk"] for c in streaming)


def test_an_unexpected_failure_answers_internal_logs_the_conversation_and_stores_nothing(
        app, socket_client, auth, monkeypatch, caplog):
    replies = app.extensions["kindred.replies"]

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated bug in a prompt section")

    monkeypatch.setattr(replies.sections, "extras", broken)
    conversation = auth.start_conversation()
    with caplog.at_level(logging.ERROR, logger="conversations.events"):
        socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hi"})
    events = collect_until(socket_client, names=("chat:error", "chat:done"), timeout=10)
    assert [e["name"] for e in events] == ["chat:error"]
    error = events[0]["args"][0]
    assert error["code"] == "internal" and error["conversation_id"] == conversation["id"]
    assert "nothing was stored" in error["message"]
    assert f"failed for conversation {conversation['id']}" in caplog.text
    assert "simulated bug" in caplog.text  # the traceback is logged, not sent
    assert "simulated" not in error["message"]
    assert len(_messages(auth, conversation["id"])) == 1
    monkeypatch.undo()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hi"})
    assert payloads(collect_until(socket_client), "chat:done")
    assert _user_contents(auth, conversation["id"]) == ["Hi"]


def test_a_reply_that_cannot_start_keeps_the_message_once_and_says_so(
        socket_client, auth, inference, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise RuntimeError("simulated engine refusal")

    monkeypatch.setattr(inference, "submit", refuse)
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hi"})
    events = collect_until(socket_client, names=("chat:error", "chat:done"), timeout=10)
    assert [e["name"] for e in events] == ["chat:message", "chat:error"]
    error = payloads(events, "chat:error")[0]
    assert error["code"] == "internal" and "saved" in error["message"]
    stored = _messages(auth, conversation["id"])
    assert [m["role"] for m in stored] == ["assistant", "user"]  # no placeholder left behind
    monkeypatch.undo()
    socket_client.emit("chat:regenerate", {"conversation_id": conversation["id"]})
    assert payloads(collect_until(socket_client), "chat:done")
    assert _user_contents(auth, conversation["id"]) == ["Hi"]


def test_no_thread_holds_two_database_connections_in_a_chat_turn(app, socket_client, auth):
    import sqlalchemy as sa

    engine, lock = app.extensions["kindred.db"], threading.Lock()
    held, most = {}, {}

    def checkout(_dbapi, record, _proxy):
        with lock:
            thread = record.info["kindred.thread"] = threading.get_ident()
            held[thread] = held.get(thread, 0) + 1
            most[thread] = max(most.get(thread, 0), held[thread])

    def checkin(_dbapi, record):
        with lock:
            thread = record.info.pop("kindred.thread", None)
            if thread is not None:
                held[thread] -= 1

    conversation = auth.start_conversation()
    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "checkin", checkin)
    try:
        socket_client.emit("chat:join", {"conversation_id": conversation["id"]})
        socket_client.emit("chat:send", {"conversation_id": conversation["id"],
                                         "content": "Hello! I love green tea and my name is Sam."})
        collect_until(socket_client)
        # relationship:update is sent once the after-reply hooks (affinity, gems, memories)
        # have run in the reply's thread, the inspector's record long before.
        wait_for(socket_client, "relationship:update")
    finally:
        sa.event.remove(engine, "checkout", checkout)
        sa.event.remove(engine, "checkin", checkin)
    assert len(most) >= 2 and max(most.values()) == 1, most


def test_an_unexpected_failure_in_the_studio_answers_studio_error_internal(
        socket_client, monkeypatch, caplog):
    import characters.events

    def broken(_line):
        raise RuntimeError("simulated bug in the drafting")

    monkeypatch.setattr(characters.events, "clean_line", broken)
    with caplog.at_level(logging.ERROR, logger="characters.events"):
        socket_client.emit("studio:draft", {"line": "A lighthouse keeper"})
    error = payloads(collect_until(socket_client, names=("studio:error",), timeout=10),
                     "studio:error")[0]
    assert error["code"] == "internal" and "simulated" not in error["message"]
    assert "simulated bug" in caplog.text
    monkeypatch.undo()
    socket_client.emit("studio:draft", {"line": "A lighthouse keeper"})  # not left "busy"
    assert payloads(collect_until(socket_client, names=("studio:draft_done", "studio:error")),
                    "studio:draft_done")
