"""Lorebook (character_book) entries that fire for the recent chat. Pure functions, no I/O.

Follows the Character Card V2 fields, with SillyTavern's conventions where the spec is silent:
- An entry fires when one of its `keys` appears in the last `scan_depth` messages (default 4),
  case-insensitively unless `case_sensitive`. A key written `/pattern/flags` is a regular
  expression (its flags decide case); with `use_regex` every key is a pattern.
  `extensions.match_whole_words` makes plain keys match whole words only.
- `selective` entries with `secondary_keys` also need a secondary key (SillyTavern's
  `extensions.selectiveLogic`: 0 AND ANY (default), 1 NOT ALL, 2 NOT ANY, 3 AND ALL).
- `constant` entries always fire; `enabled: false` entries never do.
- `recursive_scanning`: the content of fired entries is scanned too, until nothing new fires
  (`extensions.exclude_recursion` / `prevent_recursion` opt an entry out either way).
- Over the token budget, entries are dropped lowest `priority` first (missing priority counts as
  the entry's insertion_order, as SillyTavern ranks by order); among equals the one matched
  longest ago goes first, then the one inserted last. An entry that alone does not fit in what
  is left is skipped rather than evicting less important ones that do fit.
Fired entries are returned in insertion order (`insertion_order`, then their place in the book).
"""
import logging
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import regex

log = logging.getLogger(__name__)

DEFAULT_SCAN_DEPTH = 4
POSITIONS = ("before_char", "after_char")
REGEX_TIMEOUT_SECONDS = 0.05  # card-supplied patterns must not stall a reply
_REGEX_KEY = regex.compile(r"^/(.+)/([a-z]*)$", regex.DOTALL)
_REGEX_FLAGS = {"i": regex.IGNORECASE, "s": regex.DOTALL, "m": regex.MULTILINE}
_AND_ANY, _NOT_ALL, _NOT_ANY, _AND_ALL = 0, 1, 2, 3
_CONSTANT_DEPTH = -1  # constant entries count as matched most recently


@dataclass(frozen=True)
class LoreEntry:
    index: int  # place in the book's `entries` list
    id: Any
    name: str
    content: str
    position: str  # before_char | after_char
    insertion_order: int
    priority: int
    tokens: int
    trigger: str  # "constant", "key: <key>", or "recursion: <key>"


def select_entries(book: Optional[dict], messages: Sequence[str],
                   count_tokens: Callable[[str], int],
                   max_tokens: Optional[int] = None) -> list[LoreEntry]:
    """The entries of `book` that fire for `messages` (oldest first), within the budget: the
    book's `token_budget` and `max_tokens`, whichever is smaller (neither: no limit)."""
    if not isinstance(book, dict) or not isinstance(book.get("entries"), list):
        return []
    candidates = [(i, e) for i, e in enumerate(book["entries"]) if isinstance(e, dict)
                  and _enabled(e) and isinstance(e.get("content"), str) and e["content"].strip()]
    depth = _int(book.get("scan_depth"), DEFAULT_SCAN_DEPTH)
    recent = list(messages)[-depth:] if depth > 0 else []
    fired = _fire(candidates, recent[::-1], recursive=book.get("recursive_scanning") is True)
    chosen = [(_lore_entry(index, entry, trigger, count_tokens), matched_at)
              for index, entry, matched_at, trigger in fired]
    budget = _smallest(_int(book.get("token_budget"), None), max_tokens)
    return sorted(_within_budget(chosen, budget), key=lambda e: (e.insertion_order, e.index))


def _fire(candidates: list[tuple[int, dict]], newest_first: list[str],
          recursive: bool) -> list[tuple[int, dict, int, str]]:
    """(index, entry, depth it matched at, trigger) of each entry that fires, in book order."""
    fired: dict[int, tuple[int, dict, int, str]] = {}
    for index, entry in candidates:
        if entry.get("constant") is True:
            fired[index] = (index, entry, _CONSTANT_DEPTH, "constant")
        elif (match := _match(entry, newest_first)) is not None:
            fired[index] = (index, entry, *match)
    level, new = len(newest_first), list(fired.values())
    while recursive and new:  # each round only scans what the previous round added
        scanned = [e["content"] for _, e, _, _ in new if not _ext(e, "prevent_recursion")]
        new = []
        for index, entry in candidates:
            if index in fired or _ext(entry, "exclude_recursion") is True or not scanned:
                continue
            if (match := _match(entry, scanned)) is not None:
                fired[index] = (index, entry, level, "recursion: " + match[1].removeprefix("key: "))
                new.append(fired[index])
        level += 1
    return [fired[index] for index in sorted(fired)]


