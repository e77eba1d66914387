"""The real server (`python run.py`) driven by real python-socketio clients over websockets.

One server per module, with the tiny random-weight Llama and a long reply budget, so replies
stream for long enough to be stopped or cut off by a disconnect."""
import threading

import pytest
import socketio

from tests.support.live_clients import Account, SocketClient
from tests.support.live_server import live_server

MAX_NEW_TOKENS = 1500
WAIT = 60  # seconds: the bound on every wait; the tiny model answers in a few seconds


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("live-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=MAX_NEW_TOKENS) as running:
        yield running
        running.assert_no_tracebacks()


@pytest.fixture
def sockets():
    """Make connected clients; every one is disconnected after the test."""
    made = []

    def connect(server, account=None, transport="websocket"):
        chat = ChatSocket()
        chat.connect(server.url, account, transport)
        made.append(chat)
        return chat

    yield connect
    for chat in made:
        chat.close()


def test_connection_without_login_is_refused(server):
    client = SocketClient(reconnection=False)
    refusals = []
    client.on("connect_error", lambda data=None: refusals.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, transports=["websocket"], wait_timeout=10)
    assert not client.connected
    assert "Log in before opening a chat connection." in str(refusals)


def test_a_logged_in_cookie_from_another_site_is_refused(server):
    user = Account.signed_up(server)
    client = SocketClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, transports=["websocket"], wait_timeout=10,
                       headers={"Cookie": user.cookie_header, "Origin": "http://evil.example"})
    assert not client.connected


def test_reply_streams_token_by_token_and_is_stored(server, sockets):
    user = Account.signed_up(server)
    conversation = user.start_conversation()
    chat = sockets(server, user)

    chat.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hello there!"})
    done = chat.wait_for("chat:done")

    names = chat.names()
    assert names[0] == "chat:message", names[:5]
    sent = chat.first("chat:message")["message"]
    assert (sent["role"], sent["content"]) == ("user", "Hello there!")
    assert names.count("chat:token") >= 3, "the reply should arrive in several pieces"
    assert names.index("chat:done") > max(i for i, n in enumerate(names) if n == "chat:token")
    assert done["stopped"] is False

    streamed = chat.streamed_text()
    stored = user.messages(conversation["id"])
    assert stored[-2]["content"] == "Hello there!"
    assert stored[-1]["role"] == "assistant"
    assert stored[-1]["status"] == "complete"
    assert stored[-1]["content"] == streamed.strip() != ""
    assert done["message"]["content"] == stored[-1]["content"]


def test_stop_keeps_the_partial_reply(server, sockets):
    user = Account.signed_up(server)
    conversation = user.start_conversation()
    chat = sockets(server, user)

    chat.emit("chat:send", {"conversation_id": conversation["id"], "content": "Tell me a story."})
    chat.wait_for("chat:token", count=3)
    chat.emit("chat:stop", {"conversation_id": conversation["id"]})
    done = chat.wait_for("chat:done")

    assert done["stopped"] is True
    assert done["stop_reason"] == "user"
    assert done["tokens"] < MAX_NEW_TOKENS
    reply = user.messages(conversation["id"])[-1]
    assert reply["role"] == "assistant"
    assert reply["status"] == "stopped"
    assert reply["content"] != ""
    assert reply["content"] == chat.streamed_text().strip()


def test_disconnect_mid_reply_stores_what_was_generated(server, sockets):
    user = Account.signed_up(server)
    conversation = user.start_conversation()
    chat = sockets(server, user)

    chat.emit("chat:send", {"conversation_id": conversation["id"], "content": "Keep talking."})
    chat.wait_for("chat:token", count=3)
    chat.close()
    seen_before_leaving = chat.streamed_text().strip()

    messages = user.wait_until_reply_settles(conversation["id"], timeout=WAIT)
    user_message, reply = messages[-2], messages[-1]
    assert (user_message["role"], user_message["content"]) == ("user", "Keep talking.")
    assert reply["role"] == "assistant"
    assert reply["status"] == "stopped"
    assert reply["content"] != ""
    assert reply["content"].startswith(seen_before_leaving)


