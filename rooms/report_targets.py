"""Room messages as moderation targets: the safety pipeline flags them (ContentFlagged with
target_type `room_message`), members report them through POST /api/reports, moderators read
them in the queue with the messages around them and hide or restore them. app/wiring.py
registers the kind with moderation.targets.register_target. No Flask here.

Whether a room message is hidden is the queue item's `hidden` flag, which moderation sets for a
hide, a restore and a hold of the pipeline alike; rooms.service reads it in SQL
(`service.not_hidden`), so a hidden message leaves every member's history, the export and every
character's prompt, and a restore brings it back."""
from typing import Optional

from sqlmodel import Session, select

from core.errors import not_found
from moderation.targets import TargetProvider, register_target
from rooms import service
from rooms.models import RoomMessage

CONTEXT_BEFORE, CONTEXT_AFTER = 3, 3
MAX_CONTEXT_CHARS = 2000


def register() -> None:
    register_target(service.TARGET_TYPE, TargetProvider(
        author_of=_author, context=_context, visible_author=_visible_author,
        noun="room message", set_hidden=_set_hidden))


def _author(session: Session, message_id: int) -> Optional[int]:
    """The person who wrote it; a character's turn or the assistant's answer is nobody's (an
    action then affects no user: hide it, but there is no one to warn)."""
    return _author_of(_message(session, message_id))


def _visible_author(session: Session, viewer_id: int, message_id: int) -> Optional[int]:
    """Members report what they can see in the room: not another's private suggestion, not a
    blocked line (its author's alone). Anything else is 404, as for a non-member."""
    message = session.get(RoomMessage, message_id)
    if message is None or message.status == "blocked" or \
            message.private_to not in (None, viewer_id):
        raise not_found("room message")
    service.member_room(session, viewer_id, message.room_id)
    return _author_of(message)


def _set_hidden(session: Session, message_id: int, hidden: bool) -> None:
    """Nothing to write: the action has just set the queue item's `hidden`, which is what rooms
    reads (a pipeline's hold sets only that, so it must be the one record)."""
    _message(session, message_id)


def _context(session: Session, message_id: int) -> list[dict]:
    """The message and up to three before and three after it in its room, each with its
    speaker's name; private suggestions stay out (they are no part of the room's talk)."""
    message = session.get(RoomMessage, message_id)
    if message is None:
        return []
    shared = (RoomMessage.room_id == message.room_id) & (RoomMessage.private_to.is_(None))
    before = list(session.exec(select(RoomMessage).where(shared, RoomMessage.id < message.id)
                               .order_by(RoomMessage.id.desc()).limit(CONTEXT_BEFORE)))
    after = list(session.exec(select(RoomMessage).where(shared, RoomMessage.id > message.id)
                              .order_by(RoomMessage.id).limit(CONTEXT_AFTER)))
    lines = list(reversed(before)) + [message] + after
    names = service.speaker_names(session, lines)
    return [_line(line, names, line.id == message.id) for line in lines]


def _line(message: RoomMessage, names: dict, is_target: bool) -> dict:
    name = service.message_payload(message, names)["name"] or message.speaker
    return {"id": message.id, "role": name, "name": name, "speaker": message.speaker,
            "user_id": message.user_id, "character_id": message.character_id,
            "content": message.content[:MAX_CONTEXT_CHARS], "ooc": message.ooc,
            "status": message.status, "created_at": message.created_at.isoformat(),
            "target": is_target}


def _message(session: Session, message_id: int) -> RoomMessage:
    message = session.get(RoomMessage, message_id)
    if message is None:
        raise not_found("room message")
    return message


def _author_of(message: RoomMessage) -> Optional[int]:
    return message.user_id if message.speaker == "user" else None
