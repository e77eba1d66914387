"""Socket.IO handlers for chat: thin, they validate and hand over to the chat service.

Every handler answers a problem the same way, through `chat_event`: one
`chat:error {code, message, conversation_id}` to the asking socket, whether the problem is a
domain error, a malformed payload or an unexpected failure (`internal`, logged with the
conversation id). A handler uses the event's one database session (`db_session()`, closed when
the event's context ends) and never opens a second while it holds it; the subscribers of what
it commits run after its connection is back in the pool."""
import logging
from dataclasses import dataclass, field
from functools import wraps

from flask import current_app, request
from flask import session as socket_session  # the socket's own saved session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room

from core.web.db import db_session
from core.web.event_limits import check_event_rate
from core.web.sockets import login_room, socket_left, user_room
from core.web.request_body import message_text
from characters.models import Character
from conversations import service
from conversations.replies import reply_so_far, room_for
from core.errors import KindredError
from core.extensions import socketio
from core.users import User

log = logging.getLogger(__name__)

DISCONNECT_HOOKS = "kindred.socket_disconnect_hooks"  # app.extensions key: [callable(sid)]
INTERNAL = ("Something went wrong on the server while handling this; nothing was stored for "
            "it, so you can send it again.")
INTERNAL_AFTER_SAVE = ("Your message is saved, but the reply could not be started because of "
                       "a problem on the server; try Regenerate.")


@socketio.on("connect")
def on_connect(_auth=None):
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("Log in before opening a chat connection.",
                                     {"code": "login_required"})
    # So that a log-out, a password change or a ban can end this socket (core/web/sockets.py).
    join_room(user_room(current_user.id))
    join_room(login_room(current_user.login_id))
    # Which helpline texts this socket's user gets (SUPPORT_RESOURCES is keyed by locale).
    socket_session["chat_locale"] = request.headers.get("Accept-Language", "en")[:100]


@socketio.on("disconnect")
def on_disconnect(*_args):
    try:
        _replies().stop_all_for_sid(request.sid)
    except Exception:
        log.exception("stopping the replies of disconnected socket %s failed", request.sid)
    # Socket.IO keeps one handler per event: other domains' live features (group rooms) hook
    # in here, through the list the app wires (app/wiring.py).
    for hook in current_app.extensions.get(DISCONNECT_HOOKS, ()):
        try:
            hook(request.sid)
        except Exception:
            log.exception("disconnect hook %s failed for socket %s", hook, request.sid)


def chat_event(handler):
    """Turn domain errors, malformed payloads and unexpected failures into one
    `chat:error {code, message, conversation_id}`; an unexpected failure is logged with the
    conversation id and answered with code `internal`."""
    @wraps(handler)
    def wrapper(payload=None):
        conversation_id = _conversation_id_of(payload)
        if not current_user.is_authenticated:  # its login ended since the socket connected
            emit("chat:error", {"code": "login_required", "conversation_id": conversation_id,
                                "message": "Your session ended; log in again."})
            disconnect()
            return None
        try:
            if not isinstance(payload, dict):
                raise KindredError("bad_payload", "Send a JSON object, e.g. "
                                                  "{\"conversation_id\": 1, \"content\": \"Hi\"}.")
            return handler(payload)
        except KindredError as exc:
            emit("chat:error", {**exc.payload(), "conversation_id": conversation_id})
        except Exception:
            if socket_left(socketio.server, request.sid):
                log.info("%s for conversation %s ended: its socket left meanwhile",
                         handler.__name__, conversation_id)
                return None
            log.exception("%s failed for conversation %s", handler.__name__, conversation_id)
            emit("chat:error", {"code": "internal", "message": INTERNAL,
                                "conversation_id": conversation_id})
    return wrapper


@socketio.on("chat:join")
@chat_event
def on_join(payload):
    """Join the room; a reply being written (on any process) is announced with its text so far,
    and one whose process died is marked interrupted first (its chat:done goes to the room)."""
    conversation, replies = _owned(payload), _replies()
    join_room(room_for(conversation))
    replies.recover(conversation, db_session())
    streaming = replies.is_busy(conversation)
    answer = {"conversation_id": conversation, "streaming": streaming}
    if streaming and (message := reply_so_far(db_session(), conversation)) is not None:
        answer["message"] = message
    emit("chat:joined", answer)


@dataclass
class Turn:
    """What a handler's turn gives `_reply`: the history to answer, the user message to show
    (if it added one), a chat:error to send instead of a reply (a blocked message) and the
    chat:notice payloads for the sender."""
    history: list
    shown: dict | None = None
    refused: dict | None = None
    notices: list = field(default_factory=list)


