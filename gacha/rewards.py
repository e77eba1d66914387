"""Gems earned by playing: the gacha's subscriber to AffinityRecorded.

    affinity entry   gacha reason          amount (config)          at most
    first_of_day     first_chat_of_day     GEMS_FIRST_CHAT_OF_DAY   once per UTC day, any character
    streak           chat_streak           GEMS_STREAK_DAY          once per UTC day, any character
    chapter          story_chapter         GEMS_STORY_CHAPTER       once per story chapter, ever, and
                                                                    GEMS_STORY_CHAPTERS_PER_DAY a day

The idempotency key is the entry's ref ("day:2026-05-04", "story:3:arrival"), which leaves out
the character: chatting with five characters pays the day's gems once, and a replayed or retried
event never pays twice. Affinity is committed before the event is delivered; if paying fails it
is logged, and the next award for the same message or chapter (a retry, a regenerate) sends the
entries again and pays what is missing. `gems_paid` tells relationships what the ledger holds
for some entries, so an award can say how many gems it brought.
"""
import logging
from datetime import datetime
from typing import Iterable

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.db import session_scope
from core.event_types import AffinityRecorded
from core.events import EventBus
from gacha import ledger
from gacha.models import LedgerTransaction

log = logging.getLogger(__name__)

# affinity entry kind -> (gacha reason, amount setting, daily limit setting or None)
PAID_KINDS = {
    "first_of_day": ("first_chat_of_day", "GEMS_FIRST_CHAT_OF_DAY", None),
    "streak": ("chat_streak", "GEMS_STREAK_DAY", None),
    "chapter": ("story_chapter", "GEMS_STORY_CHAPTER", "GEMS_STORY_CHAPTERS_PER_DAY"),
}
Entry = tuple[int, str, str, str]  # (affinity event id, kind, ref, UTC day)


def subscribe(bus: EventBus, db: Engine, settings) -> None:
    def pay(event: AffinityRecorded) -> None:
        with session_scope(db) as session:
            pay_for_entries(session, settings, event.user_id, event.entries, event.occurred_at)

    bus.subscribe(AffinityRecorded, pay, name="gacha.pay_play_rewards")


def pay_for_entries(session: Session, settings, user_id: int, entries: Iterable[Entry],
                    now: datetime) -> int:
    """Post the gems these affinity entries earn; returns the gems newly paid. A failed
    payment is logged and left for the retry."""
    paid = 0
    for event_id, kind, ref, day in entries:
        if kind not in PAID_KINDS:
            continue
        reason, amount_setting, limit_setting = PAID_KINDS[kind]
        try:
            earning = ledger.earn_gems(
                session, user_id, reason, ref, int(settings[amount_setting]),
                details={"affinity_event_id": event_id, "day": day},
                daily_limit=int(settings[limit_setting]) if limit_setting else None, now=now)
        except Exception:
            session.rollback()
            log.exception("paying gems for affinity event %s failed; a retry pays it", event_id)
            continue
        if earning.granted:
            paid += earning.amount
    return paid


def gems_paid(session: Session, user_id: int, entries: Iterable[Entry]) -> int:
    """The gems the ledger holds for these affinity entries (each is paid at most once)."""
    keys = {f"earn:{PAID_KINDS[kind][0]}:{ref}" for _id, kind, ref, _day in entries
            if kind in PAID_KINDS}
    if not keys:
        return 0
    rows = session.exec(select(LedgerTransaction.details).where(
        LedgerTransaction.user_id == user_id, LedgerTransaction.kind == "play_reward",
        LedgerTransaction.idempotency_key.in_(keys)))
    return sum(int((details or {}).get("amount", 0)) for details in rows)
