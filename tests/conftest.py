"""Shared fixtures: a tiny random-weight Llama loaded through the real loader, a fresh database
per test (SQLite, or PostgreSQL for tests marked both_databases), the app, clients and auth.

The app's database is migrated and seeded once per session into a template and copied per test
(tests/support/db_templates.py); `database_url` itself stays an empty database."""
import os
import secrets
import uuid

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app import create_app  # noqa: E402
from core.db import make_engine, session_scope  # noqa: E402
from core.extensions import socketio  # noqa: E402
from inference import LocalEngine, load_model  # noqa: E402
from core.migrate import upgrade_database  # noqa: E402
from characters.service import seed_characters  # noqa: E402
from config import TestConfig  # noqa: E402
from tests.support import require, tiny_llama  # noqa: E402
from tests.support.db_templates import DatabaseTemplates, migrate_and_seed  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("KINDRED_TEST_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_generate_tests(metafunc):
    if "database_url" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker
        urls = (["postgresql"] if marked("postgresql_only") is not None
                else ["sqlite", "postgresql"] if marked("both_databases") is not None
                else ["sqlite"])
        metafunc.parametrize("database_url", urls, indirect=True)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    return tiny_llama.build(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def inference(tiny_model_dir):
    engine = LocalEngine(load_model(str(tiny_model_dir)), threads=1,
                         native_build_dir=TestConfig.NATIVE_BUILD_DIR)
    yield engine
    engine.close()


@pytest.fixture
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kindred.db'}"
        return
    admin = _postgres_admin()
    name = f"kindred_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def app_config(database_url, tmp_path):
    return type("PerTestConfig", (TestConfig,), {
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": tmp_path / "instance",
    })


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory):
    """Migrated and seeded databases, each built once per session on first use, copied per test."""
    templates = DatabaseTemplates(tmp_path_factory.mktemp("database-templates"), POSTGRES_ADMIN_URL)
    yield templates
    templates.close()


@pytest.fixture
def app(app_config, inference, database_templates):
    avatars = app_config.INSTANCE_DIR / "avatars"
    copied = database_templates.copy_into("app", migrate_and_seed,
                                          app_config.DATABASE_URL, avatars)
    if not copied:  # something is in the database already: migrate and seed it as it is
        upgrade_database(app_config.DATABASE_URL)
    application = create_app(app_config, inference=inference)
    if not copied:
        with session_scope(application.extensions["kindred.db"]) as session:
            seed_characters(session, avatars)
    yield application
    application.extensions["kindred.db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def socket_client(app, client, auth):
    """A Flask-SocketIO test client sharing the logged-in cookie of `client`."""
    auth.signup()
    sio = socketio.test_client(app, flask_test_client=client)
    yield sio
    if sio.is_connected():
        sio.disconnect()


class AuthActions:
    """Sign up / log in through the real API and remember the CSRF token for later calls."""

    def __init__(self, client):
        self.client = client
        self.csrf = None
        self.username = None

    def signup(self, username=None, password="correct horse"):
        self.username = username or f"user_{secrets.token_hex(4)}"
        response = self.client.post("/api/auth/signup",
                                    json={"username": self.username, "password": password})
        assert response.status_code == 201, response.get_json()
        self.csrf = response.get_json()["csrf_token"]
        return response

    def login(self, username, password="correct horse"):
        response = self.client.post("/api/auth/login", json={"username": username,
                                                             "password": password})
        if response.status_code == 200:
            self.csrf, self.username = response.get_json()["csrf_token"], username
        return response

    def call(self, method, path, **kwargs):
        headers = {"X-CSRF-Token": self.csrf or "", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def start_conversation(self, character_id=1):
        response = self.call("POST", "/api/conversations", json={"character_id": character_id})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["conversation"]


def _postgres_admin() -> sa.Engine:
    engine = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        require(False, f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    return engine


def pytest_collection_modifyitems(config, items):
    """For `make test` (pytest -n 2 --dist loadgroup): the tests that start a live server, a
    browser or the real model run one after another on one worker (one server per module, no
    two of them competing for the 2 cores), while the in-process tests spread over both."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        uses_server = any(name in item.fixturenames for name in ("server", "page", "browser"))
        if uses_server or item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.xdist_group("heavy"))
