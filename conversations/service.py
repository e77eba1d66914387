"""Conversations and their message tree: every message has a parent; the user sees one branch."""
from typing import Callable, Optional

from sqlmodel import Session, delete, select

from core import events
from core.db import is_id, utcnow
from core.event_types import ConversationStarted, MessageSent
from core.errors import KindredError, not_found
from conversations.models import Conversation, Message
from core.users import User
from conversations.placeholders import fill_placeholders
from characters.models import Character
from characters.service import age_allows, avatar_url, can_view, visible_character

# (session, user_id, character) -> the alternate greetings this user gets
GreetingSource = Callable[[Session, int, Character], list[str]]
# (session, message ids) -> the ids among them that moderation hid (handed in by the app)
HiddenIds = Callable[[Session, list[int]], set[int]]


def start_conversation(session: Session, user: User, character_id: int,
                       alternate_greetings: Optional[GreetingSource] = None,
                       source: str = "chat") -> Conversation:
    """A new chat whose first message is the greeting; alternate greetings are sibling roots.
    `alternate_greetings` says which of the card's alternates this user gets (relationships
    gates some by level); without it, all of them."""
    character = visible_character(session, character_id, user.id)
    alternates = (alternate_greetings(session, user.id, character) if alternate_greetings
                  else list(character.alternate_greetings or []))
    greetings = [fill_placeholders(text, character.name, user.username)
                 for text in [character.first_mes, *alternates] if text.strip()]
    conversation = _new_conversation(session, user, character, greetings, source)
    session.commit()
    return conversation


def open_conversation(session: Session, user: User, character: Character, opening: str,
                      source: str = "story") -> Conversation:
    """A new chat of `user` with `character` (the caller has checked they may see it) whose one
    root is `opening`, an assistant message such as a story's first scene, instead of the card's
    greetings. Flushed, not committed: the caller commits it with its own rows (ConversationStarted
    goes out then)."""
    return _new_conversation(session, user, character, [opening], source)


def list_conversations(session: Session, user: User) -> list[Conversation]:
    query = (select(Conversation).where(Conversation.user_id == user.id)
             .order_by(Conversation.updated_at.desc(), Conversation.id.desc()))
    return list(session.exec(query))


def owned_conversation(session: Session, user_id: int, conversation_id) -> Conversation:
    conversation = session.get(Conversation, conversation_id) if is_id(conversation_id) else None
    if conversation is None or conversation.user_id != user_id:
        raise not_found("conversation")
    return conversation


def owned_message(session: Session, user_id: int, message_id) -> tuple[Message, Conversation]:
    message = session.get(Message, message_id) if is_id(message_id) else None
    if message is None:
        raise not_found("message")
    conversation = session.get(Conversation, message.conversation_id)
    if conversation.user_id != user_id:
        raise not_found("message")
    return message, conversation


def active_path(session: Session, conversation: Conversation) -> list[Message]:
    """The visible chat: from the root greeting down to the active leaf."""
    return path_to(session, conversation, conversation.active_leaf_id)


def add_user_message(session: Session, conversation: Conversation, content: str,
                     commit: bool = True, status: str = "complete",
                     moderation: Optional[str] = None) -> Message:
    """The user's message below the active leaf. With `commit` False it is only flushed, so
    the chat handler commits it with the reply's placeholder in one transaction. `status`
    "blocked" and `moderation` (the safety verdict's category) come from conversations.guard."""
    message = Message(conversation_id=conversation.id, parent_id=conversation.active_leaf_id,
                      role="user", content=content, status=status, moderation=moderation)
    return _append(session, conversation, message, commit)


