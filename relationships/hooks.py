"""Where relationships meet the chat: what goes into each prompt, and what happens after a reply.

`subscribe(...)` (called by the app factory) registers
    three prompt sections, in this order: the relationship level, what the character remembers,
        the story chapter (each with its own token budget; the level also locks lorebook entries
        and the memories section summarises turns that no longer fit);
    RelationshipHooks.on_reply_finished for ReplyFinished (inline, in the reply's thread, after
        chat:done): affinity, story goals and memories.
Socket.IO events go through the `emit(event, payload, room)` callable, like the ReplyStreamer's:
    relationship:update    {character_id, affinity, level, level_name, level_at, next_level_at,
                            points, notes, gems}    after every reply and gift (the meter)
    relationship:level_up  {character_id, level, level_name, unlocked}
    memory:added           {conversation_id, memories: [...]}
    story:update           {conversation_id, progress}
"""
import logging
from typing import Callable, Optional

from sqlalchemy import Engine
from sqlmodel import Session, select

from conversations.sections import Contribution, PromptContext, PromptSections
from core.event_types import ReplyFinished
from core.events import EventBus
from core.db import session_scope
from conversations.models import Conversation, Message
from core.users import User
from characters.models import Character
from relationships import affinity, memory, story, unlocks
from relationships.affinity import Award, levels_from
from relationships.models import Story

log = logging.getLogger(__name__)

Emit = Callable[[str, dict, str], None]
RECENT_TURNS_FOR_MEMORY = 4
REWARDED_STATUSES = ("complete", "stopped")
MEMORY_HEADING_TOKENS = 48  # the heading and the "- " before each remembered fact


