"""A chat excerpt to share: the messages a user picked from their own conversation, in the order
they were written, with e-mail addresses, phone numbers and street addresses masked
(safety.privacy.mask), in the excerpt and in the caption alike. No Flask here.

    chat_excerpt(session, user, conversation_id, message_ids) -> Excerpt
    masked_text(text) -> (text, kinds)

Decisions written down here:
- Only the user's own conversation (404 otherwise), and only its messages (a message id from
  another conversation, or an unknown one, is 404: nothing is stored).
- Messages the safety pipeline blocked, that a moderator hid, or that are still streaming or
  empty cannot be shared (422 `message_not_shareable`).
- At most MAX_MESSAGES messages; each is cut at MAX_MESSAGE_CHARS (an excerpt is a taste of the
  chat, not a transcript)."""
from dataclasses import dataclass, field

from sqlmodel import Session, select

from characters.models import Character
from conversations.models import Conversation, Message
from conversations.service import owned_conversation
from core.db import is_id
from core.errors import KindredError, not_found
from core.users import User
from moderation.queue import hidden_ids
from safety.privacy import mask

MAX_MESSAGES = 12
MAX_MESSAGE_CHARS = 1000
SHAREABLE_STATUSES = ("complete", "stopped")
ROLES = {"user": "user", "assistant": "character"}


@dataclass
class Excerpt:
    conversation: Conversation
    character: Character
    lines: list[dict]  # [{"role", "name", "content"}], masked
    masked: list[str] = field(default_factory=list)  # kinds masked ("email", "phone", ...)


def chat_excerpt(session: Session, user: User, conversation_id, message_ids) -> Excerpt:
    """The masked excerpt of `message_ids` from the user's conversation; raises KindredError."""
    ids = _checked_ids(message_ids)
    conversation = owned_conversation(session, user.id, conversation_id)
    messages = list(session.exec(select(Message).where(Message.id.in_(ids))))
    if len(messages) != len(ids) or any(m.conversation_id != conversation.id for m in messages):
        raise not_found("message in that conversation")
    hidden = hidden_ids(session, "message", ids)
    for message in messages:
        if message.status not in SHAREABLE_STATUSES or message.id in hidden or \
                not message.content.strip():
            raise KindredError("message_not_shareable",
                               f"Message {message.id} cannot be shared: only finished messages "
                               "that were not blocked or hidden can.", 422)
    character = session.get(Character, conversation.character_id)
    names = {"user": user.display_name or user.username, "character": character.name}
    excerpt = Excerpt(conversation, character, [])
    for message in sorted(messages, key=lambda m: (m.created_at, m.id)):
        role = ROLES.get(message.role, "character")
        content, kinds = masked_text(message.content[:MAX_MESSAGE_CHARS])
        excerpt.lines.append({"role": role, "name": names[role], "content": content})
        _add_kinds(excerpt.masked, kinds)
    return excerpt


def masked_text(text: str) -> tuple[str, tuple[str, ...]]:
    found = mask(text or "")
    return found.text, found.kinds


def merge_kinds(into: list[str], kinds) -> list[str]:
    _add_kinds(into, kinds)
    return into


def _add_kinds(into: list[str], kinds) -> None:
    for kind in kinds:
        if kind not in into:
            into.append(kind)


def _checked_ids(message_ids) -> list[int]:
    if not isinstance(message_ids, list) or not message_ids:
        raise KindredError("missing_messages", "'message_ids' must be a non-empty list of the "
                                               "ids of messages in the conversation.")
    if not all(is_id(i) for i in message_ids):
        raise KindredError("bad_request", "'message_ids' must hold positive integer ids.")
    ids = list(dict.fromkeys(message_ids))
    if len(ids) > MAX_MESSAGES:
        raise KindredError("too_many_messages", f"An excerpt holds at most {MAX_MESSAGES} "
                                                f"messages; {len(ids)} were picked.")
    return ids
