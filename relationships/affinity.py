"""Affinity and levels: a ledger of points per (user, character) and the named level they reach.

    award_exchange(session, settings, user_id, character_id, user_message)   after a reply
    award_chapter(session, settings, user_id, character_id, story_id, chapter, points)
    award_gift(session, settings, user_id, character_id, ref, points)     a card given (cards.py)
    levels_from(settings)                                 the configured ladder of named levels

What earns points (amounts and the cap are in config.py):
- a reply to a meaningful user message (once per user message, so regenerating earns nothing);
- the first meaningful exchange of the (UTC) day, and a streak bonus for consecutive days;
- a finished story chapter (once per chapter per story, ever);
- a gacha card given to its character (points by rarity, at most AFFINITY_GIFT_DAILY_CAP a day).
Every award publishes its ledger rows as AffinityRecorded; the gacha pays gems for the first
chat of the day, a streak day and a finished chapter (gacha/rewards.py), keyed by the row's ref,
so they are paid once. A level reached publishes LevelChanged.
What earns nothing: messages with fewer than AFFINITY_MIN_WORDS words, repetitive ones
("lol lol lol lol"), near-duplicates of the user's recent messages to this character, and any
chat points past AFFINITY_DAILY_CAP in one day. Blocked awards stay in the ledger with 0 points
and a note, so the decision is visible and never re-made.
"""
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select, update

from core.db import utcnow
from conversations.models import Conversation, Message
from characters.stories import level_number
from core import events
from core.event_types import AffinityRecorded, LevelChanged
from gacha import rewards as play_rewards
from relationships.models import AffinityEvent, Relationship

CHAT_KINDS = ("reply", "first_of_day", "streak")  # what the daily cap counts
GIFT_KIND = "gift"  # counted against its own cap, AFFINITY_GIFT_DAILY_CAP
STREAK_MAX_DAYS = 7
RECENT_MESSAGES_CHECKED = 30
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+")

DEFAULT_MEANINGS = [
    "{{char}} has only just met {{user}}: polite but reserved, keeps personal matters private, "
    "and does not assume familiarity.",
    "{{char}} knows {{user}} a little: friendly and curious, still a bit guarded.",
    "{{char}} and {{user}} are friends: warm and relaxed, jokes, shares opinions and small "
    "personal stories.",
    "{{char}} and {{user}} are close friends: trusting, openly caring, remembers what {{user}} "
    "shared and asks about it.",
    "{{user}} is {{char}}'s confidant: {{char}} shares secrets, fears and hopes, and expects the "
    "same openness back.",
    "{{user}} is {{char}}'s soulmate: the deepest bond; {{char}} is completely open, tender and "
    "devoted, and speaks as to the person who knows them best.",
]


@dataclass(frozen=True)
class Levels:
    names: tuple[str, ...]
    thresholds: tuple[int, ...]

    def level_for(self, affinity: int) -> int:
        return max(i for i, at in enumerate(self.thresholds) if affinity >= at)

    def name(self, level: int) -> str:
        return self.names[level]

    def next_at(self, level: int) -> Optional[int]:
        return self.thresholds[level + 1] if level + 1 < len(self.thresholds) else None

    def parse(self, value) -> Optional[int]:
        """A level given as its number or its name (any case); None if it is neither."""
        return level_number(value, self.names)


@dataclass
class Award:
    points: int = 0
    affinity: int = 0
    level_before: int = 0
    level_after: int = 0
    notes: list[str] = field(default_factory=list)
    gems: int = 0  # gems paid into the gacha ledger by this award

    @property
    def leveled_up(self) -> bool:
        return self.level_after > self.level_before


def levels_from(settings) -> Levels:
    names = tuple(n.strip() for n in settings["LEVEL_NAMES"])
    thresholds = tuple(int(t) for t in settings["LEVEL_THRESHOLDS"])
    if len(names) != len(thresholds) or thresholds[0] != 0 or list(thresholds) != sorted(set(thresholds)):
        raise ValueError("LEVEL_NAMES and LEVEL_THRESHOLDS need the same length, and thresholds "
                         "must rise strictly from 0.")
    return Levels(names, thresholds)


def relationship(session: Session, user_id: int, character_id: int) -> Relationship:
    """The (user, character) bond, created at 0 the first time it is asked for."""
    found = _find(session, user_id, character_id)
    if found is not None:
        return found
    try:
        session.add(Relationship(user_id=user_id, character_id=character_id))
        session.commit()
    except IntegrityError:  # created by a concurrent reply in the meantime
        session.rollback()
    return _find(session, user_id, character_id)


def peek(session: Session, user_id: int, character_id: int) -> tuple[int, int]:
    """(affinity, level) without creating anything."""
    found = _find(session, user_id, character_id)
    return (found.affinity, found.level) if found else (0, 0)


