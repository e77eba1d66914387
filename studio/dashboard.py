"""The creator dashboard: how one character is doing. No Flask here."""
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from core.db import utcnow
from conversations.models import Conversation, Message
from characters.models import CharacterFollow, CharacterLike
from analytics.creators import character_retention

TREND_DAYS = 7


def character_stats(session: Session, character_id: int, creator_id: int | None = None,
                    now: datetime | None = None, paid_sales=None) -> dict:
    """Totals (conversations started, messages, unique users, followers, likes) and, for each of
    the last TREND_DAYS UTC days (oldest first), the same activity per day. Greetings are not
    counted as messages; every user message and reply is. The creator's own chats (previews)
    do not count. `retention` holds the character's own D1 and D7 (analytics.creators).
    `paid_content` holds its sales of paid stories and cards and the gems they earned, from
    `paid_sales(session, character_id)` (billing's, passed in by the route)."""
    now = now or utcnow()
    mine = Conversation.user_id != creator_id if creator_id is not None else sa.true()
    conversations = (select(Conversation.id).where(Conversation.character_id == character_id)
                     .where(mine))
    messages = (select(Message.created_at).where(Message.conversation_id.in_(conversations))
                .where(Message.parent_id.is_not(None)))
    totals = {
        "conversations": _count(session, select(sa.func.count()).select_from(Conversation)
                                .where(Conversation.character_id == character_id, mine)),
        "messages": _count(session, select(sa.func.count()).select_from(messages.subquery())),
        "unique_users": _count(session, select(sa.func.count(sa.distinct(Conversation.user_id)))
                               .where(Conversation.character_id == character_id, mine)),
        "followers": _count(session, select(sa.func.count()).select_from(CharacterFollow)
                            .where(CharacterFollow.character_id == character_id)),
        "likes": _count(session, select(sa.func.count()).select_from(CharacterLike)
                        .where(CharacterLike.character_id == character_id)),
    }
    first_day = (now - timedelta(days=TREND_DAYS - 1)).date()
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=now.tzinfo)
    days = [(first_day + timedelta(days=i)).isoformat() for i in range(TREND_DAYS)]
    trend = {day: {"day": day, "conversations": 0, "messages": 0, "likes": 0, "follows": 0}
             for day in days}
    sources = {
        "conversations": select(Conversation.created_at)
        .where(Conversation.character_id == character_id, mine, Conversation.created_at >= since),
        "messages": messages.where(Message.created_at >= since),
        "likes": select(CharacterLike.created_at)
        .where(CharacterLike.character_id == character_id, CharacterLike.created_at >= since),
        "follows": select(CharacterFollow.created_at)
        .where(CharacterFollow.character_id == character_id, CharacterFollow.created_at >= since),
    }
    for key, query in sources.items():
        for at in session.exec(query):
            day = at.astimezone(now.tzinfo).date().isoformat()
            if day in trend:
                trend[day][key] += 1
    return {"character_id": character_id, "totals": totals, "trend": list(trend.values()),
            "retention": character_retention(session, character_id, now.date(), creator_id),
            "paid_content": paid_sales(session, character_id) if paid_sales else
            {"sales": 0, "refunds": 0, "gems_earned": 0}}


def _count(session: Session, query) -> int:
    return int(session.exec(query).one() or 0)