def test_tokens_reach_only_the_conversation_owner(server, sockets):
    owner, intruder = Account.signed_up(server), Account.signed_up(server)
    conversation = owner.start_conversation()
    owner_chat, intruder_chat = sockets(server, owner), sockets(server, intruder)

    intruder_chat.emit("chat:join", {"conversation_id": conversation["id"]})
    refused = intruder_chat.wait_for("chat:error")
    assert refused["code"] == "not_found"
    assert refused["conversation_id"] == conversation["id"]

    owner_chat.emit("chat:send", {"conversation_id": conversation["id"], "content": "Just us?"})
    owner_chat.wait_for("chat:token", count=5)
    owner_chat.emit("chat:stop", {"conversation_id": conversation["id"]})
    owner_chat.wait_for("chat:done")

    # A round trip after the reply ended: anything sent to the intruder's socket during the
    # reply would have been delivered before this second refusal.
    intruder_chat.emit("chat:join", {"conversation_id": conversation["id"]})
    intruder_chat.wait_for("chat:error", count=2)
    assert intruder_chat.names() == ["chat:error", "chat:error"]
    assert owner_chat.streamed_text() != ""


def test_second_tab_of_the_owner_sees_the_stream(server, sockets):
    user = Account.signed_up(server)
    conversation = user.start_conversation()
    first_tab, second_tab = sockets(server, user), sockets(server, user)

    second_tab.emit("chat:join", {"conversation_id": conversation["id"]})
    joined = second_tab.wait_for("chat:joined")
    assert joined == {"conversation_id": conversation["id"], "streaming": False}

    first_tab.emit("chat:send", {"conversation_id": conversation["id"], "content": "Both tabs?"})
    first_tab.wait_for("chat:token", count=3)
    second_tab.wait_for("chat:token", count=3)
    first_tab.emit("chat:stop", {"conversation_id": conversation["id"]})
    first_done, second_done = first_tab.wait_for("chat:done"), second_tab.wait_for("chat:done")

    assert second_tab.first("chat:message")["message"]["content"] == "Both tabs?"
    assert second_tab.streamed_text() == first_tab.streamed_text() != ""
    assert second_done["message"] == first_done["message"]
    assert user.messages(conversation["id"])[-1]["content"] == second_tab.streamed_text().strip()


def test_replies_at_once_are_capped_per_user_across_tabs(server, sockets):
    """MAX_LIVE_REPLIES_PER_USER (3) counts the user's replies in every conversation and tab."""
    user = Account.signed_up(server)
    conversations = [user.start_conversation()["id"] for _ in range(4)]
    first_tab, second_tab = sockets(server, user), sockets(server, user)
    for conversation_id, tab in zip(conversations[:3], (first_tab, first_tab, second_tab)):
        tab.emit("chat:send", {"conversation_id": conversation_id, "content": "Talk to me."})
    first_tab.wait_for("chat:token")
    second_tab.wait_for("chat:token")
    second_tab.emit("chat:send", {"conversation_id": conversations[3], "content": "And me?"})
    refused = second_tab.wait_for("chat:error")
    assert (refused["code"], refused["conversation_id"]) == ("too_many_replies", conversations[3])
    assert len(user.messages(conversations[3])) == 1  # nothing stored

    second_tab.emit("chat:stop", {"conversation_id": conversations[2]})
    second_tab.wait_for("chat:done")
    second_tab.emit("chat:send", {"conversation_id": conversations[3], "content": "And me?"})
    second_tab.wait_until(lambda name, data: name == "chat:token"
                          and data["conversation_id"] == conversations[3])
    second_tab.emit("chat:stop", {"conversation_id": conversations[3]})
    second_tab.wait_for("chat:done", count=2)  # the first is the stopped reply's
    for conversation_id in conversations[:2]:
        first_tab.emit("chat:stop", {"conversation_id": conversation_id})
    first_tab.wait_for("chat:done", count=2)
    assert [m["content"] for m in user.messages(conversations[3]) if m["role"] == "user"] == [
        "And me?"]


