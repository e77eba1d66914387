"""Limits a misbehaving Socket.IO client meets (issue 18, "Bad input and limits").

Flooding chat:send (in-process, the Flask-SocketIO test client): past CHAT_SEND_RATE_LIMIT a
send is refused with chat:error rate_limited and nothing is stored. A client that stops reading
its socket (the real server, a raw websocket client): its queue of packets stops at
SOCKETIO_MAX_QUEUED_PACKETS, it is disconnected, and others go on being served. The oversized
message is tests/app/test_live_server.py's test_an_oversized_message_drops_only_that_connection."""
import json
import socket

import pytest
import websocket

from core.extensions import socketio
from tests.support.events import collect_until, payloads
from tests.support.live_clients import Account, SocketClient
from tests.support.live_server import live_server

MAX_QUEUED = 50
WAIT = 60  # seconds: the bound on every wait


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


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("socket-limits"), model_path=str(tiny_model_dir),
                     max_new_tokens=1500,
                     extra_env={"SOCKETIO_MAX_QUEUED_PACKETS": str(MAX_QUEUED)}) as running:
        yield running
        running.assert_no_tracebacks()


def test_a_client_that_stops_reading_is_disconnected_and_others_are_served(server):
    """A raw websocket client joins its conversation, asks for three long replies and never
    reads again, with a tiny receive buffer so the server's writes to it block at once."""
    user = Account.signed_up(server)
    conversations = [user.start_conversation()["id"] for _ in range(3)]
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    slow = websocket.create_connection(url, timeout=WAIT, header=[f"Cookie: {user.cookie_header}"],
                                       sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    assert slow.recv().startswith("0")  # engine.io open
    slow.send("40")
    assert slow.recv().startswith("40")  # socket.io connected
    for conversation in conversations:
        slow.send("42" + json.dumps(["chat:send", {"conversation_id": conversation,
                                                   "content": "Tell me everything."}]))

    other = Account.signed_up(server)
    chat = SocketClient(reconnection=False)
    done = []
    chat.on("chat:done", lambda data: done.append(data))
    chat.connect(server.url, headers={"Cookie": other.cookie_header}, transports=["websocket"],
                 wait_timeout=10)
    try:
        line = "not reading them; disconnecting it"
        _wait(lambda: line in server.log(), "the slow client's disconnect")
        # Its replies stopped as at any disconnect: stored as stopped, none still streaming.
        for conversation in conversations:
            reply = user.wait_until_reply_settles(conversation, timeout=WAIT)[-1]
            assert reply["role"] == "assistant" and reply["status"] == "stopped"
        assert server.log().count(line) == 1

        theirs = other.start_conversation()["id"]
        chat.emit("chat:send", {"conversation_id": theirs, "content": "Still there?"})
        _wait(lambda: done, "the other user's reply")
        assert done[0]["conversation_id"] == theirs and done[0]["stopped"] is False
    finally:
        chat.disconnect()
        slow.close()


def _wait(condition, what: str) -> None:
    import time
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {WAIT} s")
        time.sleep(0.1)
