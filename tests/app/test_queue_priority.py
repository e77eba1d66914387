"""Plus members' replies go first in the inference queue, and a free user's reply is never
starved: it waits for at most INFERENCE_PRIORITY_BURST members' replies that queued after it.
The queue alone, then the real engine's worker (tiny model, one reply at a time)."""
import queue
import threading

import pytest

from inference import LocalEngine, load_model
from inference.engine import GenerationParams
from inference.scheduling import PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_NORMAL, JobQueue
from tests.conftest import TestConfig


def _drain(line: JobQueue) -> list:
    taken = []
    while True:
        try:
            taken.append(line.get(block=False))
        except queue.Empty:
            return taken


def test_members_go_first_but_a_waiting_free_reply_goes_after_at_most_burst_of_them():
    line = JobQueue(burst=3)
    line.put(PRIORITY_LOW, "judge")
    line.put(PRIORITY_NORMAL, "free-1")
    for n in range(1, 8):
        line.put(PRIORITY_HIGH, f"plus-{n}")
    line.put(PRIORITY_NORMAL, "free-2")
    assert _drain(line) == ["plus-1", "plus-2", "plus-3", "free-1",
                            "plus-4", "plus-5", "plus-6", "free-2", "plus-7", "judge"]


def test_without_anyone_waiting_members_are_served_in_arrival_order_and_the_streak_restarts():
    line = JobQueue(burst=2)
    for n in range(1, 5):
        line.put(PRIORITY_HIGH, f"plus-{n}")
    assert _drain(line) == ["plus-1", "plus-2", "plus-3", "plus-4"]
    # the streak counts only members served while a free reply waited
    line.put(PRIORITY_NORMAL, "free-1")
    line.put(PRIORITY_HIGH, "plus-5")
    line.put(PRIORITY_HIGH, "plus-6")
    line.put(PRIORITY_HIGH, "plus-7")
    assert _drain(line) == ["plus-5", "plus-6", "free-1", "plus-7"]


def test_a_blocking_get_waits_for_a_put_and_a_bad_burst_is_refused():
    line, got = JobQueue(), []
    reader = threading.Thread(target=lambda: got.append(line.get()))
    reader.start()
    line.put(PRIORITY_NORMAL, "late")
    reader.join(10)
    assert got == ["late"] and line.empty()
    with pytest.raises(ValueError):
        JobQueue(burst=0)


@pytest.fixture
def one_at_a_time(tiny_model_dir):
    """An engine decoding one reply at a time, so the queue alone decides who goes next."""
    engine = LocalEngine(load_model(str(tiny_model_dir)), threads=1, max_batch=1,
                         native_build_dir=TestConfig.NATIVE_BUILD_DIR, priority_burst=2)
    yield engine
    engine.close()


def test_the_worker_starts_members_replies_first_and_a_free_one_within_the_burst(
        one_at_a_time, monkeypatch):
    engine, started, names = one_at_a_time, [], {}
    start, release = engine._start, threading.Event()

    def recorded(job):
        started.append(names.get(job.id, "first"))
        if len(started) == 1:
            release.wait(10)  # the first reply holds the worker until everyone has queued
        return start(job)

    monkeypatch.setattr(engine, "_start", recorded)
    params = GenerationParams(max_new_tokens=2, seed=1)
    jobs = [engine.submit("Hello there", params)]
    while not started:
        threading.Event().wait(0.01)
    for name, priority in (("free", PRIORITY_NORMAL), ("plus-1", PRIORITY_HIGH),
                           ("plus-2", PRIORITY_HIGH), ("plus-3", PRIORITY_HIGH)):
        jobs.append(engine.submit(f"Hello {name}", params, priority=priority))
        names[jobs[-1].id] = name
    release.set()
    for job in jobs:
        assert job.wait(60)
    assert started == ["first", "plus-1", "plus-2", "free", "plus-3"]