def _match(entry: dict, newest_first: list[str]) -> Optional[tuple[int, str]]:
    """(depth of the newest message holding a primary key, "key: ...") if the entry fires."""
    primary = _strings(entry.get("keys"))
    hit = None
    for depth, text in enumerate(newest_first):
        key = next((k for k in primary if _key_in(entry, k, text)), None)
        if key is not None:
            hit = (depth, f"key: {key}")
            break
    if hit is None:
        return None
    secondary = _strings(entry.get("secondary_keys"))
    if entry.get("selective") is True and secondary:
        found = [any(_key_in(entry, k, text) for text in newest_first) for k in secondary]
        logic = _int(_ext(entry, "selectiveLogic"), _AND_ANY)
        passes = {_AND_ANY: any(found), _NOT_ALL: not all(found), _NOT_ANY: not any(found),
                  _AND_ALL: all(found)}.get(logic, any(found))
        if not passes:
            return None
    return hit


def _key_in(entry: dict, key: str, text: str) -> bool:
    if not key.strip():
        return False
    pattern = _pattern(entry, key)
    if pattern is None:
        return False
    try:
        return pattern.search(text, timeout=REGEX_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        log.warning("lorebook key %r took too long; treated as no match", key[:80])
        return False


def _pattern(entry: dict, key: str):
    case_sensitive = entry.get("case_sensitive") is True
    explicit = _REGEX_KEY.match(key)
    try:
        if explicit:
            flags = 0
            for flag in explicit.group(2):
                flags |= _REGEX_FLAGS.get(flag, 0)
            return regex.compile(explicit.group(1), flags)
        flags = 0 if case_sensitive else regex.IGNORECASE
        if entry.get("use_regex") is True:
            return regex.compile(key, flags)
        body = regex.escape(key.strip())
        if _ext(entry, "match_whole_words") is True:
            body = rf"(?<!\w){body}(?!\w)"
        return regex.compile(body, flags)
    except regex.error:
        log.info("lorebook key %r is not a valid pattern; ignored", key[:80])
        return None


def _within_budget(chosen: list[tuple[LoreEntry, int]], budget: Optional[int]) -> list[LoreEntry]:
    """Keep entries from the most to the least important while they fit, so the lowest priority
    is dropped first; an entry too big for what is left is skipped, not allowed to evict the rest.
    Importance: priority, then the most recent match (recursion last), then insertion order."""
    if budget is None:
        return [entry for entry, _ in chosen]
    kept, total = [], 0
    for entry, _ in sorted(chosen, key=lambda c: (-c[0].priority, c[1], c[0].insertion_order,
                                                  c[0].index)):
        if total + entry.tokens <= budget:
            kept.append(entry)
            total += entry.tokens
    return kept


def _lore_entry(index: int, entry: dict, trigger: str, count_tokens) -> LoreEntry:
    order = _int(entry.get("insertion_order"), 0)
    position = entry.get("position")
    if position not in POSITIONS:  # SillyTavern also writes extensions.position 0/1
        position = "after_char" if _ext(entry, "position") == 1 else "before_char"
    return LoreEntry(index=index, id=entry.get("id", index),
                     name=str(entry.get("name") or entry.get("comment") or ""),
                     content=entry["content"].strip(), position=position,
                     insertion_order=order, priority=_int(entry.get("priority"), order),
                     tokens=count_tokens(entry["content"].strip()), trigger=trigger)


def _enabled(entry: dict) -> bool:
    return entry.get("enabled", True) is not False


def _ext(entry: dict, key: str) -> Any:
    extensions = entry.get("extensions")
    return extensions.get(key) if isinstance(extensions, dict) else None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _int(value: Any, default):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return int(value)


def _smallest(*values: Optional[int]) -> Optional[int]:
    present = [v for v in values if v is not None]
    return min(present) if present else None
