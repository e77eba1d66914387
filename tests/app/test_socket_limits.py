"""Limits a misbehaving Socket.IO client meets (issue 18, "Bad input and limits").

Flooding chat:send (in-process, the Flask-SocketIO test client): past CHAT_SEND_RATE_LIMIT a
send is refused with chat:error rate_limited and nothing is stored. The oversized message is
tests/app/test_live_server.py's test_an_oversized_message_drops_only_that_connection."""
from core.extensions import socketio
from tests.support.events import collect_until, payloads


def _user_contents(auth, conversation_id):
    messages = auth.call("GET", f"/api/conversations/{conversation_id}").get_json()[
        "conversation"]["messages"]
    return [m["content"] for m in messages if m["role"] == "user"]


def test_flooding_chat_send_is_rate_limited_and_stores_nothing(app, socket_client, auth):
    app.config["CHAT_SEND_RATE_LIMIT"] = "2 per minute"
    conversation = auth.start_conversation()["id"]
    for text in ("One", "Two"):
        socket_client.emit("chat:send", {"conversation_id": conversation, "content": text})
        assert payloads(collect_until(socket_client), "chat:done")
    socket_client.emit("chat:send", {"conversation_id": conversation, "content": "Three"})
    socket_client.emit("chat:regenerate", {"conversation_id": conversation})  # counted too
    events = collect_until(socket_client, names=("chat:error",))
    events += collect_until(socket_client, names=("chat:error",))
    refused = payloads(events, "chat:error")
    assert [e["code"] for e in refused] == ["rate_limited", "rate_limited"]
    assert all(e["conversation_id"] == conversation and 1 <= e["retry_after"] <= 60
               and "too fast" in e["message"] for e in refused)
    assert not payloads(events, "chat:message") and not payloads(events, "chat:token")
    assert _user_contents(auth, conversation) == ["One", "Two"]

    # The count is per user: someone else sends as usual.
    other = app.test_client()
    auth.client = other
    auth.signup()
    theirs = socketio.test_client(app, flask_test_client=other)
    mine = auth.start_conversation()["id"]
    theirs.emit("chat:send", {"conversation_id": mine, "content": "Hi"})
    assert payloads(collect_until(theirs), "chat:done")
    theirs.disconnect()
