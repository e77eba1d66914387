"""The once-a-day scheduler: two runners racing for the same day (each with its own database
engine, as two server processes have) run the topic of the day once, with the database lock on
SQLite and PostgreSQL and with the Redis lock; a run that died is taken over once its lock is
stale, a finished day never runs again, and nothing runs before the configured hour."""
import os
import threading
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import redis
from sqlmodel import select

from community.member_models import CommunityDailyRun
from community.models import Post
from community.scheduler import DatabaseLock, RedisLock, Scheduler
from community.topics import TopicRun
from core.db import make_engine, session_scope
from tests.moderation.conftest import Person
from tests.community.member_world import quiet_config, taking_part
from tests.support import require

DAY = date(2026, 12, 1)
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
REDIS_URL = os.environ.get("KINDRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def app_config(app_config):
    return quiet_config(app_config, COMMUNITY_TOPIC_CHARACTERS=2, COMMUNITY_SCENE_TURNS=2)


@pytest.fixture
def cast(app):
    creator = Person(app)
    return [taking_part(creator, name="Wren")["id"], taking_part(creator, name="Moss")["id"]]


def topic_posts(app) -> list[Post]:
    with session_scope(app.extensions["kindred.db"]) as session:
        return list(session.exec(select(Post).where(Post.kind.in_(("topic", "scene")))
                                 .order_by(Post.id)))


def race(app, make_lock) -> list[list[str]]:
    """Two schedulers, each with its own engine and lock, call run_due at the same moment."""
    barrier = threading.Barrier(2)
    results: list[list[str]] = [[], []]
    engines = [make_engine(app.config["DATABASE_URL"]) for _ in range(2)]

    def runner(index):
        engine = engines[index]
        topic = TopicRun(engine, app.extensions["kindred.inference"],
                         app.extensions["kindred.moderator"], app.config)
        scheduler = Scheduler(make_lock(engine), {"topic": topic.run}, hour=9)
        barrier.wait()
        results[index] = scheduler.run_due(NOON)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for engine in engines:
        engine.dispose()
    return results


def assert_ran_once(app, results, cast):
    assert sorted(results) == [[], ["topic"]]
    posts = topic_posts(app)
    assert sorted(p.kind for p in posts) == ["scene", "topic", "topic"]
    assert sorted(p.author_character_id for p in posts if p.kind == "topic") == sorted(cast)
    assert all(p.author_kind == "character" and p.status == "published" for p in posts)


@pytest.mark.both_databases
def test_two_runners_with_the_database_lock_run_the_day_once(app, cast):
    results = race(app, lambda engine: DatabaseLock(engine, timedelta(hours=1)))
    assert_ran_once(app, results, cast)
    with session_scope(app.extensions["kindred.db"]) as session:
        [row] = session.exec(select(CommunityDailyRun)).all()
    assert (row.job, row.day) == ("topic", DAY) and row.finished_at is not None
    again = race(app, lambda engine: DatabaseLock(engine, timedelta(hours=1)))
    assert again == [[], []] and len(topic_posts(app)) == 3


def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        require(False, f"Redis is not reachable at {REDIS_URL}: {exc}")
    return client


def test_two_runners_with_the_redis_lock_run_the_day_once(app, cast):
    client = redis_client()
    prefix = f"kindred-test:{uuid.uuid4().hex}"
    try:
        results = race(app, lambda _engine: RedisLock(redis.Redis.from_url(REDIS_URL),
                                                      timedelta(minutes=30), prefix=prefix))
        assert_ran_once(app, results, cast)
        key = f"{prefix}:topic:{DAY.isoformat()}"
        assert client.get(key).startswith(b"done:")
        assert client.ttl(key) > 24 * 3600  # a finished day outlives the day
        assert race(app, lambda _engine: RedisLock(redis.Redis.from_url(REDIS_URL),
                                                   timedelta(minutes=30), prefix=prefix)) == \
            [[], []]
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def test_an_unfinished_redis_run_expires_so_the_day_can_be_taken_again():
    client = redis_client()
    prefix = f"kindred-test:{uuid.uuid4().hex}"
    first = RedisLock(client, timedelta(minutes=30), prefix=prefix)
    second = RedisLock(client, timedelta(minutes=30), prefix=prefix)
    try:
        assert first.acquire("topic", DAY) and not second.acquire("topic", DAY)
        assert 0 < client.ttl(f"{prefix}:topic:{DAY.isoformat()}") <= 30 * 60
        second.finish("topic", DAY)  # not its lock: changes nothing
        assert client.get(f"{prefix}:topic:{DAY.isoformat()}") == first.owner.encode()
        client.delete(f"{prefix}:topic:{DAY.isoformat()}")  # what the expiry does
        assert second.acquire("topic", DAY)
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


@pytest.mark.both_databases
def test_a_run_that_died_is_taken_over_once_stale_and_a_failed_job_is_retried(app):
    now = [NOON]
    clock = lambda: now[0]  # noqa: E731
    db = app.extensions["kindred.db"]
    crashed = DatabaseLock(db, timedelta(hours=1), clock=clock)
    waiting = DatabaseLock(db, timedelta(hours=1), clock=clock)
    assert crashed.acquire("topic", DAY)  # ...and its process dies before finishing
    assert not waiting.acquire("topic", DAY)
    now[0] += timedelta(minutes=61)
    calls = []

    def failing(day):
        calls.append(day)
        raise RuntimeError("the model went away")

    assert Scheduler(waiting, {"topic": failing}, hour=9, clock=clock).run_due() == []
    assert calls == [DAY]
    now[0] += timedelta(minutes=61)
    third = DatabaseLock(db, timedelta(hours=1), clock=clock)
    assert Scheduler(third, {"topic": calls.append}, hour=9, clock=clock).run_due() == ["topic"]
    now[0] += timedelta(hours=5)
    fourth = DatabaseLock(db, timedelta(hours=1), clock=clock)
    assert not fourth.acquire("topic", DAY)  # finished: never again that day
    assert fourth.acquire("topic", DAY + timedelta(days=1))


def test_nothing_runs_before_the_hour(app):
    ran = []
    scheduler = Scheduler(DatabaseLock(app.extensions["kindred.db"], timedelta(hours=1)),
                          {"topic": ran.append}, hour=9)
    assert scheduler.run_due(NOON.replace(hour=8, minute=59)) == [] and ran == []
    assert scheduler.run_due(NOON.replace(hour=9, minute=0)) == ["topic"] and ran == [DAY]


def test_the_server_loop_stops_when_told(app):
    stop = threading.Event()
    ran = []
    scheduler = Scheduler(DatabaseLock(app.extensions["kindred.db"], timedelta(hours=1)),
                          {"topic": lambda day: (ran.append(day), stop.set())}, hour=0)
    loop = threading.Thread(target=scheduler.run_forever, args=(stop, 0.01))
    loop.start()
    loop.join(timeout=30)
    assert not loop.is_alive() and len(ran) == 1
