"""The daily-activity rollup analytics_user_day always holds exactly the distinct (data set, user,
UTC day) pairs of analytics_event: after the writer's batches (one retried after a failure inside
its transaction, one after a failure before it), after ORM inserts, after the simulation replaces
the demo data set, and after migration 0020 backfills a log written before it; on SQLite and
PostgreSQL."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

import analytics.writer
from analytics.retention import utc_day
from analytics.simulate import simulate
from analytics.writer import EventLog
from core.db import make_engine
from core.migrate import ROOT
from tests.analytics.conftest import insert_rows

pytestmark = pytest.mark.both_databases


def test_the_writers_batches_and_a_retried_one_roll_up_to_the_distinct_user_days(
        app, event_log, clock, monkeypatch):
    db = app.extensions["kindred.db"]
    clock.now = datetime(2026, 11, 30, 23, 59, 30, tzinfo=timezone.utc)
    for user in (1, 2, 3):
        event_log.record("session_started", user, {"remember": False})
    clock.advance(seconds=40)  # 12-01 00:00:10: the next UTC day, the same session
    event_log.record("message_sent", 1, {})
    event_log.record("character_published", None, {"character_id": 9})  # no user: no row
    assert event_log.flush()
    assert _rollup(db) == _distinct_user_days(db)
    assert ("live", 1, _day("2026-12-01")) in _rollup(db)
    before = _event_count(db)

    # A batch failing inside its transaction, after its events went in: nothing of it stays,
    # and the retry writes the events and their user days once.
    real, calls = analytics.writer.insert_user_days, []

    def failing_once(session, rows):
        calls.append(len(rows))
        real(session, rows)
        if len(calls) == 1:
            raise RuntimeError("connection reset")
    monkeypatch.setattr(analytics.writer, "insert_user_days", failing_once)
    clock.advance(hours=5)
    for user in (1, 2, 4, 4):  # 1 and 2 are known on 12-01 already: insert-or-ignore
        event_log.record("message_sent", user, {})
        clock.advance(minutes=1)
    assert event_log.flush()
    assert len(calls) >= 2 and event_log.stats.retries >= 1 and event_log.stats.lost == 0
    assert _rollup(db) == _distinct_user_days(db)
    assert _event_count(db) == before + 4  # written once

    # A batch failing before it reaches the database, for a user new on a later day.
    monkeypatch.setattr(analytics.writer, "insert_user_days", real)
    write, attempts = event_log.write, []

    def failing_before(batch):
        attempts.append(len(batch))
        if len(attempts) == 1:
            raise RuntimeError("database is locked")
        write(batch)
    monkeypatch.setattr(event_log, "write", failing_before)
    clock.advance(days=3)
    event_log.record("swipe_made", 5, {})
    event_log.record("swipe_made", 1, {})
    assert event_log.flush()
    assert len(attempts) >= 2
    assert _rollup(db) == _distinct_user_days(db)
    assert {(u, d) for _, u, d in _rollup(db)} == {
        (1, _day("2026-11-30")), (2, _day("2026-11-30")), (3, _day("2026-11-30")),
        (1, _day("2026-12-01")), (2, _day("2026-12-01")), (4, _day("2026-12-01")),
        (1, _day("2026-12-04")), (5, _day("2026-12-04"))}


def test_a_second_data_set_and_orm_inserts_roll_up_apart(app, event_log, clock):
    db = app.extensions["kindred.db"]
    demo = EventLog(db, lambda task: None, clock=clock, dataset="demo")
    t = datetime(2026, 12, 2, 22, 0, tzinfo=timezone.utc)
    demo.write_now([analytics.writer.Pending("message_sent", 7, t + timedelta(hours=h), {})
                    for h in (0, 1, 3)])  # 12-02 and 12-03 in demo
    insert_rows(app, [(7, "message_sent", t, "s7", {}), (None, "comment_added", t, None, {}),
                      (8, "message_sent", t - timedelta(days=40), "s8", {})])
    assert _rollup(db) == _distinct_user_days(db) == {
        ("demo", 7, _day("2026-12-02")), ("demo", 7, _day("2026-12-03")),
        ("live", 7, _day("2026-12-02")), ("live", 8, _day("2026-10-23"))}


def test_the_simulation_replaces_the_demo_rollup_with_the_demo_events(app, event_log):
    db = app.extensions["kindred.db"]
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    simulate(db, 30, 10, seed=3, now=now)
    simulate(db, 20, 8, seed=4, now=now)  # fewer users: rows of the first run must go
    assert _rollup(db) == _distinct_user_days(db)
    assert max(u for ds, u, _ in _rollup(db) if ds == "demo") <= 20


def test_migration_0020_backfills_the_rollup_from_the_events_logged_before_it(database_url):
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.attributes["url"], config.attributes["configure_logger"] = database_url, False
    engine = make_engine(database_url)
    try:
        command.upgrade(config, "0019")
        rows = [(1, "2026-11-30 23:59:59+00:00", "live"), (1, "2026-12-01 00:00:00+00:00", "live"),
                (1, "2026-12-01 18:00:00+00:00", "live"), (2, "2026-12-01 05:00:00+00:00", "demo"),
                (None, "2026-12-01 05:00:00+00:00", "live")]
        with engine.begin() as connection:
            for user, at, dataset in rows:
                connection.execute(sa.text(
                    "INSERT INTO analytics_event (user_id, name, occurred_at, session_id, "
                    "properties, dataset) VALUES (:u, 'message_sent', :at, 's', '{}', :ds)"),
                    {"u": user, "at": datetime.fromisoformat(at), "ds": dataset})
        command.upgrade(config, "0020")
        assert _rollup(engine) == _distinct_user_days(engine) == {
            ("live", 1, _day("2026-11-30")), ("live", 1, _day("2026-12-01")),
            ("demo", 2, _day("2026-12-01"))}
        command.downgrade(config, "0019")
        assert "analytics_user_day" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _day(iso: str) -> int:
    return (datetime.fromisoformat(iso).date() - datetime(1970, 1, 1).date()).days


def _rollup(db) -> set:
    with db.connect() as connection:
        return set(connection.execute(sa.text(
            "SELECT dataset, user_id, day FROM analytics_user_day")).tuples())


def _distinct_user_days(db) -> set:
    """The definition, computed from the events in SQL."""
    event = sa.table("analytics_event", sa.column("dataset"), sa.column("user_id"),
                     sa.column("occurred_at"))
    query = (sa.select(event.c.dataset, event.c.user_id, utc_day(event.c.occurred_at))
             .where(event.c.user_id.is_not(None)).distinct())
    with db.connect() as connection:
        return {(ds, int(u), int(d)) for ds, u, d in connection.execute(query)}


def _event_count(db) -> int:
    with db.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM analytics_event")).scalar()
