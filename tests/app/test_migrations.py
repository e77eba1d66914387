"""Alembic migrations: they build exactly the schema the models describe, on both databases."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from core.db import make_engine
from app.schema import include_object, load_all_models
from core.migrate import upgrade_database

pytestmark = pytest.mark.both_databases


def test_migrations_match_the_models_and_can_run_twice(database_url):
    upgrade_database(database_url)
    upgrade_database(database_url)  # idempotent: make run migrates on every start
    load_all_models()
    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(
            connection, opts={"include_object": include_object}), SQLModel.metadata)
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert diff == []
    assert version
