"""Judging a contest by the retained users of its entries, and paying its prizes through the
ledger. No Flask here.

    judge(session, event_id, now=None) -> CommunityEvent     409 before the end / without a contest

The score of an entry (docs/events.md, "Judging"): the number of distinct people, its creator
left out, who chatted with the entry's character (`conversation_started` or `message_sent` in
the live analytics event log) on at least two distinct UTC days within the event's window. One
person sending a thousand messages on one day counts for nothing; ten people who come back
count ten. Places go by score, highest first; a tie goes to the earlier entry. An entry needs
a score of at least 1, and its character must still be public, to place.

Judging happens once: the first process to set `judged_at` (one conditional UPDATE) freezes the
places in that transaction. Paying is one ledger transaction per winner, keyed by event and
place, from the system account `event_prizes`, so judging again (or a retry after a crash)
pays only what is missing and never twice."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session

from analytics.creators import returning_chatters
from characters.models import Character
from characters.service import can_view
from core import events as domain_events
from core.db import utcnow
from core.errors import Conflict
from core.event_types import CommunityEventJudged, CommunityEventPrizePaid
from events.entries import entries_of
from events.models import CommunityEvent, EventEntry
from events.service import get_event
from gacha import ledger

PRIZE_KIND = "event_prize"
PRIZE_ACCOUNT = "event_prizes"  # the system account prizes come from
MIN_DAYS = 2  # a retained user chatted on at least this many distinct UTC days


def judge(session: Session, event_id, now: Optional[datetime] = None) -> CommunityEvent:
    """Freeze the places (once) and pay what is not paid yet. Returns the event."""
    now = now or utcnow()
    event = get_event(session, event_id)
    if event.prizes is None:
        raise Conflict("no_contest", "This event has no creator contest to judge.")
    if now < event.ends_at:
        raise Conflict("event_not_over", f"The contest ends at {event.ends_at.isoformat()}; "
                                         "it is judged after that.")
    if event.judged_at is None:
        _freeze_places(session, event, now)
    placed = sorted((e for e in entries_of(session, event.id) if e.place is not None),
                    key=lambda e: e.place)
    for entry in placed:
        if entry.transaction_id is None:
            _pay(session, event, entry)
    session.refresh(event)
    return event


def scores(session: Session, event: CommunityEvent) -> dict[int, int]:
    """{entry id: retained users}, as judging counts them (also shown before judging)."""
    entries = entries_of(session, event.id)
    counted = returning_chatters(session, {e.character_id: e.creator_id for e in entries},
                                 event.starts_at, event.ends_at, MIN_DAYS)
    return {e.id: counted.get(e.character_id, 0) for e in entries}


def _freeze_places(session: Session, event: CommunityEvent, now: datetime) -> None:
    entries = entries_of(session, event.id)
    score = scores(session, event)
    claimed = session.execute(sa.update(CommunityEvent)
                              .where(CommunityEvent.id == event.id,
                                     CommunityEvent.judged_at.is_(None))
                              .values(judged_at=now))
    if claimed.rowcount != 1:  # another process judged it first: its places stand
        session.rollback()
        return
    eligible = [e for e in entries if score[e.id] >= 1 and
                can_view(session.get(Character, e.character_id), None)]
    eligible.sort(key=lambda e: (-score[e.id], e.entered_at, e.id))
    winners = eligible[:len(event.prizes)]
    for entry in entries:
        entry.score = score[entry.id]
    for place, entry in enumerate(winners, start=1):
        entry.place, entry.prize_gems = place, event.prizes[place - 1]
    session.add_all(entries)
    domain_events.record(session, CommunityEventJudged(
        event_id=event.id, entries=len(entries),
        winner_character_ids=tuple(e.character_id for e in winners),
        scores=tuple(score[e.id] for e in winners)))
    session.commit()


def _pay(session: Session, event: CommunityEvent, entry: EventEntry) -> None:
    details = {"event_id": event.id, "event_name": event.name, "place": entry.place,
               "character_id": entry.character_id, "amount": entry.prize_gems}
    key = f"event:{event.id}:place:{entry.place}"
    with ledger.idempotent(session, entry.creator_id, PRIZE_KIND, key) as write:
        if not write.replayed:
            write.post(details, [("gems", PRIZE_ACCOUNT, entry.prize_gems)])
            domain_events.record(session, CommunityEventPrizePaid(
                event_id=event.id, user_id=entry.creator_id, character_id=entry.character_id,
                place=entry.place, gems=entry.prize_gems, transaction_id=write.transaction.id))
    entry = session.get(EventEntry, entry.id)
    entry.transaction_id = write.transaction.id
    session.add(entry)
    session.commit()
