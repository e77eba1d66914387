"""A Moderator on a real migrated SQLite database with the shipped rules, the shipped head and
the packaged MiniLM: the pipeline the server builds, without the judge unless a test adds one."""
import pytest
from sqlmodel import Session

from core.db import make_engine
from core.migrate import upgrade_database
from safety import Moderator
from safety.embedding import default_embedder
from safety.rules import seed_default_rules


@pytest.fixture(scope="session")
def embedder():
    return default_embedder()


@pytest.fixture(scope="module")
def rules_engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('safety') / 'rules.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        seed_default_rules(session)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def moderator(rules_engine, embedder):
    return Moderator(rules_engine, embedder)
