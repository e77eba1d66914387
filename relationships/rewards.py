"""Gems earned by playing: affinity events that also pay into the gacha ledger.

    pay_for_events(session, settings, user_id, events)      after affinity records them

    affinity event   gacha reason          amount (config)          at most
    first_of_day     first_chat_of_day     GEMS_FIRST_CHAT_OF_DAY   once per UTC day, any character
    streak           chat_streak           GEMS_STREAK_DAY          once per UTC day, any character
    chapter          story_chapter         GEMS_STORY_CHAPTER       once per story chapter, ever, and
                                                                    GEMS_STORY_CHAPTERS_PER_DAY a day

The gacha idempotency key is the event's ref ("day:2026-05-04", "story:3:arrival"), which leaves
out the character: chatting with five characters pays the day's gems once, and a replayed or
retried event never pays twice. Affinity is committed first; if paying fails it is logged, and
the next award for the same message or chapter (a retry, a regenerate) pays what is missing.
"""
import logging
from datetime import datetime
from typing import Optional

from sqlmodel import Session

from gacha import service as gacha
from relationships.models import AffinityEvent

log = logging.getLogger(__name__)

# affinity event kind -> (gacha reason, amount setting, daily limit setting or None)
PAID_KINDS = {
    "first_of_day": ("first_chat_of_day", "GEMS_FIRST_CHAT_OF_DAY", None),
    "streak": ("chat_streak", "GEMS_STREAK_DAY", None),
    "chapter": ("story_chapter", "GEMS_STORY_CHAPTER", "GEMS_STORY_CHAPTERS_PER_DAY"),
}


def pay_for_events(session: Session, settings, user_id: int, events: list[AffinityEvent],
                   now: Optional[datetime] = None) -> int:
    """Post the gems these affinity events earn; returns the gems newly paid. Never raises."""
    owed = [(event.id, event.kind, event.ref, event.day) for event in events
            if event.kind in PAID_KINDS]
    if not owed:
        return 0
    session.commit()  # end any read transaction: the gacha write takes its own lock first
    paid = 0
    for event_id, kind, ref, day in owed:
        reason, amount_setting, limit_setting = PAID_KINDS[kind]
        try:
            earning = gacha.earn_gems(
                session, user_id, reason, ref, int(settings[amount_setting]),
                details={"affinity_event_id": event_id, "day": day},
                daily_limit=int(settings[limit_setting]) if limit_setting else None, now=now)
        except Exception:
            log.exception("paying gems for affinity event %s failed; a retry pays it", event_id)
            continue
        if earning.granted:
            paid += earning.amount
    return paid
