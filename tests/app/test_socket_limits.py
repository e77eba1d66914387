"""Limits a misbehaving Socket.IO client meets (issue 18, "Bad input and limits").

Flooding chat:send (in-process, the Flask-SocketIO test client): past CHAT_SEND_RATE_LIMIT a
send is refused with chat:error rate_limited and nothing is stored. A client that stops reading
its socket (the real server, a raw websocket with a tiny TCP window): its queue of packets stops
at SOCKETIO_MAX_QUEUED_PACKETS, the server disconnects it, and the user's other tab is served as
before. The oversized message is
tests/app/test_live_server.py's test_an_oversized_message_drops_only_that_connection."""
import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
import websocket

from core.extensions import socketio
from tests.support.events import collect_until, payloads
from tests.support.live_clients import Account, SocketClient
from tests.support.live_server import live_server


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


# --- A client that stops reading its socket (the real server) --------------------------------

MAX_QUEUED = 20  # SOCKETIO_MAX_QUEUED_PACKETS of the live server below
MAX_NEW_TOKENS = 1500
MAX_REPLIES = 8  # replies asked for before the slow socket must have been cut off
WAIT = 60  # seconds: the bound on every wait
DISCONNECT_LINE = "its client is not reading them; disconnecting it"


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("socket-limits"), model_path=str(tiny_model_dir),
                     max_new_tokens=MAX_NEW_TOKENS,
                     extra_env={"SOCKETIO_MAX_QUEUED_PACKETS": str(MAX_QUEUED)}) as running:
        yield running
        running.assert_no_tracebacks()


def test_a_client_that_stops_reading_is_disconnected_and_its_other_tab_goes_on(server):
    """One user, two sockets in one conversation: a raw websocket that joins it and then never
    reads again, and a python-socketio client (the other tab) that asks for replies there. The
    replies' tokens go to both; the unread socket's queue reaches SOCKETIO_MAX_QUEUED_PACKETS and
    the server cuts it off, while the reading tab's replies complete as usual.

    The unread socket advertises a tiny window (SO_RCVBUF) and tiny segments (TCP_MAXSEG): with
    loopback's 64 KB segments the server's send buffer grows to tcp_wmem's 4 MB and takes every
    token of several replies, so its writer never blocks; 88-byte segments keep it near 40 KB."""
    user = Account.signed_up(server)
    conversation = user.start_conversation()["id"]
    chat = SocketClient(reconnection=False)
    done, errors, tokens = [], [], []
    chat.on("chat:done", lambda data: done.append(data))
    chat.on("chat:error", lambda data: errors.append(data))
    chat.on("chat:token", lambda data: tokens.append(data))
    chat.connect(server.url, headers={"Cookie": user.cookie_header}, transports=["websocket"],
                 wait_timeout=10)
    slow = None
    try:
        replies = _reply(chat, conversation, done, errors, 0)  # warm: lazy loads are done
        worker = server.worker_pid()
        rss_before = _rss_kib(worker)
        slow = _unread_socket(server, user, conversation)
        while DISCONNECT_LINE not in server.log() and replies < MAX_REPLIES:
            replies = _reply(chat, conversation, done, errors, replies)
        assert DISCONNECT_LINE in server.log(), (
            f"{replies} replies never filled the unread socket's queue:\n{_ss(server.port)}")
        print(f"cut off during reply {replies} (the first with both sockets in the room "
              f"is 2); the server's side of the connections:\n{_ss(server.port)}")
        # The other tab goes on: it sends again and its reply completes.
        replies = _reply(chat, conversation, done, errors, replies)
        assert all(d["conversation_id"] == conversation and d["stopped"] is False for d in done)
        assert user.messages(conversation)[-1]["status"] == "complete"

        # The server closed the unread socket: reading it now gives what the kernel had taken
        # before the cut, then the end of the connection, and none of the later tokens.
        received = _read_to_the_end(slow)
        assert received.count(b'"chat:token"') < len(tokens)
        assert server.log().count(DISCONNECT_LINE) == 1
        print(f"unread socket: {len(received)} bytes, {received.count(b'chat:token')} of "
              f"{len(tokens)} tokens; worker RSS {rss_before} -> {_rss_kib(worker)} KiB")
    finally:
        chat.disconnect()
        if slow is not None:
            slow.close()


def _reply(chat, conversation: int, done: list, errors: list, replies: int) -> int:
    # a different text each time: the same one thrice is refused as spam (R8)
    chat.emit("chat:send", {"conversation_id": conversation,
                            "content": f"Tell me about day {replies + 1}."})
    _wait(lambda: len(done) > replies or errors, f"reply {replies + 1}'s chat:done")
    assert not errors, errors
    return replies + 1


def _read_to_the_end(raw: socket.socket) -> bytes:
    """Everything left to read on `raw` until the server's end of the connection (bounded)."""
    received = bytearray()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            chunk = raw.recv(65536)
        except ConnectionResetError:
            return bytes(received)
        if not chunk:
            return bytes(received)
        received += chunk
    pytest.fail(f"the server had not closed the connection after {WAIT} s "
                f"({len(received)} bytes read)")


def _unread_socket(server, user: Account, conversation: int) -> socket.socket:
    """A websocket of `user`'s, joined to `conversation`, that the caller will not read."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a tiny window
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 88)  # and tiny segments
    raw.settimeout(WAIT)
    raw.connect(("127.0.0.1", server.port))
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, socket=raw, timeout=WAIT,
                                     header=[f"Cookie: {user.cookie_header}"])
    assert ws.recv().startswith("0")  # engine.io open
    ws.send("40")
    assert ws.recv().startswith("40")  # socket.io connected
    ws.send("42" + json.dumps(["chat:join", {"conversation_id": conversation}]))
    assert "chat:joined" in ws.recv()
    return raw


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def _ss(port: int) -> str:
    """The TCP connections of `port` as `ss` shows them (Send-Q, skmem's tb: the send buffer),
    for the report; iproute2 is not required."""
    try:
        return subprocess.run(["ss", "-tmni", f"( sport = :{port} or dport = :{port} )"],
                              capture_output=True, text=True, timeout=10).stdout
    except FileNotFoundError:
        return "(no ss: install iproute2 to see the connections)"


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {WAIT} s")
        time.sleep(0.05)
