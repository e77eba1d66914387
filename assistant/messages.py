"""The room messages as the assistant reads them: plain dicts `{id, speaker, user_id,
character_id, name, content, ooc, created_at}` (RoomMessage rows are accepted too), with the
assistant's own turns, other people's private suggestions and `@assistant` requests left out:
they are no part of the conversation it summarises or searches.

`names` maps user ids to display names, flat (`{7: "Sam"}`) or split
(`{"users": {7: "Sam"}, "characters": {3: "Odessa"}}`); a message's own `name` wins."""
import re

FIELDS = ("id", "speaker", "user_id", "character_id", "name", "content", "ooc", "created_at")
REQUEST = re.compile(r"^\s*@assistant\b[\s,:;.!?-]*", re.IGNORECASE)


def strip_mention(text: str) -> str:
    return REQUEST.sub("", text or "", count=1).strip()


def conversation(messages, names: dict, asker_id: int) -> list[dict]:
    """The people's and characters' messages the asker may read, oldest first."""
    readable = []
    for message in messages:
        message = as_dict(message, names)
        private_to = message.get("private_to")
        if message["speaker"] == "assistant" or REQUEST.match(message["content"] or ""):
            continue
        if private_to is not None and private_to != asker_id:
            continue
        if message.get("status") == "blocked":
            continue
        readable.append(message)
    return sorted(readable, key=lambda m: m["id"])


def as_dict(message, names: dict) -> dict:
    if not isinstance(message, dict):
        message = {field: getattr(message, field, None)
                   for field in (*FIELDS, "private_to", "status")}
    message = dict(message)
    message["content"] = message.get("content") or ""
    if not message.get("name"):
        message["name"] = name_of(message, names)
    return message


def name_of(message: dict, names: dict) -> str:
    if message.get("speaker") == "character":
        found = names.get("characters", {}).get(message.get("character_id"))
        return found or "a character"
    return person_name(names, message.get("user_id")) or "someone"


def person_name(names: dict, user_id) -> str | None:
    if user_id is None:
        return None
    return names.get("users", {}).get(user_id) or names.get(user_id) or names.get(str(user_id))
