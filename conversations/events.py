"""Socket.IO handlers for chat: thin, they validate and hand over to the chat service."""
from functools import wraps

from flask import current_app, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room

from core.web.request_body import message_text
from conversations import service
from conversations.replies import room_for
from core.db import session_scope
from core.errors import KindredError
from core.extensions import socketio


@socketio.on("connect")
def on_connect(_auth=None):
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("Log in before opening a chat connection.",
                                     {"code": "login_required"})


@socketio.on("disconnect")
def on_disconnect(*_args):
    _replies().stop_all_for_sid(request.sid)


def chat_event(handler):
    """Turn domain errors and malformed payloads into one `chat:error {code, message}`."""
    @wraps(handler)
    def wrapper(payload=None):
        try:
            if not isinstance(payload, dict):
                raise KindredError("bad_payload", "Send a JSON object, e.g. "
                                                  "{\"conversation_id\": 1, \"content\": \"Hi\"}.")
            return handler(payload)
        except KindredError as exc:
            emit("chat:error", {**exc.payload(), "conversation_id": _conversation_id_of(payload)})
    return wrapper


@socketio.on("chat:join")
@chat_event
def on_join(payload):
    conversation = _owned(payload)
    join_room(room_for(conversation))
    emit("chat:joined", {"conversation_id": conversation,
                         "streaming": _replies().is_busy(conversation)})


@socketio.on("chat:send")
@chat_event
def on_send(payload):
    content = message_text(payload.get("content"))

    def user_turn(session, conversation):
        message = service.add_user_message(session, conversation, content)
        shown = service.message_payload(message, service.siblings_of(session, message))
        return service.path_to(session, conversation, message.id), shown

    _reply(payload, user_turn)


@socketio.on("chat:regenerate")
@chat_event
def on_regenerate(payload):
    _reply(payload, lambda session, conversation:
           (service.regeneration_history(session, conversation), None))


def _reply(payload: dict, turn) -> None:
    """One pass: the conversation is loaded once (and checked to be the user's), claimed for
    one reply, `turn(session, conversation)` gives the history to answer (and the user message
    to show, if it stored one), and the reply is prepared in the same session. Then the
    user's message is shown in the room and the reply streams."""
    with session_scope(_db()) as session:
        conversation = service.owned_conversation(session, current_user.id,
                                                  payload.get("conversation_id"))
        live = _replies().reserve(conversation.id, sid=request.sid)
        try:
            history, shown = turn(session, conversation)
            _replies().prepare(session, live, conversation, history, current_user.username)
        except Exception:
            _replies().release(live)
            raise
    room = room_for(live.conversation_id)
    join_room(room)
    if shown is not None:
        socketio.emit("chat:message", {"conversation_id": live.conversation_id, "message": shown},
                      to=room)
    _replies().launch(live)


@socketio.on("chat:stop")
@chat_event
def on_stop(payload):
    conversation_id = _owned(payload)
    if not _replies().stop(conversation_id):
        raise KindredError("not_generating", "No reply is being written in this conversation.")


def _owned(payload: dict) -> int:
    """The payload's conversation id, checked to belong to the connected user."""
    with session_scope(_db()) as session:
        return service.owned_conversation(session, current_user.id,
                                          payload.get("conversation_id")).id


def _conversation_id_of(payload):
    value = payload.get("conversation_id") if isinstance(payload, dict) else None
    return value if isinstance(value, int) else None


def _replies():
    return current_app.extensions["kindred.replies"]


def _db():
    return current_app.extensions["kindred.db"]
