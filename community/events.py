"""Live community events over Socket.IO: `notify:new {notification, unread}` to the user's own
sockets. Every socket joins its user's room when it connects (conversations/events.py), so the
notification reaches each tab and device of that user, and no one else."""
from core.web.sockets import user_room

NOTIFY_EVENT = "notify:new"


def live_notifier(socketio):
    """The `on_new(user_id, payload)` the Notifier calls after it commits (app/wiring.py)."""
    def push(user_id: int, payload: dict) -> None:
        socketio.emit(NOTIFY_EVENT, payload, to=user_room(user_id))
    return push
