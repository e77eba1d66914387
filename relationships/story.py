"""Story play: creators' branching stories for a character, played in their own conversation.

    sync_stories(session, character, levels)     the card's stories, mirrored with integer ids
    start_story(session, settings, user, story_id)           new play-through, or resume
    choose(session, settings, user, progress_id, choice_id)      take a branch
    reach_goal(session, settings, progress, texts)            chapter goal met in the chat
    chapter_prompt(...)                                        what the character is told

Stories live in the card, under extensions["kindred/stories"], so they export and import with it;
their schema (and the check a creator's edit passes) is characters/stories.py. A chapter completes
(and pays its reward, once per story and chapter, ever) when the user makes a choice or when one
of its `goal_keywords` appears in the chat; a chapter without choices then ends the story.
Malformed stories are skipped (and logged), never half-loaded. The story's conversation and its
messages are written by the conversations service.

Each chapter completed in a play-through records a ChapterFinished event (core/event_types.py),
delivered once the completion is committed; the one that ends the play-through says
story_finished=True. A choice that ends the story in a chapter its goal already completed records
that chapter once more, with story_finished=True.
"""
import logging
import re
from typing import Callable, Optional

from sqlmodel import Session, select

from characters.models import Character
from characters.service import can_view
from characters.stories import STORIES_EXTENSION, normalise_story
from conversations import service as conversations
from conversations.placeholders import fill_placeholders
from core import events
from core.db import is_id, utcnow
from core.errors import Conflict, KindredError, not_found
from core.event_types import ChapterFinished
from relationships import affinity
from relationships.affinity import Levels, levels_from
from relationships.models import Story, StoryProgress

log = logging.getLogger(__name__)


class LevelLocked(KindredError):
    status = 403


class PurchaseRequired(KindredError):
    status = 402


# (session, user_id, story_id) -> whether the paid part of a priced story is open to the user;
# billing answers it (app/wiring.py). None: every story is free.
Unlocked = Optional[Callable[[Session, int, int], bool]]


def sync_stories(session: Session, character: Character, levels: Levels) -> list[Story]:
    """Mirror the card's valid stories into the stories table (commits if anything changed)
    and return them in card order. Stories gone from the card are kept, marked removed."""
    definitions = []
    raw = (character.extensions or {}).get(STORIES_EXTENSION)
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            definitions.append(normalise_story(item, levels.names))
        except ValueError as exc:
            log.warning("story %d of character %s skipped: %s", index, character.id, exc)
    existing = {s.key: s for s in session.exec(select(Story).where(Story.character_id == character.id))}
    changed, rows, seen = False, [], set()
    for definition in definitions:
        if definition["id"] in seen:
            continue
        seen.add(definition["id"])
        row = existing.get(definition["id"])
        if row is None or row.definition != definition or row.removed:
            row = row or Story(character_id=character.id, key=definition["id"])
            row.definition, row.title, row.removed = definition, definition["title"], False
            row.updated_at = utcnow()
            session.add(row)
            changed = True
        rows.append(row)
    for key, row in existing.items():
        if key not in seen and not row.removed:
            row.removed, changed = True, True
            session.add(row)
    if changed:
        session.commit()
    return rows


def visible_story(session: Session, user_id: int, story_id, levels: Levels) -> Story:
    """A story of a character the user may see, re-read from the card; 404 otherwise."""
    story = session.get(Story, story_id) if is_id(story_id) else None
    character = session.get(Character, story.character_id) if story else None
    if story is None or not can_view(character, user_id):
        raise not_found("story")
    sync_stories(session, character, levels)
    session.refresh(story)
    return story


def start_story(session: Session, settings, user, story_id,
                unlocked: Unlocked = None) -> tuple[StoryProgress, bool]:
    """Resume the user's unfinished play-through of the story, or start a new one in a new
    conversation opening with the first chapter's scene. Returns (progress, resumed). A priced
    story not bought: only its first chapter opens (402 purchase_required past it)."""
    levels = levels_from(settings)
    story = visible_story(session, user.id, story_id, levels)
    if story.removed:
        raise not_found("story")
    current = session.exec(select(StoryProgress).where(
        StoryProgress.user_id == user.id, StoryProgress.story_id == story.id,
        StoryProgress.status == "active", StoryProgress.conversation_id.is_not(None))
        .order_by(StoryProgress.id.desc())).first()
    if current is not None:
        _require_purchase(session, unlocked, user.id, story, current.chapter_key)
        return current, True
    level = affinity.peek(session, user.id, story.character_id)[1]
    definition = story.definition
    first = chapter_of(definition, definition["start"])
    _require_purchase(session, unlocked, user.id, story, first["id"])
    _require_level(levels, level, max(definition["required_level"], first["required_level"]),
                   f"the story {definition['title']!r}")
    character = session.get(Character, story.character_id)
    conversation = conversations.open_conversation(
        session, user, character, _scene_text(first, character.name, user.username))
    progress = StoryProgress(user_id=user.id, story_id=story.id, conversation_id=conversation.id,
                             chapter_key=first["id"], path=[{"chapter": first["id"],
                                                             "at": utcnow().isoformat()}])
    session.add(progress)
    session.commit()
    return progress, False


