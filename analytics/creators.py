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


def chat_days(session: Session, since=None, until=None, names=CHAT_EVENTS,
              characters: Optional[list] = None) -> dict[tuple[int, int], set[int]]:
    """{(user_id, character_id): the UTC day numbers on which the user chatted with it} in
    [since, until) (None: unbounded), from the live log's `names` events, for `characters`
    (None: every character)."""
    character = EVENT.properties["character_id"].as_integer()
    query = (sa.select(EVENT.user_id, character, utc_day(EVENT.occurred_at))
             .where(EVENT.dataset == LIVE, EVENT.name.in_(names), EVENT.user_id.is_not(None))
             .distinct())
    if since is not None:
        query = query.where(EVENT.occurred_at >= since)
    if until is not None:
        query = query.where(EVENT.occurred_at < until)
    if characters is not None:
        query = query.where(character.in_(characters))
    found: dict[tuple[int, int], set[int]] = {}
    for user_id, character_id, day in session.execute(query):
        if character_id is not None:
            found.setdefault((int(user_id), int(character_id)), set()).add(int(day))
    return found


def returning_chatters(session: Session, creators: dict[int, Optional[int]], since, until,
                       min_days: int = 2) -> dict[int, int]:
    """{character_id: the distinct people who chatted with it on at least `min_days` distinct
    UTC days in [since, until)}, for each character of `creators` ({character_id: creator_id});
    its creator's own chats do not count. The live log only (community events judge by it,
    docs/events.md)."""
    if not creators:
        return {}
    counts = {character_id: 0 for character_id in creators}
    for (user_id, character_id), active_days in chat_days(session, since, until,
                                                          characters=list(creators)).items():
        if user_id != creators.get(character_id) and len(active_days) >= min_days:
            counts[character_id] += 1
    return counts
