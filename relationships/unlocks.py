"""What a level opens, and the relationship as the API and the prompt see it.

Creators gate content in the card (namespaced extensions, so it round-trips in card files):
- alternate greetings: extensions["kindred/greeting_levels"], a list of levels parallel to
  alternate_greetings (a number or a level name; missing = open to everyone);
- lorebook entries: entry["extensions"]["kindred/min_level"];
- stories and chapters: their "required_level" (see characters/stories.py);
- per-level behaviour notes: extensions["kindred/levels"], either a list indexed by level or an
  object keyed by level number or name, e.g. {"Stranger": "Never mention the war."}.
The app gates the character's gacha cards too: CARD_CLAIM_LEVELS (config) names the level at
which a free copy of its SR/SSR cards can be claimed (relationships/cards.py).
"""
from typing import Callable, Optional

from sqlmodel import Session, select

from conversations.placeholders import fill_placeholders
from characters.models import Character
from characters.stories import STORIES_EXTENSION
from gacha import collection
from relationships import affinity, cards
from relationships.affinity import DEFAULT_MEANINGS, Levels, levels_from
from relationships.models import StoryProgress
from relationships.story import sync_stories

GREETING_LEVELS = "kindred/greeting_levels"
LORE_MIN_LEVEL = "kindred/min_level"
LEVEL_NOTES = "kindred/levels"


def relationship_state(session: Session, settings, user_id: int, character: Character) -> dict:
    """{affinity, level, level_name, level_at, next_level_at, unlocked, locked, ...}"""
    levels = levels_from(settings)
    points, level = affinity.peek(session, user_id, character.id)
    items = gated_items(session, character, levels, settings)
    claimed = collection.claimed_card_ids(session, user_id, [i["card_id"] for i in items
                                                             if i["type"] == "card"])
    for item in items:
        if item["type"] == "card":
            item["claimed"] = item["card_id"] in claimed
            item["claim_url"] = f"/api/relationships/{character.id}/claim"
    return {"character_id": character.id, "affinity": points, "level": level,
            "level_name": levels.name(level), "level_at": levels.thresholds[level],
            "next_level_at": levels.next_at(level),
            "next_level_name": levels.name(level + 1) if level + 1 < len(levels.names) else None,
            "max_level": len(levels.names) - 1,
            "unlocked": [i for i in items if i["level"] <= level],
            "locked": [i if i["type"] in ("story", "chapter", "card") else {**i, "label": "?"}
                       for i in items if i["level"] > level]}


def gated_items(session: Session, character: Character, levels: Levels,
                settings=None) -> list[dict]:
    """Everything this character keeps behind a level above 0, lowest level first; with
    `settings`, also its gacha cards that a level lets the user claim (type "card")."""
    items = cards.card_items(session, settings, character, levels) if settings else []
    extensions = character.extensions or {}
    for index, required in enumerate(_greeting_levels(character, levels)):
        if required > 0:
            text = fill_placeholders(character.alternate_greetings[index], character.name, "you")
            items.append({"type": "greeting", "index": index, "label": text[:80], "level": required})
    for index, entry in enumerate(_lore_entries(character)):
        required = lore_min_level(entry, levels)
        if required > 0:
            label = entry.get("name") or entry.get("comment") or f"Lore entry {index + 1}"
            items.append({"type": "lore", "index": index, "label": str(label)[:80], "level": required})
    if isinstance(extensions.get(STORIES_EXTENSION), list):
        for story in sync_stories(session, character, levels):
            definition = story.definition
            if definition["required_level"] > 0:
                items.append({"type": "story", "story_id": story.id, "label": story.title,
                              "level": definition["required_level"]})
            for chapter in definition["chapters"]:
                if chapter["required_level"] > max(definition["required_level"], 0):
                    items.append({"type": "chapter", "story_id": story.id, "chapter": chapter["id"],
                                  "label": f"{story.title}: {chapter['title']}",
                                  "level": chapter["required_level"]})
    return sorted(items, key=lambda i: i["level"])


def newly_unlocked(session: Session, character: Character, levels: Levels, before: int,
                   after: int, settings=None) -> list[dict]:
    return [i for i in gated_items(session, character, levels, settings)
            if before < i["level"] <= after]


def unlocked_greetings(session: Session, user_id: int, character: Character,
                       settings) -> list[str]:
    """The alternate greetings this user's level opens (all of them for ungated cards).
    Level names in the card are read with the app's `settings` (LEVEL_NAMES, LEVEL_THRESHOLDS)."""
    greetings = list(character.alternate_greetings or [])
    if not isinstance((character.extensions or {}).get(GREETING_LEVELS), list):
        return greetings
    levels = levels_from(settings)
    level = affinity.peek(session, user_id, character.id)[1]
    return [g for g, required in zip(greetings, _greeting_levels(character, levels)) if required <= level]


def lore_filter(levels: Levels, level: int) -> Callable[[dict], bool]:
    return lambda entry: lore_min_level(entry, levels) <= level


def lore_min_level(entry: dict, levels: Levels) -> int:
    extensions = entry.get("extensions") if isinstance(entry, dict) else None
    value = extensions.get(LORE_MIN_LEVEL) if isinstance(extensions, dict) else None
    if value is None:
        return 0
    parsed = levels.parse(value)
    return parsed if parsed is not None else len(levels.names)  # unreadable: keep it hidden


def level_section(character: Character, levels: Levels, level: int) -> str:
    """The level and what it means, plus the creator's note for it, for the system prompt."""
    meaning = DEFAULT_MEANINGS[level] if level < len(DEFAULT_MEANINGS) else DEFAULT_MEANINGS[-1]
    text = (f"Relationship: {{{{user}}}} is at level {level} of {len(levels.names) - 1} with "
            f"{{{{char}}}} ({levels.name(level)}). {meaning}")
    if note := level_note(character, levels, level):
        text += f"\nAt this level: {note}"
    return text


def level_note(character: Character, levels: Levels, level: int) -> Optional[str]:
    notes = (character.extensions or {}).get(LEVEL_NOTES)
    if isinstance(notes, list):
        note = notes[level] if level < len(notes) else None
    elif isinstance(notes, dict):
        note = next((v for k, v in notes.items() if levels.parse(k) == level), None)
    else:
        note = None
    return note.strip() if isinstance(note, str) and note.strip() else None


def progress_for(session: Session, user_id: int, story_id: int) -> Optional[StoryProgress]:
    """The user's latest play-through of a story (active ones first)."""
    rows = list(session.exec(select(StoryProgress).where(StoryProgress.user_id == user_id,
                                                         StoryProgress.story_id == story_id)
                             .order_by(StoryProgress.id.desc())))
    return next((p for p in rows if p.status == "active"), rows[0] if rows else None)


def _greeting_levels(character: Character, levels: Levels) -> list[int]:
    raw = (character.extensions or {}).get(GREETING_LEVELS)
    raw = raw if isinstance(raw, list) else []
    result = []
    for index in range(len(character.alternate_greetings or [])):
        value = raw[index] if index < len(raw) else 0
        parsed = levels.parse(value) if value is not None else 0
        result.append(parsed if parsed is not None else 0)
    return result


def _lore_entries(character: Character) -> list[dict]:
    book = character.character_book
    entries = book.get("entries") if isinstance(book, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
