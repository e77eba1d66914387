"""The per-room lock across two app instances sharing Redis, as two server processes would:
two people's messages reach different instances within the window and get one character turn."""
import threading

import pytest
from sqlmodel import Session

from app import create_app
from core.db import utcnow
from core.users import User
from rooms.models import Room
from tests.rooms import rooms_support
from tests.rooms.rooms_support import join, make_room
from tests.rooms.turn_support import settle
from tests.support import require

REDIS_URL = "redis://127.0.0.1:6379/0"

people = rooms_support.people


@pytest.fixture
def app_config(app_config):
    """Every app of this module shares Redis, as two server processes would."""
    return type("RedisConfig", (app_config,), {"REDIS_URL": REDIS_URL})


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


def test_a_redis_room_lock_is_exclusive_and_expires_when_not_extended():
    _require_redis()
    from rooms.locks import build
    first, second = build(REDIS_URL, 1.0).locks, build(REDIS_URL, 1.0).locks
    room_id = 10_000_000 + utcnow().microsecond
    held = first.acquire(room_id)
    assert held is not None and second.acquire(room_id) is None
    held.release()
    again = second.acquire(room_id)
    assert again is not None
    # a process that died mid-turn never releases: the lock frees itself after its expiry
    assert first.acquire(room_id, wait=5.0) is not None


def _require_redis():
    import redis
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        require(False, f"Redis is not reachable at {REDIS_URL}: {exc}")
