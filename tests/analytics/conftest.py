"""Analytics test helpers: a clock the tests move (the event log stamps events with it), the
app's event log with retries that do not wait, people with roles (tests/moderation's Person), and
hand-made rows written straight into the log."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session

from analytics.models import AnalyticsEvent
from tests.moderation.conftest import person  # noqa: F401  (the fixture: people with roles)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))


@pytest.fixture
def event_log(app, clock):
    writer = app.extensions["kindred.analytics"]
    writer.clock, writer.retry_seconds = clock, 0.0
    return writer


def insert_events(app, rows) -> None:
    """rows: (user_id, name, occurred_at) each, appended as the writer would."""
    with Session(app.extensions["kindred.db"]) as session:
        session.add_all([AnalyticsEvent(user_id=user_id, name=name, occurred_at=at,
                                        session_id=None if user_id is None else f"s{user_id}",
                                        properties={}) for user_id, name, at in rows])
        session.commit()


def logged(app, **where) -> list[AnalyticsEvent]:
    """The log's rows (matching `where`), in id order."""
    with Session(app.extensions["kindred.db"]) as session:
        query = session.query(AnalyticsEvent).order_by(AnalyticsEvent.id)
        return query.filter_by(**where).all()


def insert_rows(app, rows, dataset: str = "live") -> None:
    """rows: (user_id, name, occurred_at, session_id, properties) each, into `dataset`."""
    with Session(app.extensions["kindred.db"]) as session:
        session.add_all([AnalyticsEvent(user_id=user_id, name=name, occurred_at=at,
                                        session_id=session_id, properties=properties,
                                        dataset=dataset)
                         for user_id, name, at, session_id, properties in rows])
        session.commit()


@pytest.fixture
def admin_at(person, event_log, clock):
    """An admin signed up long before the events under test (2026-01-05), the clock then set
    to `now`; their own sign-up is a cohort far outside the ranges asked for."""
    def make(now: datetime):
        clock.now = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
        made = person("admin")
        assert event_log.flush()
        clock.now = now
        return made
    return make
