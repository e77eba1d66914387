"""A character's own retention, for its creator's dashboard (studio/dashboard.py): of the people
who first chatted with it on some UTC day, the share who chatted with it again on day 1 and on
day 7 after (a chat: `conversation_started` or `message_sent` with its `character_id`). Only
people whose day N is over count for DN; the creator's own chats (previews) do not count. The
live log only: the demo data set has no real characters."""
from datetime import date
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session

from analytics import days
from analytics.datasets import LIVE
from analytics.retention import utc_day

CHAT_EVENTS = ("conversation_started", "message_sent")
EVENT = days.EVENT


def character_retention(session: Session, character_id: int, today: date,
                        creator_id: Optional[int] = None) -> dict:
    """{"d1": {users, retained, rate}, "d7": {...}}"""
    character = EVENT.properties["character_id"].as_integer()
    query = (sa.select(EVENT.user_id, utc_day(EVENT.occurred_at))
             .where(EVENT.dataset == LIVE, EVENT.name.in_(CHAT_EVENTS),
                    EVENT.user_id.is_not(None), character == character_id)
             .distinct())
    if creator_id is not None:
        query = query.where(EVENT.user_id != creator_id)
    chatted: dict[int, set[int]] = {}
    for user_id, day in session.execute(query):
        chatted.setdefault(int(user_id), set()).add(int(day))
    now = days.number(today)
    result = {}
    for n in (1, 7):
        due = [active for active in chatted.values() if min(active) + n < now]
        retained = sum(min(active) + n in active for active in due)
        result[f"d{n}"] = {"users": len(due), "retained": retained,
                           "rate": retained / len(due) if due else None}
    return result


def returning_chatters(session: Session, creators: dict[int, Optional[int]], since, until,
                       min_days: int = 2) -> dict[int, int]:
    """{character_id: the distinct people who chatted with it on at least `min_days` distinct
    UTC days in [since, until)}, for each character of `creators` ({character_id: creator_id});
    its creator's own chats do not count. The live log only (community events judge by it,
    docs/events.md)."""
    if not creators:
        return {}
    character = EVENT.properties["character_id"].as_integer()
    query = (sa.select(character, EVENT.user_id, utc_day(EVENT.occurred_at))
             .where(EVENT.dataset == LIVE, EVENT.name.in_(CHAT_EVENTS),
                    EVENT.user_id.is_not(None), character.in_(list(creators)),
                    EVENT.occurred_at >= since, EVENT.occurred_at < until)
             .distinct())
    active: dict[tuple[int, int], set[int]] = {}
    for character_id, user_id, day in session.execute(query):
        if int(user_id) != creators.get(int(character_id)):
            active.setdefault((int(character_id), int(user_id)), set()).add(int(day))
    counts = {character_id: 0 for character_id in creators}
    for (character_id, _user), active_days in active.items():
        if len(active_days) >= min_days:
            counts[character_id] += 1
    return counts
