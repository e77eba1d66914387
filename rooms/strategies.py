"""Who speaks next in a room: the four turn strategies, as SillyTavern's group chats define them
(public/scripts/group-chats.js: activateNaturalOrder, activateListOrder, activatePooledOrder,
and manual, where only a trigger makes a character speak).

    activate(strategy, members, recent, text, rng, is_human_input) -> [character ids], in order

`members` are the characters that may speak (muted ones are left out by the caller: they never
speak but still listen); `recent` is the room's history as (speaker, character_id) pairs, oldest
first, without out-of-character lines and assistant answers; `text` is what the people said
(the batch being answered), for name mentions. A room answers a batch with one character turn:
the caller takes the first id. `rng` is a random.Random, seeded in tests.

Where a room differs from SillyTavern (one person there, a whole list answering at once): `list`
gives the next character after the last one that spoke, so the list takes turns across batches.
No Flask, no database."""
import random
import re
from dataclasses import dataclass
from typing import Optional

STRATEGIES = ("natural", "list", "pooled", "manual")
DEFAULT_TALKATIVENESS = 0.5  # SillyTavern's talkativeness_default
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Member:
    character_id: int
    name: str
    talkativeness: float = DEFAULT_TALKATIVENESS
    position: int = 0


def talkativeness_of(extensions) -> float:
    """A card's data.extensions.talkativeness (SillyTavern keeps it there, as a number or a
    numeric string), clamped to 0..1; the default when missing or not a number."""
    value = (extensions or {}).get("talkativeness") if isinstance(extensions, dict) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TALKATIVENESS
    if number != number:  # NaN
        return DEFAULT_TALKATIVENESS
    return min(1.0, max(0.0, number))


def activate(strategy: str, members: list[Member], recent: list[tuple[str, Optional[int]]],
             text: str, rng: random.Random, is_human_input: bool = True) -> list[int]:
    """The characters the strategy activates, first speaker first; [] when nobody speaks."""
    if not members:
        return []
    if strategy == "natural":
        return natural(members, text, _last_character(recent), rng, is_human_input)
    if strategy == "list":
        return list_order(members, next((c for s, c in reversed(recent) if s == "character"),
                                        None))
    if strategy == "pooled":
        return pooled(members, recent, rng, is_human_input)
    if strategy == "manual":
        return []
    raise ValueError(f"unknown strategy {strategy!r}; strategies are {STRATEGIES}")


def natural(members: list[Member], text: str, last_speaker: Optional[int],
            rng: random.Random, is_human_input: bool = True) -> list[int]:
    """Mentions first (in the order of the words), then each character rolls against its
    talkativeness in shuffled order; if nobody is activated, one is picked at random among the
    talkative ones (talkativeness > 0), else among all. After a character's own turn (no human
    input) that character does not speak again."""
    banned = last_speaker if not is_human_input else None
    eligible = [m for m in members if m.character_id != banned]
    activated: list[int] = []
    for word in words(text):
        for member in eligible:
            if word in words(member.name):
                activated.append(member.character_id)
                break
    chatty = []
    shuffled = list(eligible)
    rng.shuffle(shuffled)
    for member in shuffled:
        if member.talkativeness >= rng.random():
            activated.append(member.character_id)
        if member.talkativeness > 0:
            chatty.append(member)
    if not activated:
        pool = chatty or eligible or members
        activated.append(pool[rng.randrange(len(pool))].character_id)
    return _unique(activated)


def list_order(members: list[Member], last_speaker: Optional[int]) -> list[int]:
    """Every character in list order, starting after the last one that spoke."""
    ordered = [m.character_id for m in sorted(members, key=lambda m: m.position)]
    if last_speaker in ordered:
        start = ordered.index(last_speaker) + 1
        ordered = ordered[start:] + ordered[:start]
    return ordered


def pooled(members: list[Member], recent: list[tuple[str, Optional[int]]],
           rng: random.Random, is_human_input: bool = True) -> list[int]:
    """One character that has not spoken since the last human message, at random; when all
    have, one at random other than the last speaker."""
    spoken: set[int] = set()
    if not is_human_input:
        for speaker, character_id in reversed(recent):
            if speaker == "user":
                break
            if speaker == "character" and character_id is not None:
                spoken.add(character_id)
    fresh = [m for m in members if m.character_id not in spoken]
    if fresh:
        return [fresh[rng.randrange(len(fresh))].character_id]
    last = _last_character(recent)
    pool = [m for m in members if m.character_id != last] if len(members) > 1 else members
    return [pool[rng.randrange(len(pool))].character_id]


def words(text: str) -> list[str]:
    """SillyTavern's extractAllWords: the lower-cased words of a text."""
    return [w.lower() for w in _WORD.findall(text or "")]


def _last_character(recent: list[tuple[str, Optional[int]]]) -> Optional[int]:
    """The character that spoke last, if the last speaker was a character."""
    for speaker, character_id in reversed(recent):
        return character_id if speaker == "character" else None
    return None


def _unique(ids: list[int]) -> list[int]:
    return list(dict.fromkeys(ids))
