"""Alembic environment: the URL comes from the caller or from config.Config."""
from logging.config import fileConfig

from alembic import context
from sqlmodel import SQLModel

from core.db import make_engine
from app.schema import include_object, load_all_models
from config import Config

load_all_models()
target_metadata = SQLModel.metadata
config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    return config.attributes.get("url") or Config.DATABASE_URL


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
