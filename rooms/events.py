"""Socket.IO handlers of group rooms: thin, they check membership and hand over to RoomTurns.

Client -> server:
    room:join {room_id}                  -> room:joined {room, members, online, history}
    room:send {room_id, content, ooc?}   a person's message (room:message to the room)
    room:typing {room_id}                -> room:typing {room_id, user_id} to the others
    room:trigger {room_id, character_id} that character speaks next
    room:stop {room_id}                  stop the turn being written
Server -> room: room:message, room:turn, room:token, room:done, room:presence, room:typing;
to the asking socket: room:error {code, message, room_id}.
Only members join or send (anyone else: `not_member`). Removing a member (a kick or a leave,
rooms.service.remove_member records RoomMemberRemoved) makes that person's sockets leave the
room at once (`remove_sockets`, wired in app/wiring.py), on every server process. The socket's
login and its user's room come from conversations/events.py's connect handler; a socket's
disconnect reaches `on_socket_disconnect` through the hook list that handler runs."""
import logging
from functools import wraps

from flask import current_app, request
from flask_login import current_user
from flask_socketio import disconnect, emit, join_room

from core.errors import KindredError
from core.extensions import socketio
from core.users import User
from core.web.db import db_session
from core.web.event_limits import check_event_rate
from core.web.request_body import message_text
from core.web.sockets import NAMESPACE, socket_left
from rooms import service
from rooms.turns import channel

log = logging.getLogger(__name__)

INTERNAL = "Something went wrong on the server while handling this; try again."


def room_event(handler):
    """Domain errors, malformed payloads and unexpected failures -> one room:error to the
    asking socket (`internal` for the unexpected, logged)."""
    @wraps(handler)
    def wrapper(payload=None):
        room_id = payload.get("room_id") if isinstance(payload, dict) else None
        room_id = room_id if isinstance(room_id, int) else None
        if not current_user.is_authenticated:
            emit("room:error", {"code": "login_required", "room_id": room_id,
                                "message": "Your session ended; log in again."})
            disconnect()
            return None
        try:
            if not isinstance(payload, dict):
                raise KindredError("bad_payload", "Send a JSON object, e.g. {\"room_id\": 1}.")
            return handler(payload)
        except KindredError as exc:
            emit("room:error", {**exc.payload(), "room_id": room_id})
        except Exception:
            if socket_left(socketio.server, request.sid):
                log.info("%s for room %s ended: its socket left meanwhile", handler.__name__,
                         room_id)
                return None
            log.exception("%s failed for room %s", handler.__name__, room_id)
            emit("room:error", {"code": "internal", "message": INTERNAL, "room_id": room_id})
    return wrapper


@socketio.on("room:join")
@room_event
def on_join(payload):
    session = db_session()
    room = _member_room(session, payload)
    join_room(channel(room.id))
    _presence().join(room.id, request.sid, current_user.id)
    online = _presence().online(room.id)
    shown = service.history(session, current_user.id, room.id)
    names = service.speaker_names(session, shown)
    described = service.room_payload(session, room, online)
    emit("room:joined", {"room": described, "members": described["members"], "online": online,
                         "history": [service.message_payload(m, names) for m in shown],
                         "streaming": _turns().is_busy(session, room.id)})
    socketio.emit("room:presence", {"room_id": room.id, "online": online}, to=channel(room.id))


@socketio.on("room:send")
@room_event
def on_send(payload):
    content = message_text(payload.get("content"))
    ooc = payload.get("ooc", False)
    if not isinstance(ooc, bool):
        raise KindredError("bad_payload", "'ooc' is true or false.")
    check_event_rate(current_app.config["CHAT_SEND_RATE_LIMIT"], "room-send",
                     str(current_user.id))
    session = db_session()
    room = _member_room(session, payload)
    _turns().post(session, room, session.get(User, current_user.id), content, ooc)


@socketio.on("room:typing")
@room_event
def on_typing(payload):
    room = _member_room(db_session(), payload)
    emit("room:typing", {"room_id": room.id, "user_id": current_user.id},
         to=channel(room.id), include_self=False)


@socketio.on("room:trigger")
@room_event
def on_trigger(payload):
    session = db_session()
    room = _member_room(session, payload)
    _turns().trigger(session, room, session.get(User, current_user.id),
                     payload.get("character_id"))


@socketio.on("room:stop")
@room_event
def on_stop(payload):
    session = db_session()
    _turns().stop(session, _member_room(session, payload))


def on_socket_disconnect(sid: str) -> None:
    """A socket went: it is no longer online in its rooms; a room nobody is left in stops the
    turn being written there (its text so far is kept)."""
    presence = _presence()
    for room_id in presence.rooms_of(sid):
        presence.leave(room_id, sid)
        online = presence.online(room_id)
        socketio.emit("room:presence", {"room_id": room_id, "online": online},
                      to=channel(room_id))
        if not online:
            _turns().room_left_empty(room_id)


def remove_sockets(turns, room_id: int, user_id: int) -> None:
    """RoomMemberRemoved: every socket of that person leaves the room now, on whichever
    process holds it (the Socket.IO message queue carries the leave), after one
    room:error `removed` so the page can say why; the others see the new presence."""
    presence, server = turns.coordination.presence, socketio.server
    room = channel(room_id)
    for sid in presence.sids(room_id, user_id):
        server.emit("room:error", {"code": "removed", "room_id": room_id,
                                   "message": "You are no longer a member of this room."},
                    to=sid, namespace=NAMESPACE)
        server.leave_room(sid, room, namespace=NAMESPACE)
        presence.leave(room_id, sid)
    socketio.emit("room:presence", {"room_id": room_id, "online": presence.online(room_id)},
                  to=room)


def _member_room(session, payload: dict):
    """The payload's room, checked to have the connected user as a member."""
    try:
        return service.member_room(session, current_user.id, payload.get("room_id"))
    except KindredError as exc:
        if exc.code != "not_found":
            raise
        raise KindredError("not_member", "You are not a member of this room (or it does not "
                                         "exist); ask its owner for an invite.", 403) from None


def _turns():
    return current_app.extensions["kindred.rooms"]


def _presence():
    return _turns().coordination.presence
