"""Database engine and sessions: SQLite in WAL mode by default, PostgreSQL through DATABASE_URL."""
from contextlib import contextmanager
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

# SQLite has one writer at a time; on a busy 2-core machine eight threads drawing at once kept one
# waiting past 10 s. Waiting longer beats failing the user's action.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, pool_size: int = 5, max_overflow: int = 10) -> sa.Engine:
    """The engine for `url`; the pool holds `pool_size` connections plus `max_overflow` more."""
    pool = {"pool_size": pool_size, "max_overflow": max_overflow}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False,
                                                   "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                               **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **pool)


@contextmanager
def session_scope(engine: sa.Engine):
    """One session per request or background task; commits are explicit."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


# Ids are INTEGER columns: 32-bit on PostgreSQL (64-bit on SQLite), so the smaller range is the
# one every id is checked against before it reaches a query.
MAX_ID = 2**31 - 1


def is_id(value) -> bool:
    """A positive integer a table's id column can hold (booleans are not ids)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; store UTC-aware datetimes")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