def room_for(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


class RelationshipHooks:
    def __init__(self, db: Engine, settings, emit: Emit, embedder=None,
                 count_tokens: Optional[Callable[[str], int]] = None, scorer=None):
        self.db, self.settings, self.emit = db, settings, emit
        self.embedder, self.count_tokens = embedder, count_tokens
        self.scorer = scorer  # the inference engine: judges memories when MEMORY_EXTRACTION=model

    def on_reply_finished(self, event: ReplyFinished) -> None:
        self.after_reply(event.conversation_id, event.reply_id)

    def after_reply(self, conversation_id: int, reply_id: int) -> None:
        """Affinity, memories and story goals for one finished reply. Never raises."""
        try:
            self._after_reply(conversation_id, reply_id)
        except Exception:
            log.exception("relationship hooks failed for reply %s", reply_id)

    def announce(self, session: Session, user_id: int, character: Character, award: Award,
                 room: str) -> None:
        """relationship:update, and relationship:level_up when a level was reached."""
        self.emit("relationship:update", self.update_payload(character, award), room)
        if award.leveled_up:
            self.emit("relationship:level_up", self.level_up_payload(session, character, award),
                      room)

    def announce_to_user(self, session: Session, user_id: int, character: Character,
                         award: Award) -> Optional[dict]:
        """The same events for an award made outside a chat (a gift): to every conversation
        room of this user with this character. Returns the level_up payload, if any."""
        level_up = self.level_up_payload(session, character, award) if award.leveled_up else None
        update = self.update_payload(character, award)
        for conversation_id in session.exec(select(Conversation.id).where(
                Conversation.user_id == user_id, Conversation.character_id == character.id)):
            self.emit("relationship:update", update, room_for(conversation_id))
            if level_up is not None:
                self.emit("relationship:level_up", level_up, room_for(conversation_id))
        return level_up

    def update_payload(self, character: Character, award: Award) -> dict:
        levels = levels_from(self.settings)
        return {"character_id": character.id, "affinity": award.affinity,
                "level": award.level_after, "level_name": levels.name(award.level_after),
                "level_at": levels.thresholds[award.level_after],
                "next_level_at": levels.next_at(award.level_after),
                "points": award.points, "notes": award.notes, "gems": award.gems}

    def level_up_payload(self, session: Session, character: Character, award: Award) -> dict:
        levels = levels_from(self.settings)
        return {"character_id": character.id, "level": award.level_after,
                "level_name": levels.name(award.level_after),
                "unlocked": unlocks.newly_unlocked(session, character, levels, award.level_before,
                                                   award.level_after, self.settings)}

    def _after_reply(self, conversation_id: int, reply_id: int) -> None:
        room = room_for(conversation_id)
        with session_scope(self.db) as session:
            reply = session.get(Message, reply_id)
            if reply is None or reply.status not in REWARDED_STATUSES or not reply.content.strip():
                return
            asked = session.get(Message, reply.parent_id) if reply.parent_id else None
            if asked is None or asked.role != "user":
                return
            conversation = session.get(Conversation, conversation_id)
            character = session.get(Character, conversation.character_id)
            user = session.get(User, conversation.user_id)
            award = affinity.award_exchange(session, self.settings, user.id, character.id, asked)
            progress = story.active_progress(session, conversation_id)
            story_award = None
            if progress is not None and progress.status == "active":
                story_award = story.reach_goal(session, self.settings, progress,
                                               [asked.content, reply.content])
            if story_award is not None:
                award = Award(points=award.points + story_award.points,
                              affinity=story_award.affinity, level_before=award.level_before,
                              level_after=story_award.level_after,
                              notes=award.notes + story_award.notes,
                              gems=award.gems + story_award.gems)
            self.announce(session, user.id, character, award, room)
            if story_award is not None:
                levels = levels_from(self.settings)
                level = affinity.peek(session, user.id, character.id)[1]
                payload = story.progress_payload(progress, session.get(Story, progress.story_id),
                                                 levels, level, (character.name, user.username))
                self.emit("story:update", {"conversation_id": conversation_id,
                                           "progress": payload}, room)
            scorer = self.scorer if self.settings.get("MEMORY_EXTRACTION") == "model" else None
            remembered = memory.remember_from_message(session, self.embedder, user.id,
                                                      character.id, asked, user.username, scorer)
            if remembered:
                self.emit("memory:added", {"conversation_id": conversation_id, "memories": [
                    memory.memory_payload(m, character.name) for m in remembered]}, room)

    def _count(self, text: str) -> int:
        return self.count_tokens(text) if self.count_tokens else len(text.split())


class LevelSection:
    """The level and what it means; entries of the lorebook locked above it stay out."""
    name = "relationship_level"

    def __init__(self, settings, budget: int):
        self.settings, self.budget = settings, budget

    def contribute(self, ctx: PromptContext) -> Contribution:
        levels = levels_from(self.settings)
        level = affinity.peek(ctx.session, ctx.user_id, ctx.character.id)[1]
        return Contribution(text=unlocks.level_section(ctx.character, levels, level),
                            lore_allowed=unlocks.lore_filter(levels, level))


class MemoriesSection:
    """Facts the character remembers about the user, most relevant first, and a summary of the
    turns that no longer fit."""
    name = "memories"

    def __init__(self, settings, embedder, count_tokens: Callable[[str], int]):
        self.settings, self.embedder, self.count = settings, embedder, count_tokens
        self.budget = settings["MEMORY_TOKEN_BUDGET"] + MEMORY_HEADING_TOKENS

    def contribute(self, ctx: PromptContext) -> Contribution:
        recent = [m.content for m in ctx.history[-RECENT_TURNS_FOR_MEMORY:] if m.content.strip()]
        tokens = (self.settings["MEMORY_TOKEN_BUDGET"] if ctx.memory_tokens is None
                  else ctx.memory_tokens)  # the user's tier's, when the app says
        remembered = memory.memories_for_prompt(
            ctx.session, self.embedder, ctx.user_id, ctx.character.id, recent, self.count,
            tokens, self.settings["MEMORY_MIN_SIMILARITY"])
        text = ("What {{char}} remembers about {{user}}:\n"
                + "\n".join(f"- {m.content}" for m in remembered)) if remembered else ""
        names = {"user": ctx.user_name, "assistant": ctx.character.name}
        def summarize(turns, budget):
            return memory.summarize_turns(turns, self.count, budget, names)
        return Contribution(text=text, summarize=summarize,
                            summary_budget=self.settings["SUMMARY_TOKEN_BUDGET"],
                            budget=tokens + MEMORY_HEADING_TOKENS)


class StorySection:
    """The chapter of the story being played in this conversation, if any."""
    name = "story_chapter"

    def __init__(self, budget: int):
        self.budget = budget

    def contribute(self, ctx: PromptContext) -> Contribution:
        progress = story.active_progress(ctx.session, ctx.conversation_id)
        if progress is None or progress.status != "active":
            return Contribution()
        return Contribution(text=story.chapter_prompt(ctx.session.get(Story, progress.story_id),
                                                      progress))


def subscribe(bus: EventBus, sections: PromptSections, db: Engine, settings, emit: Emit,
              embedder, inference) -> RelationshipHooks:
    """Register the relationship prompt sections and the after-reply work; returns the hooks
    (the gift route announces level changes through them)."""
    hooks = RelationshipHooks(db, settings, emit, embedder, inference.count_tokens,
                              scorer=inference)
    sections.register(LevelSection(settings, settings["LEVEL_SECTION_TOKENS"]))
    sections.register(MemoriesSection(settings, embedder, inference.count_tokens))
    sections.register(StorySection(settings["STORY_SECTION_TOKENS"]))
    bus.subscribe(ReplyFinished, hooks.on_reply_finished, name="relationships.after_reply")
    return hooks

