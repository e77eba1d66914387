"""Ending a user's live Socket.IO connections at once (a ban): a final `auth:ended {code,
reason, rule, message}` to each, then a server-side disconnect.

A user's sockets are found two ways: the room `user:<id>` (which conversations' connect handler
should join; rooms also reach sockets on other server processes through the message queue), and,
on this process, every socket whose saved Flask session carries one of the user's logins (the
Flask-Login id here is "<login id>:<token>"), so a ban ends the sockets even before that room
exists. python-socketio keeps one connect handler per namespace (a second `@socketio.on
("connect")` replaces the first), so moderation does not register its own."""
import logging

log = logging.getLogger(__name__)

NAMESPACE = "/"
ENDED_EVENT = "auth:ended"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def end_user_sockets(server, user_id: int, login_ids, payload: dict) -> int:
    """Tell and disconnect every socket of the user; returns how many were found here.
    `server` is the python-socketio Server (`socketio.server`); None: nothing to do."""
    if server is None:
        return 0
    room = user_room(user_id)
    server.emit(ENDED_EVENT, payload, to=room, namespace=NAMESPACE)  # every process
    sids = {sid for sid, _eio in server.manager.get_participants(NAMESPACE, room)}
    sids |= set(_sids_of_logins(server, {int(i) for i in login_ids}))
    in_room = {sid for sid, _eio in server.manager.get_participants(NAMESPACE, room)}
    for sid in sids:
        try:
            if sid not in in_room:
                server.emit(ENDED_EVENT, payload, to=sid, namespace=NAMESPACE)
            server.disconnect(sid, namespace=NAMESPACE)
        except Exception:  # one socket's failure must not keep the others open
            log.exception("ending socket %s of user %s failed", sid, user_id)
    if hasattr(server.manager, "close_room"):
        server.manager.close_room(room, NAMESPACE)
    return len(sids)


def _sids_of_logins(server, login_ids: set[int]):
    for sid, _eio in list(server.manager.get_participants(NAMESPACE, None)):
        try:
            environ = server.get_environ(sid, namespace=NAMESPACE) or {}
        except Exception:
            continue
        session = environ.get("saved_session") or {}
        credential = session.get("_user_id") if hasattr(session, "get") else None
        if isinstance(credential, str) and credential.split(":", 1)[0].isdigit() \
                and int(credential.split(":", 1)[0]) in login_ids:
            yield sid
