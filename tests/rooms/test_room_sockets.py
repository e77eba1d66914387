"""The rooms' Socket.IO contract over Flask-SocketIO's test client: joining, presence, typing,
members only, bad messages, and a kicked member's sockets leaving the room at once."""
import pytest

from tests.rooms import rooms_support
from tests.rooms.rooms_support import join, make_room, room_rows
from tests.rooms.turn_support import messages, room_socket, settle
from tests.support.events import wait_for

people = rooms_support.people
ROOM_EVENTS = ("room:message", "room:turn", "room:token", "room:done", "room:presence",
               "room:typing")


@pytest.fixture(autouse=True)
def quick_window(app):
    app.config["ROOM_BATCH_SECONDS"] = 0.3


def _names(sio):
    return [e["name"] for e in sio.get_received()]


def test_joining_gives_the_room_its_members_who_is_online_and_the_history(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    rooms_support.say(app, room["id"], "Earlier words", user_id=owner.id)
    first = room_socket(app, owner, room["id"])
    second = room_socket(app, guest)
    second.emit("room:join", {"room_id": room["id"]})
    joined = wait_for(second, "room:joined")
    assert joined["room"]["id"] == room["id"] and joined["room"]["title"] == room["title"]
    assert {m["user_id"] for m in joined["members"]} == {owner.id, guest.id}
    assert sorted(joined["online"]) == sorted([owner.id, guest.id])
    assert [m["content"] for m in joined["history"]] == ["Earlier words"]
    presence = wait_for(first, "room:presence", lambda p: len(p["online"]) == 2)
    assert presence["room_id"] == room["id"]
    second.disconnect()
    assert wait_for(first, "room:presence", lambda p: p["online"] == [owner.id])


def test_typing_is_shown_to_the_others_only(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    first, second = room_socket(app, owner, room["id"]), room_socket(app, guest, room["id"])
    first.emit("room:typing", {"room_id": room["id"]})
    assert wait_for(second, "room:typing") == {"room_id": room["id"], "user_id": owner.id}
    assert "room:typing" not in _names(first)


@pytest.mark.parametrize("event", ["room:join", "room:send", "room:typing", "room:trigger",
                                   "room:stop"])
def test_someone_who_is_not_a_member_gets_not_member(app, people, event):
    owner, stranger = people(2)
    room = make_room(owner)
    inside = room_socket(app, owner, room["id"])
    before = room_rows(app)
    outsider = room_socket(app, stranger)
    for room_id in (room["id"], 10**6, "1"):
        outsider.emit(event, {"room_id": room_id, "content": "let me in", "character_id": 1})
        error = wait_for(outsider, "room:error", timeout=10)
        assert error["code"] == "not_member" and error["message"]
    assert room_rows(app) == before
    assert not [name for name in _names(inside) if name in ("room:message", "room:typing")]


@pytest.mark.parametrize("payload, code", [
    ({"content": ""}, "empty_message"),
    ({"content": "  \n "}, "empty_message"),
    ({"content": None}, "empty_message"),
    ({"content": 42}, "empty_message"),
    ({"content": "x" * 2001}, "message_too_long"),
    ({"content": "hi", "ooc": "yes"}, "bad_payload"),
    ("just text", "bad_payload"),
    (None, "bad_payload"),
])
def test_bad_messages_get_a_room_error_and_change_nothing(app, people, payload, code):
    owner, = people(1)
    room = make_room(owner)
    sio = room_socket(app, owner, room["id"])
    before = room_rows(app)
    if isinstance(payload, dict):
        payload = {"room_id": room["id"], **payload}
    sio.emit("room:send", payload)
    error = wait_for(sio, "room:error", timeout=10)
    assert error["code"] == code and error["message"]
    assert room_rows(app) == before and settle(app, room["id"]) == []


def test_a_kicked_member_leaves_the_room_at_once_and_receives_nothing_more(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    staying, kicked = room_socket(app, owner, room["id"]), room_socket(app, guest, room["id"])
    kicked_too = room_socket(app, guest, room["id"])  # a second tab of the same person
    response = owner.call("DELETE", f"/api/rooms/{room['id']}/members/{guest.id}")
    assert response.status_code in (200, 204), response.get_json()
    for sio in (kicked, kicked_too):
        assert wait_for(sio, "room:error", timeout=10)["code"] == "removed"
    wait_for(staying, "room:presence", lambda p: p["online"] == [owner.id])
    staying.emit("room:send", {"room_id": room["id"], "content": "Now it's just us"})
    wait_for(staying, "room:done")
    settle(app, room["id"])
    for sio in (kicked, kicked_too):
        assert not [name for name in _names(sio) if name in ROOM_EVENTS]
        sio.emit("room:send", {"room_id": room["id"], "content": "I'm still here"})
        assert wait_for(sio, "room:error", timeout=10)["code"] == "not_member"
        sio.emit("room:join", {"room_id": room["id"]})
        assert wait_for(sio, "room:error", timeout=10)["code"] == "not_member"
    assert "I'm still here" not in [m.content for m in messages(app, room["id"])]
