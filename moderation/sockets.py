"""Ending a banned user's live Socket.IO connections at once: every socket joins its user's
room when it connects (core/web/sockets.py), so a ban tells each one why (`auth:ended {code,
reason, rule, message}`) and disconnects it, on this process and, through the message queue,
on the others."""
from core.web.sockets import end_sockets, user_room

__all__ = ["end_user_sockets", "user_room"]


def end_user_sockets(server, user_id: int, login_ids, payload: dict) -> int:
    """Tell and disconnect every socket of the user; returns how many were found here.
    `login_ids` (the logins the ban revoked) need no room of their own: the user's room holds
    every socket of theirs. `server` None: nothing to do."""
    return end_sockets(server, [user_room(user_id)], payload)
