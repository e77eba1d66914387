"""Room sockets over the Flask-SocketIO test client, and waiting for a room's turns to settle."""
import time

from sqlmodel import Session, select

from core.extensions import socketio
from rooms.models import RoomMessage
from tests.support.events import wait_for

SETTLE_TIMEOUT = 60.0


def room_socket(app, person, room_id=None):
    """A test-client socket with `person`'s cookies, joined to `room_id` when given."""
    sio = socketio.test_client(app, flask_test_client=person.client)
    assert sio.is_connected()
    if room_id is not None:
        sio.emit("room:join", {"room_id": room_id})
        wait_for(sio, "room:joined", timeout=10)
    return sio


def messages(app, room_id, speaker=None) -> list[RoomMessage]:
    with Session(app.extensions["kindred.db"]) as session:
        query = select(RoomMessage).where(RoomMessage.room_id == room_id)
        if speaker is not None:
            query = query.where(RoomMessage.speaker == speaker)
        return list(session.exec(query.order_by(RoomMessage.id)))


def settle(app, room_id, *more_apps, timeout: float = SETTLE_TIMEOUT) -> list[RoomMessage]:
    """The room's messages once every app's turns there are done: no window waiting, no turn
    streaming (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = messages(app, room_id)
        if all(a.extensions["kindred.rooms"].idle(room_id) for a in (app, *more_apps)) and \
                not any(m.status == "streaming" for m in stored):
            return stored
        time.sleep(0.05)
    raise AssertionError(f"room {room_id} was still busy after {timeout} s")


def errors(sio) -> list[dict]:
    return [e["args"][0] for e in sio.get_received() if e["name"] == "room:error"]