def award_exchange(session: Session, settings, user_id: int, character_id: int,
                   user_message: Message, now: Optional[datetime] = None) -> Award:
    """Points for one exchange (the user's message and the character's reply). Commits."""
    now = now or utcnow()
    day = now.date().isoformat()
    bond = relationship(session, user_id, character_id)
    award = Award(affinity=bond.affinity, level_before=bond.level, level_after=bond.level)
    ref = f"message:{user_message.id}"
    if _event_exists(session, bond.id, "reply", ref):  # a retry: only pay what may be missing
        award.gems = _publish(session, bond, _events_of_message(session, bond.id, user_message.id),
                              now, retry=True)
        return award
    note = (effort_problem(user_message.content, settings["AFFINITY_MIN_WORDS"])
            or _duplicate_problem(session, user_id, character_id, user_message,
                                  settings["AFFINITY_DUPLICATE_RATIO"]))
    entries = [("reply", ref, 0 if note else settings["AFFINITY_REPLY_POINTS"], note)]
    changes = {}
    if not note and bond.last_active_day != day:
        yesterday = (now.date() - timedelta(days=1)).isoformat()
        streak = bond.streak_days + 1 if bond.last_active_day == yesterday else 1
        changes = {"streak_days": streak, "last_active_day": day}
        entries.append(("first_of_day", f"day:{day}", settings["AFFINITY_FIRST_OF_DAY_POINTS"], ""))
        if streak > 1:
            entries.append(("streak", f"day:{day}", settings["AFFINITY_STREAK_POINTS"]
                            * min(streak - 1, STREAK_MAX_DAYS), ""))
    room = max(settings["AFFINITY_DAILY_CAP"] - _chat_points_on(session, bond.id, day), 0)
    capped = []
    for kind, entry_ref, points, entry_note in entries:
        granted = min(points, room)
        room -= granted
        capped.append((kind, entry_ref, granted,
                       entry_note or ("daily_cap" if granted < points else "")))
    award = _record(session, settings, bond, award, capped, day, user_message.id, changes)
    award.gems = _publish(session, bond, _events_of_message(session, bond.id, user_message.id), now)
    return award


def award_chapter(session: Session, settings, user_id: int, character_id: int, story_id: int,
                  chapter_key: str, points: int, now: Optional[datetime] = None) -> Award:
    """A finished story chapter's reward, at most once per (story, chapter). Commits."""
    now = now or utcnow()
    bond = relationship(session, user_id, character_id)
    award = Award(affinity=bond.affinity, level_before=bond.level, level_after=bond.level)
    ref = f"story:{story_id}:{chapter_key}"
    retry = _event_exists(session, bond.id, "chapter", ref)
    if retry:
        award.notes.append("already_rewarded")
    else:
        award = _record(session, settings, bond, award, [("chapter", ref, max(points, 0), "")],
                        now.date().isoformat(), None)
    award.gems = _publish(session, bond, _events(session, bond.id, "chapter", ref), now, retry)
    return award


def award_gift(session: Session, settings, user_id: int, character_id: int, ref: str,
               points: int, now: Optional[datetime] = None) -> Award:
    """Points for a card given to the character (`ref` names the gift, e.g. its gacha ledger
    transaction), at most once per ref, and at most AFFINITY_GIFT_DAILY_CAP points per character
    per UTC day; past the cap the gift is recorded with 0 points and note "daily_cap". Commits."""
    now = now or utcnow()
    day = now.date().isoformat()
    bond = relationship(session, user_id, character_id)
    award = Award(affinity=bond.affinity, level_before=bond.level, level_after=bond.level)
    if _event_exists(session, bond.id, GIFT_KIND, ref):
        award.notes.append("already_rewarded")
        return award
    points = max(points, 0)
    granted = min(points, gift_room(session, settings, user_id, character_id, now))
    award = _record(session, settings, bond, award,
                    [(GIFT_KIND, ref, granted, "daily_cap" if granted < points else "")], day, None)
    _publish(session, bond, _events(session, bond.id, GIFT_KIND, ref), now)
    return award


def gift_room(session: Session, settings, user_id: int, character_id: int,
              now: Optional[datetime] = None) -> int:
    """Affinity points gifts can still earn with this character today (UTC)."""
    day = (now or utcnow()).date().isoformat()
    found = _find(session, user_id, character_id)
    given = 0
    if found is not None:
        given = int(session.exec(select(sa.func.coalesce(sa.func.sum(AffinityEvent.points), 0))
                                 .where(AffinityEvent.relationship_id == found.id,
                                        AffinityEvent.day == day,
                                        AffinityEvent.kind == GIFT_KIND)).one())
    return max(settings["AFFINITY_GIFT_DAILY_CAP"] - given, 0)


