"""The live-reply registry in Redis (conversations/live.py), two instances standing for two web
processes: one reply per conversation and MAX_LIVE_REPLIES_PER_USER across both, a stop asked of
one reaching the other, and the claim of a process that stops renewing it (killed) freed after
its lease and handed to exactly one process to mark interrupted."""
import os
import secrets
import time

import pytest

from conversations.live import RedisClaims
from core.errors import Conflict
from tests.support import require

REDIS_URL = os.environ.get("KINDRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WAIT_SECONDS = 10.0


@pytest.fixture
def processes():
    """Two registries on one Redis under a prefix of their own (removed afterwards)."""
    import redis
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        require(False, f"Redis is not reachable at {REDIS_URL}: {exc}")
    prefix = f"kindred-test-{secrets.token_hex(4)}"
    pair = [RedisClaims(redis.Redis.from_url(REDIS_URL), 0.5, prefix) for _ in range(2)]
    yield pair
    for claims in pair:
        claims.close()
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_a_conversation_has_one_reply_across_processes(processes):
    first, second = processes
    token = first.claim(7, user_id=1, cap=3)
    assert second.is_busy(7) and first.owner_of(7) == first.owner
    with pytest.raises(Conflict) as refused:
        second.claim(7, user_id=1, cap=3)
    assert refused.value.code == "busy"
    second.release(7, 1, "not-the-token")  # someone else's release frees nothing
    assert first.is_busy(7)
    first.release(7, 1, token)
    assert not second.is_busy(7)
    second.release(7, 1, second.claim(7, user_id=1, cap=3))


def test_a_users_replies_are_counted_across_processes(processes):
    first, second = processes
    held = [(1, first.claim(1, user_id=5, cap=2)), (2, second.claim(2, user_id=5, cap=2))]
    with pytest.raises(Conflict) as refused:
        first.claim(3, user_id=5, cap=2)
    assert refused.value.code == "too_many_replies"
    assert second.claim(3, user_id=6, cap=2)  # another user's replies do not count
    first.release(1, 5, held[0][1])
    assert second.claim(3 + 10, user_id=5, cap=2)


def test_a_stop_asked_of_one_process_reaches_the_other(processes):
    first, second = processes
    assert second.stops(timeout=0.2) == []  # subscribed before anything is asked
    assert first.request_stop(9, "user") is False  # nothing is being written there
    second.claim(9, user_id=1, cap=3)
    assert first.request_stop(9, "user") is True
    asked, deadline = [], time.monotonic() + WAIT_SECONDS
    while not asked and time.monotonic() < deadline:
        asked = second.stops(timeout=0.5)
    assert asked == [(9, "user")]


def test_a_dead_processes_claim_lapses_and_goes_to_one_process_to_recover(processes):
    first, second = processes
    alive = second.claim(21, user_id=2, cap=3)
    first.claim(22, user_id=2, cap=3)  # then its process is killed: never renewed again
    deadline, expired = time.monotonic() + WAIT_SECONDS, []
    while time.monotonic() < deadline and not expired:
        second.renew([(21, 2, alive)])  # the live process keeps its own claim
        expired = first.expired() + second.expired()
        time.sleep(0.1)
    assert expired == [22]
    assert not first.is_busy(22) and second.is_busy(21)
    assert first.expired() + second.expired() == []  # handed out once
    # the dead claim no longer counts against the user: two more fit under a cap of 3
    second.claim(23, user_id=2, cap=3)
    second.claim(24, user_id=2, cap=3)
