"""The analytics event log: one row per logged domain event, appended, never updated.

`user_id` is a plain integer, not a foreign key: the log is a record of what happened, and a row
outlives any change to the user's row. `session_id` is assigned by analytics.sessions. `dataset`
keeps the simulated population of analytics.simulate ('demo') apart from the real log ('live'):
every figure reads one of them, never both.

analytics_user_day is derived from it: the (data set, user, UTC day) pairs with activity."""
from datetime import date, datetime, timezone
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime

EPOCH = date(1970, 1, 1)


class AnalyticsEvent(SQLModel, table=True):
    __tablename__ = "analytics_event"
    # A user's events in time order: first-seen and the last event of a session are one seek.
    __table_args__ = (sa.Index("ix_analytics_event_user_id_occurred_at", "user_id", "occurred_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: Optional[int] = None  # None: an event no user did (a character's publication)
    name: str = Field(max_length=40, index=True)  # one of analytics.catalog.NAMES
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    session_id: Optional[str] = Field(default=None, max_length=32)  # None without a user
    properties: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    dataset: str = Field(default="live", max_length=8,
                         sa_column_kwargs={"server_default": "live"})  # analytics.datasets


class AnalyticsUserDay(SQLModel, table=True):
    """The daily-activity rollup: one row per (data set, user, UTC day) with at least one event of
    that user in analytics_event, so "who was active on day N" (retention, DAU/WAU/MAU, first days)
    reads thousands of rows instead of millions of events. `day` is the UTC calendar day as days
    since 1970-01-01 (analytics.days.number). Derived, never edited: the writer inserts it in the
    same transaction as the events (insert-or-ignore), an ORM insert of an AnalyticsEvent does too
    (the listener below), migration 0020 backfills it, and it always equals
    SELECT DISTINCT dataset, user_id, utc_day(occurred_at) FROM analytics_event WHERE user_id
    IS NOT NULL."""
    __tablename__ = "analytics_user_day"
    # The primary key serves per-user reads (first and last day); this one the days lo..hi.
    __table_args__ = (sa.Index("ix_analytics_user_day_dataset_day_user_id", "dataset", "day",
                               "user_id"),)

    dataset: str = Field(primary_key=True, max_length=8)
    user_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


def day_number(at: datetime) -> int:
    """The UTC calendar day of an aware time, as days since 1970-01-01."""
    return (at.astimezone(timezone.utc).date() - EPOCH).days


def user_days(events) -> list[dict]:
    """The rollup rows of `events` (dicts or objects with user_id, occurred_at, dataset), each
    once, in key order (so that concurrent writers lock them in one order)."""
    keys = set()
    for event in events:
        get = event.get if isinstance(event, dict) else lambda name: getattr(event, name)
        if get("user_id") is not None:
            keys.add((get("dataset") or "live", get("user_id"), day_number(get("occurred_at"))))
    return [{"dataset": d, "user_id": u, "day": n} for d, u, n in sorted(keys)]


def insert_user_days(connection, rows: list[dict]) -> None:
    """Insert-or-ignore the rollup rows on `connection` (a Connection or Session), in its
    transaction: ON CONFLICT DO NOTHING on PostgreSQL, INSERT OR IGNORE's equivalent on SQLite."""
    if not rows:
        return
    dialect = getattr(connection, "dialect", None) or connection.get_bind().dialect
    insert = pg_insert if dialect.name == "postgresql" else sqlite_insert
    connection.execute(insert(AnalyticsUserDay.__table__).on_conflict_do_nothing(
        index_elements=["dataset", "user_id", "day"]), rows)


@sa_event.listens_for(AnalyticsEvent, "after_insert")
def _roll_up_orm_insert(_mapper, connection, target: AnalyticsEvent) -> None:
    """An event added through the ORM (session.add) rolls up in the same flush; the writer's
    batched Core insert does its own (analytics.writer)."""
    insert_user_days(connection, user_days([target]))
