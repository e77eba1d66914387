"""Domain events: delivered once the producing transaction commits and its connection is back,
never for a rolled-back change; one failing subscriber harms neither the write nor the others."""
import logging
import threading

import pytest
import sqlalchemy as sa

from core import events
from core.db import make_engine, session_scope
from core.event_types import ALL_EVENTS, UserSignedUp
from core.users import User

ROOT_DOCS = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


@pytest.fixture
def engine(app):
    return app.extensions["kindred.db"]


@pytest.fixture
def bus(app):
    return app.extensions["kindred.events"]


def _new_user(session, name):
    user = User(username=name, username_key=name, password_hash="x")
    session.add(user)
    session.flush()
    events.record(session, UserSignedUp(user.id, name))
    return user


@pytest.mark.both_databases
def test_an_event_arrives_after_commit_with_the_producers_connection_back_in_the_pool(
        engine, bus):
    seen = []

    def subscriber(event):
        checked_out = engine.pool.checkedout()
        with session_scope(engine) as session:  # the row is visible: it was committed
            seen.append((event.username, checked_out, session.get(User, event.user_id).username))

    bus.subscribe(UserSignedUp, subscriber)
    with session_scope(engine) as session:
        _new_user(session, "ada")
        session.flush()
        assert seen == []  # recorded, not yet committed
        session.commit()
        assert seen == [("ada", 0, "ada")]


@pytest.mark.both_databases
def test_a_rolled_back_change_announces_nothing(engine, bus):
    seen = []
    bus.subscribe(UserSignedUp, seen.append)
    with session_scope(engine) as session:
        _new_user(session, "bob")
        session.rollback()
        session.commit()  # a later, empty commit must not deliver the dropped event either
    with session_scope(engine) as session:
        _new_user(session, "cy")  # never committed: the session just closes
    assert seen == []
    with session_scope(engine) as session:
        assert session.exec(sa.select(sa.func.count()).select_from(User)).one()[0] == 0


def test_a_failing_subscriber_is_logged_and_neither_undoes_the_write_nor_stops_the_others(
        engine, bus, caplog):
    seen = []

    def broken(event):
        raise RuntimeError("subscriber bug")

    bus.subscribe(UserSignedUp, broken, name="broken")
    bus.subscribe(UserSignedUp, seen.append)
    with caplog.at_level(logging.ERROR), session_scope(engine) as session:
        _new_user(session, "dee")
        session.commit()
    assert [e.username for e in seen] == ["dee"]
    assert "subscriber broken failed on UserSignedUp" in caplog.text
    with session_scope(engine) as session:
        assert session.exec(sa.select(User.username)).scalars().all() == ["dee"]


def test_background_subscribers_run_on_the_apps_task_runner_and_inline_ones_in_order(engine):
    spawned, order = [], []
    bus = events.EventBus(spawn=lambda work: spawned.append(work))
    events.bind(engine, bus)
    bus.subscribe(UserSignedUp, lambda e: order.append("first"))
    bus.subscribe(UserSignedUp, lambda e: order.append("background"), background=True)
    bus.subscribe(UserSignedUp, lambda e: order.append("second"))
    with session_scope(engine) as session:
        _new_user(session, "eve")
        session.commit()
    assert order == ["first", "second"] and len(spawned) == 1
    spawned[0]()
    assert order == ["first", "second", "background"]


def test_each_apps_engine_has_its_own_bus(tmp_path, engine, bus):
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    assert events.bus_for(engine) is bus and events.bus_for(other) is None
    other.dispose()


def test_threads_get_their_events_from_their_own_sessions(engine, bus):
    seen, lock = [], threading.Lock()

    def collect(event):
        with lock:
            seen.append(event.username)

    bus.subscribe(UserSignedUp, collect)

    def sign_up(name):
        with session_scope(engine) as session:
            _new_user(session, name)
            session.commit()

    threads = [threading.Thread(target=sign_up, args=(f"user{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(seen) == [f"user{i}" for i in range(4)]


def test_every_event_and_its_payload_is_documented():
    text = ROOT_DOCS.read_text()
    for event_type in ALL_EVENTS:
        assert f"`{event_type.__name__}`" in text, event_type.__name__
        for field in event_type.__dataclass_fields__:
            assert field in text, f"{event_type.__name__}.{field}"
