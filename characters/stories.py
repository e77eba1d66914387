"""The story schema: what a creator may store under a card's extensions["kindred/stories"], and
the clean form story play (relationships/story.py) runs. Pure functions, no database, no settings
read here: the level names a `required_level` may use are passed in by the caller (routes pass
current_app.config["LEVEL_NAMES"], so the studio checks against the same names play uses).

    normalise_story(item, level_names)     one story, cleaned; ValueError says what is wrong
    story_problems(value, level_names)     one message per faulty story ([] when all load)
    check_stories(value, level_names)      KindredError `bad_story` when any story would not load
    level_number(value, level_names)       a level given as its number or name, else None

The value is a list of stories:

    [{"id": "lanterns", "title": "...", "description": "...", "required_level": 0,
      "start": "arrival",
      "chapters": [{"id": "arrival", "title": "...", "scene": "...", "instructions": "...",
                    "goal": "...", "goal_keywords": ["lantern"], "required_level": "Friend",
                    "reward": 15,
                    "choices": [{"id": "stay", "label": "Stay for tea", "next": "tea"},
                                {"id": "leave", "label": "Say goodbye", "next": null}]}]}]

`required_level` is a level number or name (any case; numbers past the top level mean the top
one). A choice whose `next` is null ends the story; `start` defaults to the first chapter.
"""
import copy
import re
from typing import Any, Optional, Sequence

from core.errors import KindredError

STORIES_EXTENSION = "kindred/stories"
MAX_TEXT = 4000
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


def normalise_story(item: Any, level_names: Sequence[str]) -> dict:
    """A clean copy of one story definition, its levels as numbers; ValueError says what is
    wrong (naming the chapter when the fault lies in one)."""
    names = _names(level_names)
    if not isinstance(item, dict):
        raise ValueError("a story must be an object")
    story = {"id": _key(item.get("id"), "story id"), "title": _text(item, "title", required=True),
             "description": _text(item, "description"),
             "required_level": _level(item.get("required_level"), names)}
    chapters = item.get("chapters")
    if not isinstance(chapters, list) or not chapters:
        raise ValueError("a story needs a non-empty 'chapters' list")
    story["chapters"] = [_named_chapter(index, c, names) for index, c in enumerate(chapters)]
    ids = [c["id"] for c in story["chapters"]]
    for key in ids:
        if ids.count(key) > 1:
            raise ValueError(f"chapter id {key!r} is used by {ids.count(key)} chapters; "
                             "chapter ids must be unique")
    for chapter in story["chapters"]:
        for choice in chapter["choices"]:
            if choice["next"] is not None and choice["next"] not in ids:
                raise ValueError(f"chapter {chapter['id']!r}: choice {choice['id']!r} leads to "
                                 f"unknown chapter {choice['next']!r}")
    story["start"] = item.get("start") or ids[0]
    if story["start"] not in ids:
        raise ValueError(f"'start' names unknown chapter {story['start']!r}")
    return story


def story_problems(value: Any, level_names: Sequence[str]) -> list[str]:
    """What is wrong with a kindred/stories value, one message per faulty story, each naming
    the story (position and id) and, where it lies in one, the chapter; [] when all is well."""
    if not isinstance(value, list):
        return [f"'{STORIES_EXTENSION}' must be a list of stories"]
    problems, seen = [], set()
    for index, item in enumerate(value):
        where = _story_label(index, item)
        try:
            key = normalise_story(item, level_names)["id"]
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if key in seen:
            problems.append(f"{where}: story id {key!r} is already used by another story")
        seen.add(key)
    return problems


def check_stories(value: Any, level_names: Sequence[str]) -> None:
    """Refuse a kindred/stories value a creator wants to store when any story in it would not
    load in full (play would skip it): KindredError `bad_story` (400) naming the story, the
    chapter and the problem."""
    problems = story_problems(value, level_names)
    if problems:
        raise KindredError("bad_story", f"{'; '.join(problems)}. Nothing was saved: fix the "
                                        f"{'story' if len(problems) == 1 else 'stories'} and save again.")


