"""Ending live Socket.IO connections when what let them in ends: a log-out, a password change,
a ban. Every socket joins two rooms when it connects (conversations/events.py): its user's and
its login's. Ending a room tells each socket why (`auth:ended {code, message}`) and then
disconnects it on the server."""
NAMESPACE = "/"
ENDED_EVENT = "auth:ended"


def socket_left(server, sid: str, namespace: str = NAMESPACE) -> bool:
    """True when the socket an event came from has disconnected while the event was handled
    (a page closed or navigated away): joining it to a room then fails, and nobody is left to
    answer, so it is the client's leaving, not a server failure."""
    return server is None or not server.manager.is_connected(sid, namespace)


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def login_room(login_id: int) -> str:
    return f"login:{login_id}"


def end_sockets(server, rooms, payload: dict) -> int:
    """Tell and disconnect every socket in `rooms` (on this process; the message goes to every
    process through the message queue). Returns how many were disconnected here."""
    if server is None:
        return 0
    ended = 0
    for room in rooms:
        sids = [sid for sid, _eio in server.manager.get_participants(NAMESPACE, room)]
        server.emit(ENDED_EVENT, payload, to=room, namespace=NAMESPACE)
        for sid in sids:
            server.disconnect(sid, namespace=NAMESPACE)
            ended += 1
    return ended