def effort_problem(text: str, min_words: int) -> str:
    """"too_short" or "repetitive" for low-effort messages, "" otherwise."""
    words = _WORD.findall((text or "").lower())
    if len(words) < min_words:
        return "too_short"
    if len(words) >= 4 and len(set(words)) / len(words) < 0.5:
        return "repetitive"
    return ""


def normalised(text: str) -> str:
    return " ".join(_WORD.findall((text or "").lower()))


def _duplicate_problem(session: Session, user_id: int, character_id: int, message: Message,
                       ratio: float) -> str:
    recent = session.exec(
        select(Message.content).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.user_id == user_id, Conversation.character_id == character_id,
               Message.role == "user", Message.id != message.id)
        .order_by(Message.id.desc()).limit(RECENT_MESSAGES_CHECKED))
    mine = normalised(message.content)
    for earlier in recent:
        other = normalised(earlier)
        if other == mine or SequenceMatcher(None, mine, other).ratio() >= ratio:
            return "duplicate"
    return ""


def _record(session: Session, settings, bond: Relationship, award: Award,
            entries: list[tuple[str, str, int, str]], day: str, message_id: Optional[int],
            changes: Optional[dict] = None) -> Award:
    """Write the ledger entries (each at most once), then set affinity to the ledger's sum,
    so a concurrent award or a crash in between can never count points twice or lose them."""
    total = 0
    for kind, ref, points, note in entries:
        try:
            session.add(AffinityEvent(relationship_id=bond.id, kind=kind, ref=ref, points=points,
                                      note=note, day=day, message_id=message_id))
            session.commit()
        except IntegrityError:  # the same award recorded concurrently: count it once
            session.rollback()
            continue
        total += points
        if note:
            award.notes.append(note)
    ledger = (select(sa.func.coalesce(sa.func.sum(AffinityEvent.points), 0))
              .where(AffinityEvent.relationship_id == bond.id).scalar_subquery())
    session.exec(update(Relationship).where(Relationship.id == bond.id)
                 .values(affinity=ledger, updated_at=utcnow(), **(changes or {})))
    session.commit()
    session.refresh(bond)
    new_level = levels_from(settings).level_for(bond.affinity)
    if new_level > bond.level:  # levels never go down, even if thresholds are raised later
        events.record(session, LevelChanged(bond.user_id, bond.character_id, bond.level,
                                            new_level, bond.affinity))
        bond.level = new_level
        session.add(bond)
        session.commit()
    award.points, award.affinity, award.level_after = total, bond.affinity, bond.level
    return award


def _find(session: Session, user_id: int, character_id: int) -> Optional[Relationship]:
    return session.exec(select(Relationship).where(Relationship.user_id == user_id,
                                                   Relationship.character_id == character_id)
                        ).first()


def _event_exists(session: Session, relationship_id: int, kind: str, ref: str) -> bool:
    return session.exec(select(AffinityEvent.id).where(
        AffinityEvent.relationship_id == relationship_id, AffinityEvent.kind == kind,
        AffinityEvent.ref == ref)).first() is not None


def _events(session: Session, relationship_id: int, kind: str, ref: str) -> list[AffinityEvent]:
    return list(session.exec(select(AffinityEvent).where(
        AffinityEvent.relationship_id == relationship_id, AffinityEvent.kind == kind,
        AffinityEvent.ref == ref)))


def _events_of_message(session: Session, relationship_id: int,
                       message_id: int) -> list[AffinityEvent]:
    return list(session.exec(select(AffinityEvent).where(
        AffinityEvent.relationship_id == relationship_id, AffinityEvent.message_id == message_id)
        .order_by(AffinityEvent.id)))


def _publish(session: Session, bond: Relationship, rows: list[AffinityEvent], now: datetime,
             retry: bool = False) -> int:
    """Announce an award's ledger rows (AffinityRecorded, delivered once this commits) and
    return the gems the gacha newly paid for them."""
    if not rows:
        return 0
    entries = tuple((row.id, row.kind, row.ref, row.day) for row in rows)
    before = play_rewards.gems_paid(session, bond.user_id, entries)
    events.record(session, AffinityRecorded(bond.user_id, bond.character_id, entries, now, retry))
    session.commit()  # the gacha pays here, in a session of its own
    return play_rewards.gems_paid(session, bond.user_id, entries) - before


def _chat_points_on(session: Session, relationship_id: int, day: str) -> int:
    total = session.exec(select(sa.func.coalesce(sa.func.sum(AffinityEvent.points), 0)).where(
        AffinityEvent.relationship_id == relationship_id, AffinityEvent.day == day,
        AffinityEvent.kind.in_(CHAT_KINDS))).one()
    return int(total)