def level_number(value: Any, level_names: Sequence[str]) -> Optional[int]:
    """A level given as its number (clamped to the ladder) or its name (any case); None if it
    is neither."""
    names = _names(level_names)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return min(max(value, 0), len(names) - 1)
    if isinstance(value, str):
        lowered = [n.lower() for n in names]
        if value.strip().lower() in lowered:
            return lowered.index(value.strip().lower())
        if value.strip().isdigit():
            return level_number(int(value.strip()), names)
    return None


def _names(level_names: Sequence[str]) -> tuple[str, ...]:
    names = tuple(str(n).strip() for n in level_names)
    if not names:
        raise ValueError("there are no level names to read 'required_level' with")
    return names


def _chapter(item: Any, names: tuple[str, ...]) -> dict:
    if not isinstance(item, dict):
        raise ValueError("a chapter must be an object")
    chapter = {"id": _key(item.get("id"), "chapter id"), "title": _text(item, "title", required=True),
               "scene": _text(item, "scene"), "instructions": _text(item, "instructions"),
               "goal": _text(item, "goal"), "required_level": _level(item.get("required_level"), names)}
    keywords = item.get("goal_keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
        raise ValueError(f"chapter {chapter['id']!r}: 'goal_keywords' must be a list of words")
    chapter["goal_keywords"] = [k.strip() for k in keywords]
    reward = item.get("reward")
    if reward is not None and (isinstance(reward, bool) or not isinstance(reward, int)
                               or not 0 <= reward <= 1000):
        raise ValueError(f"chapter {chapter['id']!r}: 'reward' must be an integer from 0 to 1000")
    chapter["reward"] = reward
    choices = item.get("choices", [])
    if not isinstance(choices, list):
        raise ValueError(f"chapter {chapter['id']!r}: 'choices' must be a list")
    chapter["choices"] = []
    for choice in choices:
        if not isinstance(choice, dict):
            raise ValueError(f"chapter {chapter['id']!r}: each choice must be an object")
        next_key = choice.get("next")
        chapter["choices"].append({"id": _key(choice.get("id"), "choice id"),
                                   "label": _text(choice, "label", required=True),
                                   "next": _key(next_key, "next chapter") if next_key is not None else None})
    if len({c["id"] for c in chapter["choices"]}) != len(chapter["choices"]):
        raise ValueError(f"chapter {chapter['id']!r}: choice ids must be unique")
    return copy.deepcopy(chapter)


def _story_label(index: int, item: Any) -> str:
    key = item.get("id") if isinstance(item, dict) else None
    return f"story {index + 1}" + (f" ({key!r:.40})" if isinstance(key, str) and key else "")


def _named_chapter(index: int, raw: Any, names: tuple[str, ...]) -> dict:
    """_chapter, with the chapter (its id, else its position) named in what is wrong."""
    try:
        return _chapter(raw, names)
    except ValueError as exc:
        key = raw.get("id") if isinstance(raw, dict) else None
        label = f"chapter {key!r:.40}" if isinstance(key, str) and _KEY.match(key) \
            else f"chapter {index + 1}"
        message = str(exc)
        raise ValueError(message if message.startswith("chapter ") else f"{label}: {message}") \
            from None


def _key(value, what: str) -> str:
    if not isinstance(value, str) or not _KEY.match(value):
        raise ValueError(f"{what} must be 1-80 letters, digits, '-', '_' or '.'; got {value!r:.40}")
    return value


def _text(item: dict, key: str, required: bool = False) -> str:
    value = item.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > MAX_TEXT:
        raise ValueError(f"'{key}' must be {'non-empty ' if required else ''}text "
                         f"(at most {MAX_TEXT} characters)")
    return value.strip()


def _level(value, names: tuple[str, ...]) -> int:
    if value is None:
        return 0
    level = level_number(value, names)
    if level is None:
        raise ValueError(f"'required_level' must be a level number or one of {', '.join(names)}")
    return level