def conversation_to_continue(session: Session, user_id: int, conversation_id) -> Conversation:
    """The user's conversation, if its character may still answer them. A character its
    creator made private (or moderation hid) answers only the creator: other users' chats with
    it stay readable (owned_conversation) but cannot go on. Unlisted characters go on for
    whoever has the chat."""
    conversation = owned_conversation(session, user_id, conversation_id)
    character = session.get(Character, conversation.character_id)
    if not can_view(character, user_id) or not age_allows(session, character, user_id):
        raise KindredError("character_unavailable",
                           "This character is no longer available (its creator made it "
                           "private, or it was hidden), so this conversation can still be "
                           "read but not continued. Nothing was stored.", status=403)
    return conversation


def append_message(session: Session, conversation: Conversation, role: str, content: str,
                   parent_id: Optional[int] = None, commit: bool = True) -> Message:
    """A message written by another domain (a story's narration, a choice), added below
    `parent_id` (default: the active leaf) and made the active leaf. Commits unless `commit` is
    False, so a caller can store several messages and its own rows in one transaction."""
    if role not in ("user", "assistant"):
        raise ValueError(f"role must be 'user' or 'assistant', not {role!r}")
    parent = conversation.active_leaf_id if parent_id is None else parent_id
    return _append(session, conversation, Message(conversation_id=conversation.id,
                                                  parent_id=parent, role=role, content=content),
                   commit)


def path_to(session: Session, conversation: Conversation, message_id: int) -> list[Message]:
    """The chat from the root greeting down to `message_id`, oldest first, in one query."""
    by_id = _messages_by_id(session, conversation.id)
    path, node = [], by_id.get(message_id)
    while node is not None:
        path.append(node)
        node = by_id.get(node.parent_id)
    return path[::-1]


def add_reply_placeholder(session: Session, conversation: Conversation, parent: Message) -> Message:
    message = Message(conversation_id=conversation.id, parent_id=parent.id, role="assistant",
                      status="streaming")
    return _append(session, conversation, message)


def regeneration_history(session: Session, conversation: Conversation) -> list[Message]:
    """The visible chat up to the user's last message, which a regenerated reply answers.
    A blocked message is never answered: regenerating right after one is refused."""
    path = active_path(session, conversation)
    for end in range(len(path), 0, -1):
        if path[end - 1].role == "user":
            if path[end - 1].status == "blocked":
                raise KindredError("blocked_content", "Your last message was blocked, so there "
                                                      "is nothing to reply to; send another.")
            return path[:end]
    raise KindredError("nothing_to_regenerate",
                       "There is no message of yours to reply to yet; send one first.")


def edit_message(session: Session, user_id: int, message_id, content: str,
                 status: str = "complete", moderation: Optional[str] = None,
                 commit: bool = True) -> Message:
    """Replies are corrected in place; an edited user message becomes a new branch, so the
    old one and the replies after it stay available as alternatives. `status` and
    `moderation` are the safety verdict's (conversations.guard) for the new branch."""
    message, conversation = owned_message(session, user_id, message_id)
    if message.role == "assistant":
        message.content, message.edited_at = content, utcnow()
        session.add(message)
        if commit:
            session.commit()
        return message
    edited = Message(conversation_id=conversation.id, parent_id=message.parent_id, role="user",
                     content=content, edited_at=utcnow(), status=status, moderation=moderation)
    return _append(session, conversation, edited, commit)


def delete_message(session: Session, user_id: int, message_id) -> Conversation:
    """Delete a message and every reply below it; the chat falls back to the nearest branch."""
    message, conversation = owned_message(session, user_id, message_id)
    if message.parent_id is None:
        raise KindredError("cannot_delete_greeting",
                           "The greeting starts the conversation and cannot be deleted.")
    by_id = _messages_by_id(session, conversation.id)
    doomed = {m.id for m in by_id.values() if _descends_from(m, message.id, by_id)}
    if conversation.active_leaf_id in doomed:
        survivors = {k: v for k, v in by_id.items() if k not in doomed}
        conversation.active_leaf_id = _latest_leaf(by_id[message.parent_id], survivors).id
    session.exec(delete(Message).where(Message.id.in_(doomed)))
    conversation.updated_at = utcnow()
    session.add(conversation)
    session.commit()
    return conversation