def test_an_oversized_message_drops_only_that_connection_and_stores_nothing(server, sockets):
    """Engine.IO refuses a message over SOCKETIO_MAX_MESSAGE_BYTES (64 KiB) before any handler
    sees it and closes that connection; there is no hook to send an error first (docs/socketio.md).
    The browser client checks the size before sending; the server stays well."""
    user = Account.signed_up(server)
    conversation = user.start_conversation()
    huge = {"conversation_id": conversation["id"], "content": "x" * 2_000_000}
    reasons = {}
    for transport in ("websocket", "polling"):
        chat = sockets(server, user, transport=transport)
        chat.emit("chat:send", huge)
        reasons[transport] = chat.wait_for("disconnect")["reason"]
        assert chat.names() == ["disconnect"], transport  # no chat:error, no chat:message
    # websocket: the server closes the connection (1009, message too big); polling: it closes
    # the session (HTTP 400 to the POST, then a close packet to the next poll). Which of the two
    # the polling client notices first is a race: the 400 reads as a transport error.
    assert reasons["websocket"] == "transport error"
    assert reasons["polling"] in ("server disconnect", "transport error")
    assert len(user.messages(conversation["id"])) == 1

    chat = sockets(server, user)
    # Under the transport limit but over MAX_MESSAGE_CHARS: the handler's own clear error.
    chat.emit("chat:send", {"conversation_id": conversation["id"], "content": "x" * 10_000})
    assert chat.wait_for("chat:error")["code"] == "message_too_long"
    chat.emit("chat:send", {"conversation_id": conversation["id"], "content": "Still there?"})
    chat.wait_for("chat:token")
    chat.emit("chat:stop", {"conversation_id": conversation["id"]})
    chat.wait_for("chat:done")
    assert [m["content"] for m in user.messages(conversation["id"]) if m["role"] == "user"] == [
        "Still there?"]


class ChatSocket:
    """A python-socketio client that records every chat event it receives, in order."""

    EVENTS = ("chat:joined", "chat:message", "chat:token", "chat:done", "chat:error",
              "disconnect")

    def __init__(self):
        self.client = SocketClient(reconnection=False)
        self.events: list[tuple[str, dict]] = []
        self._changed = threading.Condition()
        for name in self.EVENTS:
            self.client.on(name, self._recorder(name))

    def connect(self, url: str, account: Account | None, transport: str = "websocket") -> None:
        headers = {"Cookie": account.cookie_header} if account else {}
        self.client.connect(url, headers=headers, transports=[transport], wait_timeout=10)

    def emit(self, event: str, payload: dict) -> None:
        self.client.emit(event, payload)

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()

    def wait_for(self, name: str, count: int = 1) -> dict:
        """The `count`-th event called `name` (waiting for it), or fail with what did arrive."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: self.names().count(name) >= count,
                                             timeout=WAIT)
            if not arrived:
                pytest.fail(f"no {count} x {name} within {WAIT} s; received "
                            f"{self.names()[-20:]} {[d for n, d in self.events if n != 'chat:token']}")
            return [data for event, data in self.events if event == name][count - 1]

    def wait_until(self, matches) -> None:
        """Wait (bounded) until an event for which `matches(name, data)` has arrived."""
        with self._changed:
            if not self._changed.wait_for(lambda: any(matches(n, d) for n, d in self.events),
                                          timeout=WAIT):
                pytest.fail(f"no matching event within {WAIT} s; received {self.names()[-20:]}")

    def first(self, name: str) -> dict:
        return next(data for event, data in self.events if event == name)

    def names(self) -> list[str]:
        return [event for event, _ in list(self.events)]

    def streamed_text(self) -> str:
        return "".join(data["text"] for event, data in list(self.events) if event == "chat:token")

    def _recorder(self, name: str):
        def record(data=None):
            if name == "disconnect":  # python-socketio passes the reason, a string
                data = {"reason": data}
            with self._changed:
                self.events.append((name, data))
                self._changed.notify_all()
        return record