@socketio.on("chat:send")
@chat_event
def on_send(payload):
    content = message_text(payload.get("content"))

    def user_turn(session, conversation, user, character):
        guard, path = _replies().guard, service.active_path(session, conversation)
        # End the read transaction (nothing is written yet): the Moderator reads its rules on a
        # connection of its own, and no thread holds two at once.
        session.commit()
        verdict = guard.check_message(user, conversation, character, content, path) \
            if guard else None
        blocked = verdict is not None and verdict.blocked
        message = service.add_user_message(
            session, conversation, verdict.text if verdict else content, commit=False,
            status="blocked" if blocked else "complete",
            moderation=verdict.moderation if verdict else None)
        turn = Turn(path + [message],
                    service.message_payload(message, service.siblings_of(session, message)))
        if verdict is None:
            return turn
        guard.record(session, verdict, "chat_message", message.id, user.id)
        if verdict.support:  # even when something else blocks it: never a silent block
            turn.notices.append(guard.support_notice(conversation.id, _locale(),
                                                     verdict.support_level))
        if blocked:
            turn.refused = guard.blocked_error(verdict, conversation.id, message.id)
            return turn
        if (nudge := guard.wellbeing_notice(session, user, conversation.id)) is not None:
            turn.notices.append(nudge)
        return turn

    _reply(payload, user_turn)


@socketio.on("chat:regenerate")
@chat_event
def on_regenerate(payload):
    _reply(payload, lambda session, conversation, _user, _character:
           Turn(service.regeneration_history(session, conversation)))


def _reply(payload: dict, turn) -> None:
    """One pass: the conversation is loaded once (checked to be the user's and its character
    still able to answer them), the user checked to be in good standing (a suspended or banned
    user stores nothing), the conversation claimed for one reply (refused while the user has
    MAX_LIVE_REPLIES_PER_USER streaming), `turn(session, conversation, user, character)` gives
    the Turn, and the reply is prepared in the same session, which commits the user message and
    the reply's placeholder together. A failure before that commit stores nothing. A blocked
    message is committed alone and answered with its chat:error instead of a reply. Then the
    user's message is shown in the room and the reply streams. Over CHAT_SEND_RATE_LIMIT
    (sends and regenerations together, per user) nothing is stored: chat:error rate_limited."""
    check_event_rate(current_app.config["CHAT_SEND_RATE_LIMIT"], "chat-send",
                     str(current_user.id))
    session = db_session()
    conversation = service.conversation_to_continue(session, current_user.id,
                                                    payload.get("conversation_id"))
    user = session.get(User, current_user.id)
    replies = _replies()
    if replies.guard is not None:
        replies.guard.check_standing(user)
    character = session.get(Character, conversation.character_id)
    replies.recover(conversation.id, session)  # a reply left by a process that died: interrupted
    live = replies.reserve(conversation.id, sid=request.sid, user_id=current_user.id)
    try:
        done = turn(session, conversation, user, character)
        if done.refused is None:
            replies.prepare(session, live, conversation, done.history, current_user.username,
                            user=user)
        else:
            session.commit()
            replies.release(live)
    except BaseException:
        session.rollback()
        replies.release(live)
        raise
    try:
        room = room_for(conversation.id)
        join_room(room)
        if done.shown is not None:
            socketio.emit("chat:message", {"conversation_id": conversation.id,
                                           "message": done.shown}, to=room)
        for notice in done.notices:
            emit("chat:notice", notice)
        if done.refused is not None:
            emit("chat:error", done.refused)
            return
        replies.launch(live)
    except Exception:  # the user message is stored: say so, and how to go on
        log.exception("starting the reply failed for conversation %s", conversation.id)
        emit("chat:error", {"code": "internal", "message": INTERNAL_AFTER_SAVE,
                            "conversation_id": conversation.id})


@socketio.on("chat:stop")
@chat_event
def on_stop(payload):
    conversation_id = _owned(payload)
    if not _replies().stop(conversation_id):
        raise KindredError("not_generating", "No reply is being written in this conversation.")


def _owned(payload: dict) -> int:
    """The payload's conversation id, checked to belong to the connected user."""
    return service.owned_conversation(db_session(), current_user.id,
                                      payload.get("conversation_id")).id


def _conversation_id_of(payload):
    value = payload.get("conversation_id") if isinstance(payload, dict) else None
    return value if isinstance(value, int) else None


def _locale() -> str:
    return socket_session.get("chat_locale") or "en"


def _replies():
    return current_app.extensions["kindred.replies"]
