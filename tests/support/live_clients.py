"""Clients of a live server (tests/support/live_server.py), as a user's browser would be one:
`Account`, a user signed up over real HTTP whose cookies authenticate both REST calls and
sockets, and `SocketClient`, a python-socketio client that hands events over in the order they
arrived and disconnects without a needless wait."""
import secrets
import string
import threading
import time

import engineio
import pytest
import requests
import socketio

HTTP_TIMEOUT = 60  # seconds for one request; under load on 2 cores a sign-up can take a while
CLOSE_PACKET_TIMEOUT = 5.0


class Account:
    """A user signed up over real HTTP; its cookies authenticate both REST calls and sockets."""

    def __init__(self, server):
        self.server = server
        self.http = requests.Session()
        self.csrf = ""

    @classmethod
    def signed_up(cls, server, prefix: str = "live") -> "Account":
        account = cls(server)
        response = account.http.post(server.url + "/api/auth/signup", timeout=HTTP_TIMEOUT, json={
            "username": f"{prefix}_{_letters(10)}", "password": "correct horse"})
        assert response.status_code == 201, response.text
        account.csrf = response.json()["csrf_token"]
        return account

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def start_conversation(self, character_id: int = 1) -> dict:
        response = self.http.post(self.server.url + "/api/conversations", timeout=HTTP_TIMEOUT,
                                  json={"character_id": character_id},
                                  headers={"X-CSRF-Token": self.csrf})
        assert response.status_code == 201, response.text
        return response.json()["conversation"]

    def conversation(self, conversation_id: int) -> dict:
        response = self.http.get(f"{self.server.url}/api/conversations/{conversation_id}",
                                 timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()["conversation"]

    def messages(self, conversation_id: int) -> list[dict]:
        return self.conversation(conversation_id)["messages"]

    def wait_until_reply_settles(self, conversation_id: int, timeout: float = 60.0) -> list[dict]:
        """The conversation's messages once its last reply is no longer streaming (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conversation = self.conversation(conversation_id)
            last = conversation["messages"][-1]
            if not conversation["streaming"] and last["status"] != "streaming":
                return conversation["messages"]
            time.sleep(0.2)
        pytest.fail(f"the reply was still streaming after {timeout} s: "
                    f"{conversation['messages'][-1]}")


def _letters(count: int) -> str:
    """Random lowercase letters. Not hex: a name like load_1838770508 reads as a phone number to
    the username screening (R7, privacy), and refused sign-ups are not what these tests test."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(count))


class SocketClient(socketio.Client):
    """socketio.Client that runs event handlers in arrival order and disconnects promptly.

    In order: python-engineio's client hands each incoming message to a thread of its own, so
    under load two events could reach their handlers swapped (seen: chat:token pieces recorded
    out of order, so the streamed text differed from the stored reply). A browser's socket.io
    client delivers in order; here too, each message is handled on the read loop before the next
    is read. Handlers must therefore be quick and must not wait for later events.

    Promptly: on disconnect python-socketio queues Engine.IO's CLOSE packet, which is what ends
    the session on the server, then closes the websocket; websocket-client's close() then waits
    up to 3 s for the server's close frame. The server (Werkzeug's threaded server) never sends
    one once the session has ended, so every disconnect took 3 s, in every test's teardown and
    every refused connect. Here the websocket is closed once the CLOSE packet has been written
    (waited for, bounded), without waiting for that frame. What the server sees is unchanged: the
    CLOSE packet, the close frame and the end of the connection, in that order."""

    def _engineio_client_class(self):
        return _OrderedPromptlyClosingEngineIOClient


class _OrderedPromptlyClosingEngineIOClient(engineio.Client):
    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)

    def disconnect(self, abort=False, reason=None):
        ws, writer = getattr(self, "ws", None), self.write_loop_task
        if self.state == "connected" and self.current_transport == "websocket" and ws is not None:
            close = ws.close

            def close_after_the_close_packet(*args, **kwargs):
                if writer is not None and writer is not threading.current_thread():
                    writer.join(timeout=CLOSE_PACKET_TIMEOUT)  # the write loop ends after CLOSE
                close(*args, **{**kwargs, "timeout": 0})

            ws.close = close_after_the_close_packet
        super().disconnect(abort=abort, reason=reason)
