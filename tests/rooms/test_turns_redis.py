"""The per-room lock across two app instances sharing Redis, as two server processes would:
two people's messages reach different instances within the window and get one character turn;
a process that dies mid-turn has its turn stopped by the other one, never left streaming, and
a starting process leaves a live process's turn alone. Each test has a REDIS_PREFIX of its own
(its keys removed afterwards) on Redis DB 12."""
import secrets
import threading
import time

import pytest
from sqlmodel import Session

from app import create_app
from core.db import utcnow
from core.users import User
from rooms import service
from rooms.models import Room, RoomMessage
from rooms.turns import channel, recover_interrupted_turns
from tests.rooms import rooms_support
from tests.rooms.rooms_support import join, make_room
from tests.rooms.turn_support import settle
from tests.support import require

REDIS_URL = "redis://127.0.0.1:6379/12"
WAIT_SECONDS = 15.0

people = rooms_support.people


@pytest.fixture
def prefix():
    """A REDIS_PREFIX of the test's own; its keys are removed afterwards."""
    import redis
    _require_redis()
    name = f"kindred-test-{secrets.token_hex(4)}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


@pytest.fixture
def app_config(app_config, prefix):
    """Every app of this module shares Redis, as two server processes would; a room lock's
    lease is short so that a dead process's lapses within the test."""
    return type("RedisConfig", (app_config,), {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix,
                                               "ROOM_LOCK_SECONDS": 1.0})


def test_the_room_lock_holds_across_two_app_instances_sharing_redis(app, app_config, inference,
                                                                    people):
    _require_redis()
    other_process = create_app(app_config, inference=inference)
    for instance in (app, other_process):
        instance.config["ROOM_BATCH_SECONDS"] = 3.0  # the two posts below run one by one
        instance.extensions["kindred.moderator"].moderate("warming up", "room_message")
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    def post(instance, person, text):  # as each process's handler would, at the same time
        with Session(instance.extensions["kindred.db"], expire_on_commit=False) as session:
            instance.extensions["kindred.rooms"].post(
                session, session.get(Room, room["id"]), session.get(User, person.id), text,
                False)
    senders = [threading.Thread(target=post, args=args) for args in (
        (app, owner, "Here we go"), (other_process, guest, "Go!"))]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(60)
    stored = settle(app, room["id"], other_process)
    replies = [m for m in stored if m.speaker == "character"]
    assert len(replies) == 1 and replies[0].status == "complete"
    assert replies[0].id > max(m.id for m in stored if m.speaker == "user")
    other_process.extensions["kindred.db"].dispose()


def test_a_redis_room_lock_is_exclusive_and_expires_when_not_extended(prefix):
    import redis
    from rooms.locks import build
    first, second = build(REDIS_URL, 1.0, prefix).locks, build(REDIS_URL, 1.0, prefix).locks
    room_id = 10_000_000 + utcnow().microsecond
    held = first.acquire(room_id)
    assert held is not None and second.acquire(room_id) is None
    assert redis.Redis.from_url(REDIS_URL).exists(f"{prefix}:room:turn:{room_id}")
    held.release()
    again = second.acquire(room_id)
    assert again is not None
    # a process that died mid-turn never releases: the lock frees itself after its expiry,
    # and its room is handed once to one surviving process to stop the turn left behind
    assert first.acquire(room_id, wait=5.0) is not None
    assert first.expired() + second.expired() == []  # taken again: nothing left behind
    alive = second.acquire(room_id + 1)
    deadline, expired = time.monotonic() + WAIT_SECONDS, []
    while time.monotonic() < deadline and not expired:
        alive.extend()  # the live process keeps its own lock
        expired = first.expired() + second.expired()
        time.sleep(0.1)
    assert expired == [room_id]
    assert first.expired() + second.expired() == []
    assert first.acquire(room_id + 1) is None


def test_a_turn_of_a_process_that_died_ends_stopped_through_the_other(app, app_config,
                                                                      inference, people):
    other_process = create_app(app_config, inference=inference)
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    dead = app.extensions["kindred.rooms"]
    survivor = other_process.extensions["kindred.rooms"]
    sent = []
    survivor.emit = lambda event, payload, to: sent.append((event, payload, to))
    # the first process starts a turn (its lock held, the placeholder streaming) ...
    lock = dead.coordination.locks.acquire(room["id"])
    with Session(app.extensions["kindred.db"], expire_on_commit=False) as session:
        stint = service.active_characters(session, room["id"])[0]
        turn = service.store_message(session, room["id"], "character", "", status="streaming",
                                     character_id=stint.character_id)
        session.commit()
    # ... and while it lives, a process starting beside it leaves that turn alone
    assert recover_interrupted_turns(other_process.extensions["kindred.db"], survivor) == 0
    assert _status(app, turn.id) == "streaming"
    assert lock is not None  # then it is killed: its lock is never extended nor released
    stop = threading.Event()
    watch = threading.Thread(target=survivor.watch, args=(stop,), daemon=True)
    watch.start()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and _status(app, turn.id) == "streaming":
            time.sleep(0.1)
    finally:
        stop.set()
        watch.join(10)
    assert _status(app, turn.id) == "stopped"
    done = [(p, to) for event, p, to in sent if event == "room:done"]
    assert len(done) == 1 and done[0][1] == channel(room["id"])
    assert done[0][0]["message"]["id"] == turn.id and done[0][0]["message"]["status"] == "stopped"
    # the room is free again: a person's message there gets its character turn
    with Session(other_process.extensions["kindred.db"], expire_on_commit=False) as session:
        survivor.post(session, session.get(Room, room["id"]), session.get(User, owner.id),
                      "Anyone here?", False)
    replies = [m for m in settle(other_process, room["id"], app) if m.speaker == "character"]
    assert [m.status for m in replies] == ["stopped", "complete"]
    other_process.extensions["kindred.db"].dispose()


def _status(app, message_id: int) -> str:
    with Session(app.extensions["kindred.db"]) as session:
        return session.get(RoomMessage, message_id).status


def _require_redis():
    import redis
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        require(False, f"Redis is not reachable at {REDIS_URL}: {exc}")
