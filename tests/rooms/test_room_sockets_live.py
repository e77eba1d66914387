"""The rooms' Socket.IO contract with real python-socketio clients against a live server: two
people see one streamed character turn, a non-member gets not_member, and a kicked member
receives nothing more."""
import threading

import pytest

from tests.support.live_clients import HTTP_TIMEOUT, Account, SocketClient
from tests.support.live_server import live_server

WAIT = 90.0
ROOM_EVENTS = ("room:joined", "room:message", "room:turn", "room:token", "room:done",
               "room:presence", "room:typing", "room:error")


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("rooms-live"), model_path=str(tiny_model_dir),
                     max_new_tokens=40, extra_env={"ROOM_BATCH_SECONDS": "0.5"}) as running:
        yield running
        running.assert_no_tracebacks()


class RoomSocket:
    """A real client recording every room event it receives, in order."""

    def __init__(self, server, account: Account):
        self.client = SocketClient(reconnection=False)
        self.events: list[tuple[str, dict]] = []
        self._changed = threading.Condition()
        for name in ROOM_EVENTS:
            self.client.on(name, self._recorder(name))
        self.client.connect(server.url, headers={"Cookie": account.cookie_header},
                            transports=["websocket"], wait_timeout=10)

    def _recorder(self, name):
        def record(data=None):
            with self._changed:
                self.events.append((name, data))
                self._changed.notify_all()
        return record

    def emit(self, event: str, payload: dict) -> None:
        self.client.emit(event, payload)

    def wait_for(self, name: str, matches=lambda data: True) -> dict:
        with self._changed:
            found = lambda: next((d for n, d in self.events if n == name and matches(d)), None)  # noqa: E731
            if not self._changed.wait_for(lambda: found() is not None, timeout=WAIT):
                pytest.fail(f"no {name} within {WAIT} s; got {self.names()[-20:]}")
            return found()

    def names(self) -> list[str]:
        return [n for n, _ in list(self.events)]

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def sockets():
    made = []

    def connect(server, account):
        made.append(RoomSocket(server, account))
        return made[-1]
    yield connect
    for sio in made:
        sio.close()


def _call(account, method, path, **kwargs):
    response = account.http.request(method, account.server.url + path, timeout=HTTP_TIMEOUT,
                                    headers={"X-CSRF-Token": account.csrf}, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


def _room_of_two(server, **body):
    owner, guest = Account.signed_up(server, "host"), Account.signed_up(server, "guest")
    room = _call(owner, "POST", "/api/rooms", json={"title": "The Inn", "character_ids": [1, 2],
                                                     **body})["room"]
    invite = _call(owner, "POST", f"/api/rooms/{room['id']}/invites", json={})
    _call(guest, "POST", f"/api/invites/{invite['token']}/accept")
    return room, owner, guest


def _joined(sockets, server, account, room_id):
    sio = sockets(server, account)
    sio.emit("room:join", {"room_id": room_id})
    sio.wait_for("room:joined")
    return sio


def test_two_people_see_each_others_messages_and_one_streamed_turn(server, sockets):
    room, owner, guest = _room_of_two(server)
    first = _joined(sockets, server, owner, room["id"])
    second = _joined(sockets, server, guest, room["id"])
    first.emit("room:send", {"room_id": room["id"], "content": "Evening, everyone"})
    second.emit("room:send", {"room_id": room["id"], "content": "Hi all"})
    for sio in (first, second):
        sio.wait_for("room:done")
    for sio in (first, second):
        shown = [d["message"]["content"] for n, d in sio.events if n == "room:message"]
        assert sorted(shown) == ["Evening, everyone", "Hi all"]
        turns = [d for n, d in sio.events if n == "room:turn"]
        assert len(turns) == 1 and turns[0]["character_id"] in (1, 2)
        tokens = [d["text"] for n, d in sio.events
                  if n == "room:token" and d["message_id"] == turns[0]["message_id"]]
        done = sio.wait_for("room:done")["message"]
        assert tokens and done["content"] == "".join(tokens).strip()
        assert done["id"] == turns[0]["message_id"]
    history = _call(guest, "GET", f"/api/rooms/{room['id']}/messages")
    stored = history.get("messages", history)
    assert [m["speaker"] for m in stored][-1] == "character"


def test_someone_who_is_not_a_member_gets_not_member(server, sockets):
    room, _owner, _guest = _room_of_two(server)
    stranger = sockets(server, Account.signed_up(server, "stranger"))
    for event in ("room:join", "room:send"):
        stranger.emit(event, {"room_id": room["id"], "content": "let me in"})
        stranger.wait_for("room:error", lambda d, e=event: d.get("code") == "not_member"
                          and len([n for n, _ in stranger.events if n == "room:error"]) ==
                          (1 if e == "room:join" else 2))
    assert {d["code"] for n, d in stranger.events if n == "room:error"} == {"not_member"}
    assert "room:joined" not in stranger.names()


def test_a_kicked_member_receives_nothing_more(server, sockets):
    room, owner, guest = _room_of_two(server)
    staying = _joined(sockets, server, owner, room["id"])
    kicked = _joined(sockets, server, guest, room["id"])
    _call(owner, "DELETE", f"/api/rooms/{room['id']}/members/{_user_id(guest)}")
    kicked.wait_for("room:error", lambda d: d["code"] == "removed")
    seen = len(kicked.events)
    staying.emit("room:send", {"room_id": room["id"], "content": "Just us now"})
    staying.wait_for("room:done")
    assert [n for n, _ in kicked.events[seen:]] == []
    kicked.emit("room:send", {"room_id": room["id"], "content": "wait for me"})
    kicked.wait_for("room:error", lambda d: d["code"] == "not_member")


def _user_id(account) -> int:
    response = account.http.get(account.server.url + "/api/auth/me", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["user"]["id"]