def choose(session: Session, settings, user, progress_id, choice_id,
           unlocked: Unlocked = None) -> tuple[StoryProgress, affinity.Award]:
    """Take `choice_id` in the current chapter: the chapter completes (its reward is paid once),
    the choice and the next scene are added to the story's conversation. Nothing changes when
    the choice is unknown or its chapter needs a higher level."""
    levels = levels_from(settings)
    progress = owned_progress(session, user.id, progress_id)
    story = visible_story(session, user.id, progress.story_id, levels)
    if progress.status != "active":
        raise Conflict("story_finished", "This play-through is finished; start the story again "
                                         "to replay it.")
    if progress.conversation_id is None:
        raise Conflict("story_conversation_gone", "The conversation of this play-through is "
                                                  "gone; start the story again.")
    chapter = chapter_of(story.definition, progress.chapter_key)
    if chapter is None:
        raise Conflict("chapter_missing", "The creator removed this chapter; start the story again.")
    valid = [c["id"] for c in chapter["choices"]]
    choice = next((c for c in chapter["choices"] if c["id"] == choice_id), None)
    if choice is None:
        raise KindredError("bad_choice", f"'choice_id' must be one of {', '.join(map(repr, valid))}"
                           if valid else "This chapter has no choices; reach its goal in the chat.")
    following = chapter_of(story.definition, choice["next"]) if choice["next"] else None
    _require_purchase(session, unlocked, user.id, story, chapter["id"])
    if following is not None:
        _require_purchase(session, unlocked, user.id, story, following["id"])
    level = affinity.peek(session, user.id, story.character_id)[1]
    if following is not None:
        _require_level(levels, level, following["required_level"], f"the chapter {following['title']!r}")
    conversation = conversations.conversation_to_continue(session, user.id,
                                                          progress.conversation_id)
    award = _complete_chapter(session, settings, progress, story, chapter,
                              story_finished=following is None)
    progress.path = [*progress.path, {"chapter": chapter["id"], "choice": choice["id"],
                                      "label": choice["label"], "at": utcnow().isoformat()}]
    if following is not None:
        progress.chapter_key = following["id"]
        progress.path = [*progress.path, {"chapter": following["id"], "at": utcnow().isoformat()}]
    else:
        progress.status = "finished"
    progress.updated_at = utcnow()
    session.add(progress)
    # The progress, the choice and the next scene commit together (and deliver ChapterFinished).
    conversations.append_message(session, conversation, "user", f"*{choice['label']}*",
                                 commit=False)
    if following is not None:
        character = session.get(Character, story.character_id)
        conversations.append_message(session, conversation, "assistant",
                                     _scene_text(following, character.name, user.username),
                                     commit=False)
    session.commit()
    return progress, award


def reach_goal(session: Session, settings, progress: StoryProgress, texts: list[str]
               ) -> Optional[affinity.Award]:
    """If the current chapter's goal keywords appear in `texts`, complete it (a chapter without
    choices ends the story). Returns the award, or None when the goal was not reached."""
    story = session.get(Story, progress.story_id)
    chapter = chapter_of(story.definition, progress.chapter_key) if story else None
    if progress.status != "active" or chapter is None or chapter["id"] in progress.completed_chapters:
        return None
    keywords = chapter["goal_keywords"]
    joined = "\n".join(texts)
    if not any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", joined, re.I) for k in keywords):
        return None
    award = _complete_chapter(session, settings, progress, story, chapter,
                              story_finished=not chapter["choices"])
    if not chapter["choices"]:
        progress.status = "finished"
    progress.updated_at = utcnow()
    session.add(progress)
    session.commit()
    return award


def active_progress(session: Session, conversation_id: int) -> Optional[StoryProgress]:
    return session.exec(select(StoryProgress).where(
        StoryProgress.conversation_id == conversation_id).order_by(StoryProgress.id.desc())).first()


def owned_progress(session: Session, user_id: int, progress_id) -> StoryProgress:
    progress = session.get(StoryProgress, progress_id) if is_id(progress_id) else None
    if progress is None or progress.user_id != user_id:
        raise not_found("story progress")
    return progress


def chapter_of(definition: dict, key) -> Optional[dict]:
    return next((c for c in definition.get("chapters", []) if c["id"] == key), None)


