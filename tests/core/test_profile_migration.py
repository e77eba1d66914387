"""Migration 0011 adds users.display_name and users.bio in place, on both databases: up and down
keep every user and every row that references one (on SQLite a recreated `users` table would
cascade into them), and the columns come and go with the revision."""
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from core.db import make_engine
from core.migrate import ROOT

pytestmark = pytest.mark.both_databases


def test_0011_adds_and_drops_the_profile_columns_keeping_users_and_their_rows(database_url):
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.attributes["url"], config.attributes["configure_logger"] = database_url, False
    command.upgrade(config, "0010")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO users (username, username_key, password_hash, role, created_at) "
                "VALUES ('ada', 'ada', '-', 'user', CURRENT_TIMESTAMP)"))
            user_id = connection.execute(sa.text("SELECT id FROM users")).scalar()
            connection.execute(sa.text(
                "INSERT INTO logins (user_id, token_hash, remember, created_at, expires_at) "
                "VALUES (:user, 'h', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"user": user_id})

        command.upgrade(config, "0011")
        assert {"display_name", "bio"} <= _columns(engine)
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE users SET display_name = 'Ada', bio = 'Hi.'"))
        command.downgrade(config, "0010")
        assert not {"display_name", "bio"} & _columns(engine)
        command.upgrade(config, "0011")
        with engine.connect() as connection:
            assert connection.execute(sa.text(
                "SELECT username, display_name, bio FROM users")).all() == [("ada", None, None)]
            assert connection.execute(sa.text("SELECT count(*) FROM logins")).scalar() == 1
    finally:
        engine.dispose()


def _columns(engine) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns("users")}
