"""notify:new on a real server (`python run.py`) to real python-socketio clients: a like and a
reply reach every socket of the post's author, and no one else's."""
import queue

import pytest

from tests.support.live_clients import HTTP_TIMEOUT, Account, SocketClient
from tests.support.live_server import live_server

WAIT = 30  # seconds: the bound on every wait


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("community-live"), model_path=str(tiny_model_dir),
                     max_new_tokens=8) as running:
        yield running
        running.assert_no_tracebacks()


class Listener:
    """A connected python-socketio client that keeps the notify:new payloads it receives."""

    def __init__(self, server, account: Account):
        self.received: queue.Queue = queue.Queue()
        self.client = SocketClient(reconnection=False)
        self.client.on("notify:new", self.received.put)
        self.client.connect(server.url, headers={"Cookie": account.cookie_header},
                            transports=["websocket"], wait_timeout=10)

    def next(self) -> dict:
        try:
            return self.received.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no notify:new within {WAIT} s")

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def _call(account: Account, method: str, path: str, **kwargs):
    response = account.http.request(method, account.server.url + path, timeout=HTTP_TIMEOUT,
                                    headers={"X-CSRF-Token": account.csrf}, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_likes_and_replies_reach_every_socket_of_the_author_and_no_one_else(server):
    author, reader = Account.signed_up(server), Account.signed_up(server)
    sockets = [Listener(server, author), Listener(server, author), Listener(server, reader)]
    try:
        post = _call(author, "POST", "/api/posts", json={"kind": "text", "body": "Hello, all",
                                                          "tags": ["intro"]})["post"]
        _call(reader, "POST", f"/api/posts/{post['id']}/like")
        for tab in sockets[:2]:
            pushed = tab.next()
            assert pushed["notification"]["kind"] == "like" and pushed["unread"] == 1
            assert pushed["notification"]["post_id"] == post["id"]
        _call(reader, "POST", f"/api/posts/{post['id']}/comments", json={"body": "Welcome to the community!"})
        for tab in sockets[:2]:
            pushed = tab.next()
            assert pushed["notification"]["kind"] == "reply" and pushed["unread"] == 2
            assert pushed["notification"]["snippet"] == "Welcome to the community!"
        assert sockets[2].received.empty()
        listed = _call(author, "GET", "/api/notifications")
        assert [n["kind"] for n in listed["notifications"]] == ["reply", "like"]
    finally:
        for tab in sockets:
            tab.close()
