"""Migration 0009 adds characters.moderation_hidden without recreating `characters` on SQLite,
which would drop the full-text search triggers of 0005 (and search would find nothing new)."""
import sqlite3

from alembic import command
from alembic.config import Config as AlembicConfig

from core.migrate import ROOT

TRIGGERS = {"characters_search_insert", "characters_search_delete", "characters_search_update"}


def test_0009_keeps_the_search_triggers_up_and_down(tmp_path):
    path = tmp_path / "kindred.db"
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.attributes["url"], config.attributes["configure_logger"] = f"sqlite:///{path}", False

    def triggers() -> set[str]:
        with sqlite3.connect(path) as connection:
            return {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    command.upgrade(config, "0009")
    assert TRIGGERS <= triggers()
    command.downgrade(config, "0008")
    assert TRIGGERS <= triggers()