def chapter_prompt(story: Story, progress: StoryProgress) -> str:
    """The current chapter, for the system prompt (placeholders are filled by the builder)."""
    chapter = chapter_of(story.definition, progress.chapter_key)
    if chapter is None or progress.status != "active":
        return ""
    lines = [f"Story mode: \"{story.definition['title']}\", chapter \"{chapter['title']}\"."]
    if chapter["scene"]:
        lines.append(f"Scene: {chapter['scene']}")
    if chapter["instructions"]:
        lines.append(f"{{{{char}}}}'s instructions for this chapter: {chapter['instructions']}")
    if chapter["goal"]:
        lines.append(f"Chapter goal: {chapter['goal']}")
    lines.append("Stay inside this scene and let {{user}} decide what to do next.")
    return "\n".join(lines)


def story_summary(story: Story, levels: Levels, level: int,
                  progress: Optional[StoryProgress]) -> dict:
    required = story.definition["required_level"]
    return {"id": story.id, "key": story.key, "title": story.title,
            "description": story.definition["description"], "chapters": len(story.definition["chapters"]),
            "required_level": required, "required_level_name": levels.name(required),
            "locked": level < required,
            "progress": progress_payload(progress, story, levels, level) if progress else None}


def progress_payload(progress: StoryProgress, story: Story, levels: Levels, level: int,
                     names: tuple[str, str] = ("{{char}}", "{{user}}")) -> dict:
    """`names` (character, user) fill the placeholders of what the user reads."""
    fill = lambda text: fill_placeholders(text, *names)  # noqa: E731
    chapter = chapter_of(story.definition, progress.chapter_key) or {}
    choices = [{"id": c["id"], "label": fill(c["label"]), "next": c["next"],
                **_lock(levels, level, chapter_of(story.definition, c["next"]))}
               for c in chapter.get("choices", [])] if progress.status == "active" else []
    return {"id": progress.id, "story_id": story.id, "story_title": story.title,
            "conversation_id": progress.conversation_id, "status": progress.status,
            "chapter": {"id": chapter.get("id"), "title": fill(chapter.get("title", "")),
                        "goal": fill(chapter.get("goal", "")),
                        "completed": chapter.get("id") in progress.completed_chapters,
                        "choices": choices},
            "path": progress.path, "completed_chapters": progress.completed_chapters,
            "points_earned": progress.points_earned,
            "started_at": progress.started_at.isoformat(), "updated_at": progress.updated_at.isoformat()}


def _complete_chapter(session: Session, settings, progress: StoryProgress, story: Story,
                      chapter: dict, story_finished: bool) -> affinity.Award:
    """Pay the chapter's reward (committed by affinity, once ever) and mark it completed in
    `progress`, recording ChapterFinished for the caller's commit of the progress."""
    reward = chapter["reward"] if chapter["reward"] is not None else settings["AFFINITY_CHAPTER_POINTS"]
    award = affinity.award_chapter(session, settings, progress.user_id, story.character_id,
                                   story.id, chapter["id"], reward)
    first_time = chapter["id"] not in progress.completed_chapters
    if first_time:
        progress.completed_chapters = [*progress.completed_chapters, chapter["id"]]
    progress.points_earned += award.points
    if first_time or story_finished:
        events.record(session, ChapterFinished(progress.user_id, story.character_id, story.id,
                                               chapter["id"], progress.conversation_id,
                                               story_finished))
    return award


def _scene_text(chapter: dict, char_name: str, user_name: str) -> str:
    text = chapter["scene"] or chapter["title"]
    return fill_placeholders(f"*{chapter['title']}*\n\n{text}", char_name, user_name)


def _require_level(levels: Levels, level: int, required: int, what: str) -> None:
    if level < required:
        raise LevelLocked("level_locked", f"{what} opens at level {required} "
                                          f"({levels.name(required)}); you are at level {level} "
                                          f"({levels.name(level)}). Keep chatting to get closer.")


def free_preview(story: Story, chapter_key) -> bool:
    """A priced story's free part: its first chapter, when it has more than one."""
    definition = story.definition
    return chapter_key == definition["start"] and len(definition["chapters"]) > 1


def _require_purchase(session: Session, unlocked: Unlocked, user_id: int, story: Story,
                      chapter_key) -> None:
    if unlocked is None or free_preview(story, chapter_key):
        return
    if unlocked(session, user_id, story.id):
        return
    raise PurchaseRequired("purchase_required",
                           f"The story {story.title!r} is paid content: "
                           + ("its first chapter is a free preview; buy the story to go on."
                              if len(story.definition["chapters"]) > 1 else
                              "buy it to play it.")
                           + " (POST /api/purchases {kind: \"story\", id, idempotency_key})")


def _lock(levels: Levels, level: int, chapter: Optional[dict]) -> dict:
    required = chapter["required_level"] if chapter else 0
    return {"required_level": required, "required_level_name": levels.name(required),
            "locked": level < required}

