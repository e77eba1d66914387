"""Template databases: migrate and seed once per test session, then copy that result per test.

Running every Alembic migration and the seeding for each of several hundred tests was most of
their set-up time. A template is built the first time a test asks for it, with the same code the
fixtures ran per test, and copied into the test's own database, so each test still gets a database
of its own with the same schema, rows and ids as a freshly migrated and seeded one:

- SQLite: the template file (WAL checkpointed and closed, so the one file holds everything) is
  copied with shutil.copyfile;
- PostgreSQL: `CREATE DATABASE "<test db>" TEMPLATE "<template>"`, no connection being open to
  the template while it is copied.

The seeded avatar files are copied next to the database, where seeding would have written them.
A copy is made only into a database nothing has touched yet (a missing SQLite file, a PostgreSQL
database without tables); otherwise `copy_into` returns False and the caller migrates and seeds as
before. tests/app/test_migrations.py keeps running the real migrations from empty on both."""
import shutil
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from core.db import make_engine

def migrate_and_seed(database_url: str, avatars_dir: Path, *more_seeds) -> None:
    """What an app's database starts as: all migrations, then the seeded cast, then each of
    `more_seeds(session)` (the gacha's banner, say)."""
    from characters.service import seed_characters
    from core.db import session_scope
    from core.migrate import upgrade_database
    upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            seed_characters(session, avatars_dir)
            for seed in more_seeds:
                seed(session)
    finally:
        engine.dispose()


# build(database_url, avatars_dir) fills an empty database (and writes the seeded avatars)
Build = Callable[[str, Path], None]


class DatabaseTemplates:
    """Templates built lazily, one per (name of the seeding, kind of database), for one test
    session; a name always stands for the same build function."""

    def __init__(self, directory: Path, postgres_admin_url: str):
        self.directory = Path(directory)
        self.postgres_admin_url = postgres_admin_url
        self._built: dict[tuple[str, str], "_Template"] = {}
        self._lock = threading.Lock()

    def copy_into(self, name: str, build: Build, database_url: str, avatars_dir: Path) -> bool:
        """Make the empty database at `database_url` a copy of template `name` (built with
        `build` on first use) and copy its avatars into `avatars_dir`. False, and nothing
        changed, when the database is not empty."""
        kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        template = self._template(name, kind, build)
        if not template.copy_database(database_url):
            return False
        if template.avatars_dir.exists():
            shutil.copytree(template.avatars_dir, avatars_dir, dirs_exist_ok=True)
        return True

    def close(self) -> None:
        for template in self._built.values():
            template.drop()
        self._built.clear()

    def _template(self, name: str, kind: str, build: Build) -> "_Template":
        with self._lock:
            key = (name, kind)
            if key not in self._built:
                folder = self.directory / f"{name}-{kind}"
                shutil.rmtree(folder, ignore_errors=True)  # what a failed build left
                folder.mkdir(parents=True)
                cls = _SqliteTemplate if kind == "sqlite" else _PostgresTemplate
                self._built[key] = cls(name, folder, build, self.postgres_admin_url)
            return self._built[key]


class _Template:
    avatars_dir: Path

    def copy_database(self, database_url: str) -> bool:
        raise NotImplementedError

    def drop(self) -> None:
        pass


class _SqliteTemplate(_Template):
    def __init__(self, name: str, folder: Path, build: Build, _admin_url: str):
        self.path = folder / "template.db"
        self.avatars_dir = folder / "avatars"
        build(f"sqlite:///{self.path}", self.avatars_dir)
        checkpoint_sqlite(self.path)

    def copy_database(self, database_url: str) -> bool:
        target = Path(sa.engine.make_url(database_url).database)
        if any(p.exists() and p.stat().st_size for p in
               (target, _sidecar(target, "-wal"), _sidecar(target, "-shm"))):
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, target)
        return True


class _PostgresTemplate(_Template):
    def __init__(self, name: str, folder: Path, build: Build, admin_url: str):
        self.admin_url = admin_url
        self.avatars_dir = folder / "avatars"
        self.name = f"kindred_template_{name}_{uuid.uuid4().hex[:12]}"
        with self._admin() as admin:
            admin.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        try:
            build(_with_database(admin_url, self.name), self.avatars_dir)
        except BaseException:
            self.drop()
            raise

    def copy_database(self, database_url: str) -> bool:
        name = sa.engine.make_url(database_url).database
        engine = make_engine(database_url)
        try:
            with engine.connect() as connection:
                tables = connection.execute(sa.text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg_toast%'")).scalar()
        finally:
            engine.dispose()
        if tables:
            return False
        with self._admin() as admin:
            admin.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"'))
        return True

    def drop(self) -> None:
        with self._admin() as admin:
            admin.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def _admin(self):
        return _AdminConnection(self.admin_url)


class _AdminConnection:
    """An AUTOCOMMIT connection to the admin database, its engine disposed on exit."""

    def __init__(self, url: str):
        self.engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")

    def __enter__(self):
        self.connection = self.engine.connect()
        return self.connection

    def __exit__(self, *exc):
        self.connection.close()
        self.engine.dispose()


def checkpoint_sqlite(path: Path) -> None:
    """Fold a closed SQLite database's WAL into its main file, so that copying that one file
    copies the whole database; fail if a connection is still open (no -wal/-shm may be left)."""
    path = Path(path)
    connection = sqlite3.connect(path)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()  # the last connection closing removes the -wal and -shm files
    leftovers = [p for p in (_sidecar(path, "-wal"), _sidecar(path, "-shm")) if p.exists()]
    if busy or leftovers:
        raise RuntimeError(f"SQLite database {path} still has open connections "
                           f"(checkpoint busy={busy}, left {leftovers})")


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + f"/{name}"


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


class postgres_database:
    """A PostgreSQL database of its own (named `<prefix>_<random>`), for live servers that
    connect to it by URL; dropped afterwards. Skips (fails under KINDRED_REQUIRE_ALL=1) when
    PostgreSQL is not reachable."""

    def __init__(self, prefix: str = "kindred_live"):
        self.prefix = prefix

    def __enter__(self) -> str:
        from tests.conftest import POSTGRES_ADMIN_URL
        from tests.support import require
        self.admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
        try:
            with self.admin.connect():
                pass
        except sa.exc.OperationalError as exc:
            self.admin.dispose()
            require(False, f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
        self.name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("+psycopg", "") + f"/{self.name}"

    def __exit__(self, *exc):
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
