"""A room as a SillyTavern group chat: JSONL, the format SillyTavern's own chat import and export
read and write (SillyTavern/SillyTavern src/endpoints/chats.js, `/import` with file_type
`jsonl` and `/group/get`): one JSON object per line, split on "\\n".

    line 1    {user_name, character_name, create_date, chat_metadata}
    then      {name, is_user, is_system, send_date, mes, extra} per message, oldest first

Out-of-character lines are `is_system: true` (SillyTavern's hidden-from-the-prompt messages;
its text export skips them). The assistant's answers are system lines too, since they never
entered a character's prompt. Private suggestions are the asker's only: they appear in the
asker's own export and nobody else's. `send_date` is SillyTavern's humanizedISO8601DateTime
(src/util.js), in UTC. No Flask here."""
import json
from datetime import datetime, timezone

from sqlmodel import Session, select

from characters.models import Character
from core.users import User
from rooms import service
from rooms.models import Room, RoomMessage

ASSISTANT_NAME = "Assistant"


def export_jsonl(session: Session, room: Room, viewer: User) -> str:
    """The room's messages `viewer` may see, as SillyTavern group chat JSONL."""
    query = (select(RoomMessage)
             .where(RoomMessage.room_id == room.id, service.visible_to(viewer.id),
                    RoomMessage.status != "blocked")
             .order_by(RoomMessage.id))
    messages = list(session.exec(query))
    names = service.speaker_names(session, messages)
    cast = [session.get(Character, stint.character_id).name
            for stint in service.active_characters(session, room.id)]
    header = {
        "user_name": _person(viewer),
        "character_name": ", ".join(cast) or room.title,
        "create_date": humanized_date(room.created_at),
        "chat_metadata": {"kindred_room": {"id": room.id, "title": room.title,
                                           "strategy": room.strategy,
                                           "scenario": room.scenario}},
    }
    lines = [header] + [_line(message, names) for message in messages]
    # Joined with "\n" and no final newline, as SillyTavern's /save and /group/save write them.
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)


def humanized_date(moment: datetime) -> str:
    """SillyTavern's humanizedISO8601DateTime: "2026-12-1 @17h 05m 09s 42ms" (month, day and
    milliseconds unpadded past one digit, as its util.js writes them)."""
    moment = moment.astimezone(timezone.utc)
    ms = moment.microsecond // 1000
    return (f"{moment.year}-{moment.month}-{moment.day} @{moment.hour:02d}h {moment.minute:02d}m "
            f"{moment.second:02d}s {ms:02d}ms")


def _line(message: RoomMessage, names: dict) -> dict:
    if message.speaker == "character":
        name = names.get(("character", message.character_id)) or "Character"
    elif message.speaker == "assistant":
        name = ASSISTANT_NAME
    else:
        name = names.get(("user", message.user_id)) or "Someone"
    return {"name": name, "is_user": message.speaker == "user",
            "is_system": message.ooc or message.speaker == "assistant",
            "send_date": humanized_date(message.created_at), "mes": message.content,
            "extra": {"kindred": {"message_id": message.id, "speaker": message.speaker,
                                  "user_id": message.user_id,
                                  "character_id": message.character_id,
                                  "ooc": message.ooc, "status": message.status}}}


def _person(user: User) -> str:
    return user.display_name or user.username
