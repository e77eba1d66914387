"""The prompt inspector: for each reply, what its prompt contained (the lorebook entries that fired
and how many tokens each part took), recorded when the reply starts and shown to the creator of
the character and the owner of the conversation. Only counts and the creator's own lorebook text
are stored, never the chat itself.

`subscribe(bus, db, engine)` records every PromptBuilt event (after the reply's placeholder is
committed, in a session of its own)."""
import logging

from sqlalchemy import Engine
from sqlmodel import Session

from conversations.prompt import system_text
from conversations.placeholders import fill_placeholders
from core.db import session_scope
from core.event_types import PromptBuilt
from core.events import EventBus
from core.errors import NotFound, not_found
from conversations.models import Conversation, Message
from characters.models import Character, PromptReport
from characters.service import can_view
from characters.versions import latest_version_number

log = logging.getLogger(__name__)


def subscribe(bus: EventBus, db: Engine, engine) -> None:
    def record(event: PromptBuilt) -> None:
        with session_scope(db) as session:
            character = session.get(Character, event.character_id)
            record_prompt(session, event.reply_id, character, event.prompt, engine)

    bus.subscribe(PromptBuilt, record, name="inspector.record_prompt")


def record_prompt(session: Session, message_id: int, character: Character, prompt, engine) -> PromptReport:
    session.add(report := PromptReport(message_id=message_id, character_id=character.id,
                                       character_version=latest_version_number(session, character.id),
                                       report=prompt_breakdown(character, prompt, engine)))
    session.commit()
    return report


def prompt_breakdown(character: Character, prompt, engine) -> dict:
    """Tokens per part: the character definition, each lorebook entry, other system sections
    (relationship level, memories, story, summary), each history turn, and the chat template's
    own tokens (whatever the total leaves)."""
    count = engine.count_tokens
    messages = prompt.messages
    system_tokens = count(messages[0]["content"]) if messages else 0
    definition = count(fill_placeholders(system_text(character, ()), character.name, "user"))
    lore_tokens = sum(e.tokens for e in prompt.lore_entries)
    history = [{"role": m["role"], "tokens": count(m["content"])} for m in messages[1:]]
    post = (character.post_history_instructions or "").strip()
    post_tokens = count(post) if post else 0
    parts = {"character_definition": definition, "lorebook": lore_tokens,
             "other_system_sections": max(system_tokens - definition - lore_tokens, 0),
             "history": sum(h["tokens"] for h in history), "post_history_instructions": post_tokens}
    parts["template_overhead"] = max(prompt.token_count - system_tokens - parts["history"]
                                     - post_tokens, 0)
    return {
        "total_tokens": prompt.token_count,
        "parts": parts,
        "history_turns": history,
        "history_dropped": prompt.history_dropped,
        "summary_used": bool(prompt.summary),
        "lore_entries": [{"index": e.index, "id": e.id, "name": e.name, "trigger": e.trigger,
                          "position": e.position, "priority": e.priority, "tokens": e.tokens,
                          "content": e.content[:500]} for e in prompt.lore_entries],
    }


def prompt_report(session: Session, user_id: int, message_id: int) -> dict:
    """The report of one reply, for the conversation's owner or the character's creator only.
    Once the creator has made the character private, the owner (if not the creator) gets it
    redacted: the token counts of their own chat stay, the creator's lorebook text goes."""
    message = session.get(Message, message_id)
    conversation = session.get(Conversation, message.conversation_id) if message else None
    character = session.get(Character, conversation.character_id) if conversation else None
    if character is None or user_id not in (conversation.user_id, character.creator_id):
        raise not_found("message")
    report = session.get(PromptReport, message_id)
    if report is None:
        raise NotFound("no_prompt_report", "This message has no prompt report: only replies "
                                           "(written since the inspector exists) have one.")
    shown = {"message_id": message_id, "character_id": report.character_id,
             "character_version": report.character_version,
             "created_at": report.created_at.isoformat(), **report.report, "redacted": False}
    return shown if can_view(character, user_id) else redacted(shown)


def redacted(report: dict) -> dict:
    """A report without anything of the character's own text: the lorebook entries that fired
    (names, triggers, content) are left out; the counts, which describe the user's own chat,
    stay."""
    return {**report, "lore_entries": [], "redacted": True}
