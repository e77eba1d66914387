"""Migration 0012 adds analytics_event and takes it away again, on both databases, leaving the
search triggers of 0005 (which a recreated `characters` would drop on SQLite) alone."""
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from core.db import make_engine
from core.migrate import ROOT

pytestmark = pytest.mark.both_databases


def test_0012_adds_and_drops_the_event_log(database_url):
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.attributes["url"], config.attributes["configure_logger"] = database_url, False
    engine = make_engine(database_url)
    try:
        command.upgrade(config, "0011")
        before = _shape(engine)
        command.upgrade(config, "0012")
        assert "analytics_event" in sa.inspect(engine).get_table_names()
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO analytics_event (user_id, name, occurred_at, session_id, properties) "
                "VALUES (1, 'user_signed_up', CURRENT_TIMESTAMP, 'abc', '{}')"))
        command.downgrade(config, "0011")
        assert _shape(engine) == before
    finally:
        engine.dispose()


def _shape(engine) -> tuple:
    engine.dispose()  # a fresh inspection
    inspector = sa.inspect(engine)
    triggers = ()
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            triggers = tuple(sorted(row[0] for row in connection.execute(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"))))
    return tuple(sorted(inspector.get_table_names())), triggers


def test_0017_adds_the_dataset_column_with_live_for_existing_rows(database_url):
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.attributes["url"], config.attributes["configure_logger"] = database_url, False
    engine = make_engine(database_url)
    previous = _previous_revision("0017")
    try:
        command.upgrade(config, previous)
        before = _shape(engine)
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO analytics_event (user_id, name, occurred_at, session_id, properties) "
                "VALUES (1, 'user_signed_up', CURRENT_TIMESTAMP, 'abc', '{}')"))
        command.upgrade(config, "0017")
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT dataset FROM analytics_event")
                                      ).scalars().all() == ["live"]
        command.downgrade(config, previous)
        assert _shape(engine) == before
        columns = {c["name"] for c in sa.inspect(engine).get_columns("analytics_event")}
        assert "dataset" not in columns
    finally:
        engine.dispose()


def _previous_revision(revision: str) -> str:
    from alembic.script import ScriptDirectory
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    return ScriptDirectory.from_config(config).get_revision(revision).down_revision
