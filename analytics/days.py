"""Who was active on which UTC calendar day, and when each user was first seen: the reads the
dashboards share. Days are numbers (days since 1970-01-01, analytics.retention.utc_day), and
activity is any logged event with a user, as for retention (docs/analytics.md): who was active
when is read from the daily rollup analytics_user_day, the events themselves only for what needs
their names, times or properties."""
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Optional

import sqlalchemy as sa
from sqlmodel import Session

from analytics.models import EPOCH, AnalyticsEvent, AnalyticsUserDay, day_number

EVENT = AnalyticsEvent.__table__.c
USER_DAY = AnalyticsUserDay.__table__.c


def number(day: date) -> int:
    return (day - EPOCH).days


def day_of(n: int) -> date:
    return EPOCH + timedelta(days=n)


day_number_of = day_number  # the UTC day of a time, as a day number


def start_of_day(n: int) -> datetime:
    return datetime.combine(day_of(n), time(), tzinfo=timezone.utc)


def active_days(session: Session, dataset: str, lo: Optional[int] = None,
                hi: Optional[int] = None) -> dict[int, set[int]]:
    """{user: {day numbers active}} for days lo..hi (both included; None: unbounded), from the
    daily rollup."""
    query = sa.select(USER_DAY.user_id, USER_DAY.day).where(USER_DAY.dataset == dataset)
    if lo is not None:
        query = query.where(USER_DAY.day >= lo)
    if hi is not None:
        query = query.where(USER_DAY.day <= hi)
    active: dict[int, set[int]] = {}
    for user_id, n in session.execute(query):
        active.setdefault(int(user_id), set()).add(int(n))
    return active


def first_days(session: Session, dataset: str) -> dict[int, int]:
    """{user: the day number of their first logged event}, over the whole data set."""
    query = (sa.select(USER_DAY.user_id, sa.func.min(USER_DAY.day))
             .where(USER_DAY.dataset == dataset)
             .group_by(USER_DAY.user_id))
    return {int(user_id): int(n) for user_id, n in session.execute(query)}


def events_named(session: Session, dataset: str, names: Iterable[str], lo: Optional[int] = None,
                 hi: Optional[int] = None) -> list:
    """Rows (user_id, name, occurred_at, properties) of the given names on days lo..hi (both
    included; None: unbounded), in time order."""
    query = (sa.select(EVENT.user_id, EVENT.name, EVENT.occurred_at, EVENT.properties)
             .where(EVENT.name.in_(list(names)), EVENT.dataset == dataset)
             .order_by(EVENT.occurred_at, EVENT.id))
    if lo is not None:
        query = query.where(EVENT.occurred_at >= start_of_day(lo))
    if hi is not None:
        query = query.where(EVENT.occurred_at < start_of_day(hi + 1))
    return list(session.execute(query))


def first_times(session: Session, dataset: str, name: str, lo: int, hi: int) -> dict:
    """{user: the time of their first `name` event}, for the users whose first one in the whole
    data set falls on days lo..hi."""
    first = sa.func.min(EVENT.occurred_at)
    query = (sa.select(EVENT.user_id, first)
             .where(EVENT.name == name, EVENT.dataset == dataset, EVENT.user_id.is_not(None))
             .group_by(EVENT.user_id)
             .having(first >= start_of_day(lo), first < start_of_day(hi + 1)))
    return {int(user_id): at for user_id, at in session.execute(query)}