def select_branch(session: Session, user_id: int, message_id) -> Conversation:
    """Show the branch through `message_id`, down to its most recent reply."""
    message, conversation = owned_message(session, user_id, message_id)
    conversation.active_leaf_id = _latest_leaf(message, _messages_by_id(session, conversation.id)).id
    session.add(conversation)
    session.commit()
    return conversation


def conversation_payload(session: Session, conversation: Conversation,
                         hidden: Optional[HiddenIds] = None) -> dict:
    """The conversation with its visible branch; `hidden(session, ids)` says which messages
    moderation hid (they are shown as hidden, without their text)."""
    by_id = _messages_by_id(session, conversation.id)
    path = active_path(session, conversation)
    hidden_set = set(hidden(session, [m.id for m in path])) if hidden else set()
    siblings: dict[int | None, list[int]] = {}
    for m in sorted(by_id.values(), key=lambda m: m.id):
        siblings.setdefault(m.parent_id, []).append(m.id)
    character = session.get(Character, conversation.character_id)
    return {
        "id": conversation.id,
        "character_id": conversation.character_id,
        "character_name": character.name,
        "character_avatar_url": avatar_url(character),
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "messages": [message_payload(m, siblings[m.parent_id], hidden=m.id in hidden_set)
                     for m in path],
    }


def message_payload(message: Message, sibling_ids: list[int] | None = None,
                    hidden: bool = False) -> dict:
    """`hidden`: moderation hid it; its text is left out. `moderated`: the pipeline blocked
    the reply the model wrote and replaced it (the original is kept for moderators only)."""
    sibling_ids = sibling_ids or [message.id]
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "parent_id": message.parent_id,
        "role": message.role,
        "content": "" if hidden else message.content,
        "status": message.status,
        "hidden": hidden,
        "moderated": message.original_content is not None,
        "moderation": message.moderation,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "sibling_ids": sibling_ids,
        "sibling_index": sibling_ids.index(message.id),
    }


def siblings_of(session: Session, message: Message) -> list[int]:
    query = (select(Message.id).where(Message.conversation_id == message.conversation_id)
             .where(Message.parent_id == message.parent_id).order_by(Message.id))
    return list(session.exec(query))


def _append(session: Session, conversation: Conversation, message: Message,
            commit: bool = True) -> Message:
    session.add(message)
    session.flush()
    if message.role == "user":
        events.record(session, MessageSent(conversation.id, message.id, conversation.user_id,
                                           conversation.character_id, len(message.content)))
    conversation.active_leaf_id = message.id
    conversation.updated_at = utcnow()
    session.add(conversation)
    if commit:
        session.commit()
    return message


def _new_conversation(session: Session, user: User, character: Character, roots: list[str],
                      source: str) -> Conversation:
    """The conversation with `roots` as sibling assistant messages, the first one shown."""
    conversation = Conversation(user_id=user.id, character_id=character.id)
    session.add(conversation)
    session.flush()
    messages = [Message(conversation_id=conversation.id, role="assistant", content=text)
                for text in roots]
    session.add_all(messages)
    session.flush()
    conversation.active_leaf_id = messages[0].id if messages else None
    session.add(conversation)
    events.record(session, ConversationStarted(conversation.id, user.id, character.id, source))
    return conversation


def _messages_by_id(session: Session, conversation_id: int) -> dict[int, Message]:
    query = select(Message).where(Message.conversation_id == conversation_id)
    return {m.id: m for m in session.exec(query)}


def _descends_from(message: Message, ancestor_id: int, by_id: dict[int, Message]) -> bool:
    node = message
    while node is not None:
        if node.id == ancestor_id:
            return True
        node = by_id.get(node.parent_id)
    return False


def _latest_leaf(start: Message, by_id: dict[int, Message]) -> Message:
    node = start
    while children := [m for m in by_id.values() if m.parent_id == node.id]:
        node = max(children, key=lambda m: m.id)
    return node

