"""What can be reported and acted on: messages, characters, users, and conversations (only
escalated, never reported). For each: whether a user may see it (reporting what you cannot see
is a 404), whose it is, a short summary and the context a moderator reads. Other domains add
kinds of their own (a support ticket, a post) with `register_target` from app/wiring.py, so
moderation never imports them. No Flask here."""
from dataclasses import dataclass
from typing import Callable, Optional

from sqlmodel import Session, select

from characters.models import Character
from characters.service import visible_character
from conversations.models import Conversation, Message
from conversations.service import owned_message, path_to
from core.db import is_id
from core.errors import KindredError, not_found
from core.users import User, standing

REPORTABLE = ("message", "character", "user")
TARGET_TYPES = REPORTABLE + ("conversation",)
CONTEXT_BEFORE, CONTEXT_AFTER = 3, 3


@dataclass(frozen=True)
class TargetProvider:
    """A kind of target another domain owns. `author_of(session, id)` raises not_found when it
    is gone; `context(session, id)` gives `{field, text}` lines; `visible_author(session,
    viewer_id, id)`, when set, makes the kind reportable by users; `noun` names it in notices
    ("A <noun> of yours"); `set_hidden(session, id, hidden)`, when set, lets moderators hide and
    restore it (called inside the action's transaction, which commits it)."""
    author_of: Callable[[Session, int], Optional[int]]
    context: Callable[[Session, int], list[dict]]
    visible_author: Optional[Callable[[Session, int, int], Optional[int]]] = None
    noun: str = "item"
    set_hidden: Optional[Callable[[Session, int, bool], None]] = None


_PROVIDERS: dict[str, TargetProvider] = {}  # kinds are code, registered once per process


def register_target(target_type: str, provider: TargetProvider) -> None:
    _PROVIDERS[target_type] = provider


def provider_of(target_type: str) -> Optional[TargetProvider]:
    return _PROVIDERS.get(target_type)


def hideable(target_type: str) -> bool:
    """Whether hide and restore apply: messages, characters and providers that can hide."""
    provider = provider_of(target_type)
    return target_type in ("message", "character") or (
        provider is not None and provider.set_hidden is not None)


def target_types() -> tuple[str, ...]:
    return TARGET_TYPES + tuple(t for t in _PROVIDERS if t not in TARGET_TYPES)


def check_target(target_type, target_id) -> tuple[str, int]:
    if target_type not in target_types():
        raise KindredError("bad_target_type",
                           f"'target_type' must be one of {', '.join(target_types())}.")
    if not is_id(target_id):
        raise KindredError("bad_request", "'target_id' must be a positive integer id.")
    return target_type, target_id


def visible_author(session: Session, viewer_id: int, target_type: str, target_id: int
                   ) -> Optional[int]:
    """The author of a target `viewer_id` may see and report; not_found otherwise."""
    provider = provider_of(target_type)
    if provider is not None and provider.visible_author is not None:
        return provider.visible_author(session, viewer_id, target_id)
    if target_type == "message":
        message, conversation = owned_message(session, viewer_id, target_id)
        return _message_author(session, message, conversation)
    if target_type == "character":
        return visible_character(session, target_id, viewer_id).creator_id
    if target_type == "user":
        user = session.get(User, target_id)
        if user is None:
            raise not_found("user")
        return user.id
    raise KindredError("bad_target_type", f"Only {', '.join(REPORTABLE)} can be reported.")


def author_of(session: Session, target_type: str, target_id: int) -> Optional[int]:
    """Whose the target is (moderators see everything); not_found if it does not exist.
    A user's message is the conversation's user's; a character's reply is its creator's."""
    if (provider := provider_of(target_type)) is not None:
        return provider.author_of(session, target_id)
    if target_type == "message":
        message = session.get(Message, target_id)
        if message is None:
            raise not_found("message")
        return _message_author(session, message, session.get(Conversation,
                                                             message.conversation_id))
    if target_type == "character":
        character = session.get(Character, target_id)
        if character is None:
            raise not_found("character")
        return character.creator_id
    if target_type == "conversation":
        conversation = session.get(Conversation, target_id)
        if conversation is None:
            raise not_found("conversation")
        return conversation.user_id
    user = session.get(User, target_id)
    if user is None:
        raise not_found("user")
    return user.id


def conversation_of(session: Session, target_type: str, target_id: int) -> Optional[int]:
    if target_type == "conversation":
        return target_id
    if target_type == "message":
        message = session.get(Message, target_id)
        return message.conversation_id if message else None
    return None


def context(session: Session, target_type: str, target_id: int) -> list[dict]:
    """What a moderator reads around the target: for a message, the messages before it and
    after it on the same branch; for a conversation, its last messages on the visible branch;
    for a character, its card; for a user, the account and its profile."""
    if (provider := provider_of(target_type)) is not None:
        return provider.context(session, target_id)
    if target_type == "message":
        message = session.get(Message, target_id)
        if message is None:
            return []
        conversation = session.get(Conversation, message.conversation_id)
        before = path_to(session, conversation, message.id)[-CONTEXT_BEFORE - 1:]
        return [_line(m, m.id == message.id) for m in before + _after(session, conversation,
                                                                    message)]
    if target_type == "conversation":
        conversation = session.get(Conversation, target_id)
        if conversation is None:
            return []
        path = path_to(session, conversation, conversation.active_leaf_id)
        return [_line(m, False) for m in path[-(CONTEXT_BEFORE + CONTEXT_AFTER + 2):]]
    if target_type == "character":
        character = session.get(Character, target_id)
        if character is None:
            return []
        return [{"field": field, "text": str(getattr(character, field) or "")[:2000]}
                for field in ("name", "tagline", "description", "personality", "scenario",
                              "first_mes", "visibility", "content_rating")]
    user = session.get(User, target_id)
    if user is None:
        return []
    return [{"field": "username", "text": user.username},
            {"field": "display_name", "text": user.display_name or ""},
            {"field": "bio", "text": user.bio or ""},
            {"field": "standing", "text": standing(user)},
            {"field": "created_at", "text": user.created_at.isoformat()}]


def person(session: Session, user_id: Optional[int]) -> Optional[dict]:
    user = session.get(User, user_id) if user_id else None
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "role": user.role,
            "standing": standing(user),
            "suspended_until": user.suspended_until.isoformat() if user.suspended_until else None,
            "banned_at": user.banned_at.isoformat() if user.banned_at else None}


def _message_author(session: Session, message: Message, conversation: Conversation
                    ) -> Optional[int]:
    if message.role == "user":
        return conversation.user_id
    character = session.get(Character, conversation.character_id)
    return character.creator_id if character else None


def _after(session: Session, conversation: Conversation, message: Message) -> list[Message]:
    """Up to CONTEXT_AFTER messages below `message`: along the visible branch where it is on
    it, else along the newest child."""
    on_path = {m.id for m in path_to(session, conversation, conversation.active_leaf_id)}
    after, node = [], message
    while len(after) < CONTEXT_AFTER:
        children = list(session.exec(select(Message).where(Message.parent_id == node.id)
                                     .order_by(Message.id.desc())))
        if not children:
            break
        node = next((c for c in children if c.id in on_path), children[0])
        after.append(node)
    return after


def _line(message: Message, is_target: bool) -> dict:
    return {"id": message.id, "role": message.role, "content": message.content,
            "created_at": message.created_at.isoformat(), "target": is_target}
