"""Engagement: how long sessions last and how many chat messages they hold (docs/analytics.md).

A session is the rows sharing a `session_id` (analytics.sessions: 30 quiet minutes end one).
Its length is the time from its first to its last event (a single-event session lasts 0 s), its
messages the `message_sent` rows in it. A session belongs to the UTC day of its first event;
`from` and `to` pick sessions by that day. Median and p90 interpolate linearly between the
closest ranks (analytics.stats.percentile)."""
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from analytics import days
from analytics.activity import check_range
from analytics.stats import percentile

EVENT = days.EVENT


def engagement(session: Session, first: date, last: date, dataset: str) -> dict:
    """{sessions, session_seconds: {median, p90}, messages_per_session: {median, p90},
    days: [{day, sessions, session_seconds, messages_per_session}]}."""
    check_range(first, last)
    rows = sessions_started(session, dataset, days.number(first), days.number(last))
    by_day: dict[int, list[tuple[float, int]]] = {}
    for started, seconds, messages in rows:
        by_day.setdefault(days.day_number_of(started), []).append((seconds, messages))
    return {"dataset": dataset, **_summary([(s, m) for _, s, m in rows]),
            "days": [{"day": days.day_of(n).isoformat(), **_summary(by_day.get(n, []))}
                     for n in range(days.number(first), days.number(last) + 1)]}


def sessions_started(session: Session, dataset: str, lo: int, hi: int) -> list:
    """[(first event time, length in seconds, messages)] of the sessions whose first event falls
    on days lo..hi."""
    begun, ended = sa.func.min(EVENT.occurred_at), sa.func.max(EVENT.occurred_at)
    messages = sa.func.sum(sa.case((EVENT.name == "message_sent", 1), else_=0))
    query = (sa.select(begun, ended, messages)
             .where(EVENT.session_id.is_not(None), EVENT.dataset == dataset)
             .group_by(EVENT.session_id)
             .having(begun >= days.start_of_day(lo), begun < days.start_of_day(hi + 1)))
    return [(start, (end - start).total_seconds(), int(count or 0))
            for start, end, count in session.execute(query)]


def _summary(sessions: list[tuple[float, int]]) -> dict:
    seconds = [s for s, _ in sessions]
    messages = [m for _, m in sessions]
    return {"sessions": len(sessions),
            "session_seconds": {"median": percentile(seconds, 50), "p90": percentile(seconds, 90)},
            "messages_per_session": {"median": percentile(messages, 50),
                                     "p90": percentile(messages, 90)}}
