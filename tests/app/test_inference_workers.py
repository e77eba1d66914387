"""INFERENCE=redis: inference worker processes (`flask --app app.cli worker`) generate what the
web side's RedisEngine queues in Redis (real Redis, the tiny model, a key prefix per module).
Worker processes are shared: one for the module, and three more for the loss tests."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from app import InferenceSettingsError, create_app
from config import TestConfig
from inference import GenerationParams, LocalEngine, load_model
from inference.loader import load_tokenizer
from inference.redis_engine import Keys, RedisEngine
from inference.scheduling import PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_NORMAL
from inference.worker import Worker
from tests.support import require
from tests.support.events import collect_until, payloads

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("KINDRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
GREEDY = GenerationParams(max_new_tokens=20, temperature=0, repetition_penalty=1.0)
START_SECONDS = 240  # a worker loads torch, the app's modules and the model (15-30 s when busy)


@pytest.fixture(scope="module")
def client_redis():
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        require(False, f"Redis is not reachable at {REDIS_URL}: {exc}")
    return client


def _new_prefix(client_redis) -> str:
    return f"test:workers:{uuid.uuid4().hex[:10]}"


def _forget(client_redis, prefix: str) -> None:
    keys = list(client_redis.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client_redis.delete(*keys)


class WorkerProcess:
    def __init__(self, name, prefix, model_dir, log_dir, **settings):
        env = {**os.environ, "REDIS_URL": REDIS_URL, "MODEL_PATH": str(model_dir),
               "INFERENCE_REDIS_PREFIX": prefix, "TORCH_THREADS": "1",
               "NATIVE_BUILD_DIR": str(TestConfig.NATIVE_BUILD_DIR),
               "KINDRED_INSTANCE_DIR": str(log_dir / "instance"), "HF_HUB_OFFLINE": "1",
               **{key: str(value) for key, value in settings.items()}}
        self.log = open(log_dir / f"{name}.log", "w")
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app.cli", "worker", "--name", name],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def consumer(self, client_redis, prefix) -> str | None:
        return next((c for c in client_redis.zrange(Keys(prefix).workers, 0, -1)
                     if c.startswith(f"{self.name}:")), None)

    def wait_ready(self, client_redis, prefix) -> None:
        deadline = time.monotonic() + START_SECONDS
        while self.consumer(client_redis, prefix) is None:
            assert self.process.poll() is None, (ROOT / self.log.name).read_text()
            assert time.monotonic() < deadline, f"worker {self.name} did not start"
            time.sleep(0.2)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait(30)
        self.log.close()
        return code


@pytest.fixture(scope="module")
def prefix(client_redis):
    name = _new_prefix(client_redis)
    yield name
    _forget(client_redis, name)


@pytest.fixture(scope="module")
def worker(client_redis, prefix, tiny_model_dir, tmp_path_factory):
    """One worker batching up to two jobs."""
    process = WorkerProcess("worker-1", prefix, tiny_model_dir, tmp_path_factory.mktemp("w"),
                            INFERENCE_MAX_BATCH=2)
    process.wait_ready(client_redis, prefix)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def remote(worker, client_redis, prefix, tiny_model_dir):
    return RedisEngine(load_tokenizer(str(tiny_model_dir)), client_redis, prefix=prefix)


@pytest.fixture(scope="module")
def local(tiny_model_dir):
    """The in-process engine with the worker's settings."""
    engine = LocalEngine(load_model(str(tiny_model_dir)), threads=1,
                         native_build_dir=TestConfig.NATIVE_BUILD_DIR)
    yield engine
    engine.close()


def _first_entry(client_redis, prefix, job) -> str:
    return client_redis.xrange(Keys(prefix).out(job.key), count=1)[0][0]


def _entry_id(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def test_replies_from_a_worker_equal_the_local_engines_and_two_are_decoded_together(
        remote, local, client_redis, prefix):
    prompts = [local.render_chat([{"role": "user", "content": text}])
               for text in ("Tell me about the sea.", "What is the capital of France?")]
    alone = ["".join(local.submit(p, GREEDY)) for p in prompts]
    jobs = [remote.submit(p, GREEDY) for p in prompts]
    assert ["".join(job) for job in jobs] == alone
    assert [job.finish_reason for job in jobs] == ["length", "length"]
    assert [job.tokens_generated for job in jobs] == [20, 20]
    assert remote.count_tokens(prompts[0]) == local.count_tokens(prompts[0])
    assert remote.context_window == local.context_window
    # decoded together: each job's first entry was written before the other's last one
    out = [client_redis.xrange(Keys(prefix).out(job.key)) for job in jobs]
    assert _entry_id(out[0][0][0]) < _entry_id(out[1][-1][0])
    assert _entry_id(out[1][0][0]) < _entry_id(out[0][-1][0])


def test_scoring_through_a_worker_equals_the_local_engines(remote, local):
    prompt = "Is the sea wet? Answer:"
    assert remote.score_choices(prompt, [" yes", " no"], timeout=60) == pytest.approx(
        local.score_choices(prompt, [" yes", " no"], timeout=60), abs=1e-4)
    with pytest.raises(ValueError):
        remote.score_choices("", ["yes"])


def test_a_worker_outlives_redis_losing_its_jobs_and_answers_the_next_one(
        remote, local, worker, client_redis, prefix):
    """A Redis restarted without its data has no jobs streams and no consumer group: reading
    them fails (NOGROUP). The worker keeps its model, makes the group again and takes the next
    job; before, it exited and had to load the model again (a restart by its supervisor)."""
    client_redis.delete(*Keys(prefix).all_jobs())
    prompt = local.render_chat([{"role": "user", "content": "Are you still there?"}])
    job = remote.submit(prompt, GREEDY)
    assert "".join(job) == "".join(local.submit(prompt, GREEDY))
    assert job.finish_reason == "length"
    assert worker.process.poll() is None
    assert "Redis failed" in (ROOT / worker.log.name).read_text()


def test_cancel_reaches_the_worker_within_a_few_tokens(remote):
    job = remote.submit("Go on", GenerationParams(max_new_tokens=3000, seed=3))
    chunks = iter(job)
    next(chunks)
    remote.cancel(job)
    list(chunks)
    assert job.finish_reason == "cancelled"
    # A token or two on a quiet machine; 6 in a full `make test` on 2 cores, where the worker's
    # decode steps and the cancel race for the CPU. Without the check it runs on to 3000.
    assert job.tokens_generated <= job.tokens_at_cancel + 16


def test_members_jobs_start_first_and_a_free_one_within_the_burst(remote, client_redis, prefix):
    long = GenerationParams(max_new_tokens=3000, seed=1)
    blockers = [remote.submit(f"Busy {n}", long) for n in (1, 2)]
    for job in blockers:  # the worker's two places are taken
        next(iter(job))
    params = GenerationParams(max_new_tokens=3, seed=1)
    queued = {"free": remote.submit("Hello free", params, priority=PRIORITY_NORMAL)}
    for n in range(1, 5):
        queued[f"plus-{n}"] = remote.submit(f"Hello plus {n}", params, priority=PRIORITY_HIGH)
    queued["judge"] = remote.submit("Hello judge", params, priority=PRIORITY_LOW)
    remote.cancel(blockers[0])  # one place: the queued jobs go one at a time
    for job in queued.values():
        assert job.wait(60)
    remote.cancel(blockers[1])
    started = sorted(queued, key=lambda name: _entry_id(
        _first_entry(client_redis, prefix, queued[name])))
    assert started == ["plus-1", "plus-2", "plus-3", "free", "plus-4", "judge"]
    assert blockers[1].wait(60)


# Losing workers: a prefix and workers of their own, claims after one second.

@pytest.fixture(scope="module")
def loss(client_redis, tiny_model_dir, tmp_path_factory):
    name = _new_prefix(client_redis)
    logs = tmp_path_factory.mktemp("loss")
    settings = {"INFERENCE_CLAIM_SECONDS": 1, "INFERENCE_WORKER_GRACE_SECONDS": 0,
                "INFERENCE_MAX_BATCH": 4}
    started = []
    engine = RedisEngine(load_tokenizer(str(tiny_model_dir)), client_redis, prefix=name,
                         no_worker_seconds=180)

    def start(worker_name):
        started.append(WorkerProcess(worker_name, name, tiny_model_dir, logs, **settings))
        return started[-1]
    yield name, engine, start
    for process in started:
        process.stop()
    _forget(client_redis, name)


def _numbers(client_redis, prefix, job) -> list[int]:
    return [int(fields["seq"]) for _, fields in client_redis.xrange(Keys(prefix).out(job.key))]


def test_a_killed_workers_job_is_continued_by_another_and_sigterm_hands_jobs_back(
        loss, client_redis, local):
    name, engine, start = loss
    first = start("doomed")
    first.wait_ready(client_redis, name)
    prompt = local.render_chat([{"role": "user", "content": "Tell me a long story."}])
    job = engine.submit(prompt, GenerationParams(max_new_tokens=300, temperature=0,
                                                 repetition_penalty=1.0))
    chunks = iter(job)
    before = [next(chunks) for _ in range(5)]
    first.process.kill()  # kill -9, mid-reply
    first.process.wait(30)
    second, third = start("second"), start("third")
    rest = list(chunks)
    assert job.finish_reason == "length" and job.tokens_generated == 300
    numbers = _numbers(client_redis, name, job)
    assert numbers == list(range(1, len(numbers) + 1))  # no entry twice, none missing
    assert len(before) + len(rest) == len(numbers) - 1  # every chunk once, then the end
    assert "".join(before + rest).startswith("".join(before)) and len("".join(rest)) > 0

    # SIGTERM mid-reply, with no grace: the job is handed back and the other worker ends it
    for process in (second, third):
        process.wait_ready(client_redis, name)
    jobs = [engine.submit(prompt, GenerationParams(max_new_tokens=300, seed=n))
            for n in range(2)]
    for each in jobs:
        next(iter(each))
    owner = client_redis.get(Keys(name).owner(jobs[0].key))
    stopping = second if owner.startswith("second:") else third
    stopping.process.send_signal(signal.SIGTERM)
    assert stopping.process.wait(60) == 0
    texts = ["".join(each) for each in jobs]
    assert [each.finish_reason for each in jobs] == ["length", "length"]
    assert [each.tokens_generated for each in jobs] == [300, 300] and all(texts)
    for each in jobs:
        numbers = _numbers(client_redis, name, each)
        assert numbers == list(range(1, len(numbers) + 1))


# The chat over Socket.IO with INFERENCE=redis: the app builds its RedisEngine from settings.

@pytest.fixture
def inference():
    """No shared engine: create_app builds one from INFERENCE=redis."""
    return None


@pytest.fixture
def inference_prefix(request, client_redis):
    """The module worker's prefix, or ("lost", "none") one of the test's own, no worker on it."""
    if not hasattr(request, "param"):
        yield request.getfixturevalue("prefix")
        return
    name = f"{_new_prefix(client_redis)}:{request.param}"
    yield name
    _forget(client_redis, name)


@pytest.fixture
def app_config(app_config, inference_prefix, tiny_model_dir, client_redis):
    return type("RedisInferenceConfig", (app_config,), {
        # the engine's Redis only: Flask-SocketIO's test client takes no message queue
        "INFERENCE": "redis", "INFERENCE_REDIS_URL": REDIS_URL, "MODEL_PATH": str(tiny_model_dir),
        "INFERENCE_REDIS_PREFIX": inference_prefix,
        "INFERENCE_NO_WORKER_SECONDS": 1 if inference_prefix.endswith(":none") else 60})


def test_a_chat_reply_is_generated_by_a_worker(worker, socket_client, auth, app):
    assert isinstance(app.extensions["kindred.inference"], RedisEngine)
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hello!"})
    events = collect_until(socket_client)
    tokens, done = payloads(events, "chat:token"), payloads(events, "chat:done")[0]
    assert tokens and done["finish_reason"] == "length" and done["message"]["status"] == "complete"
    assert done["message"]["content"] == "".join(t["text"] for t in tokens).strip()


@pytest.mark.parametrize("inference_prefix", ["lost"], indirect=True)
def test_a_reply_whose_worker_is_lost_is_stored_interrupted(socket_client, auth, app,
                                                            client_redis, inference_prefix):
    """A worker takes the job, writes a little and goes silent; the one taking it over may not
    continue it (INFERENCE_MAX_CLAIMS=0): the reply keeps its text, `interrupted`."""
    keys = Keys(inference_prefix)
    reaper = Worker(None, client_redis, "reaper", prefix=inference_prefix, claim_seconds=0,
                    max_claims=0)
    reaper.join_group()
    reaper._beat()
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hi"})
    collect_until(socket_client, names=("chat:message",))
    deadline, taken = time.monotonic() + 30, None
    while not taken and time.monotonic() < deadline:  # the vanishing worker takes it
        taken = client_redis.xreadgroup("workers", "ghost", {keys.jobs(PRIORITY_NORMAL): ">"},
                                        count=1, block=200)
    key = taken[0][1][0][1]["key"]
    client_redis.set(keys.owner(key), "ghost")
    client_redis.xadd(keys.out(key), {"seq": 1, "text": "Half a reply", "tokens": 3})
    assert reaper.reclaim() == 1
    events = collect_until(socket_client, names=("chat:done",))
    error = payloads(events, "chat:error")[0]
    assert error["code"] == "worker_lost" and error["conversation_id"] == conversation["id"]
    done = payloads(events, "chat:done")[0]
    assert done["message"]["status"] == "interrupted"
    assert done["message"]["content"] == "Half a reply"


@pytest.mark.parametrize("inference_prefix", ["none"], indirect=True)
def test_without_any_worker_the_reply_ends_with_no_worker(socket_client, auth, client_redis,
                                                           inference_prefix):
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hi"})
    error = payloads(collect_until(socket_client, names=("chat:error",)), "chat:error")[0]
    assert error["code"] == "no_worker" and error["conversation_id"] == conversation["id"]
    stored = auth.call("GET", f"/api/conversations/{conversation['id']}").get_json()
    assert [m["role"] for m in stored["conversation"]["messages"]][-1] == "user"


def test_inference_redis_without_redis_url_stops_start_up(app_config):
    config = type("NoRedis", (app_config,), {"REDIS_URL": None, "INFERENCE_REDIS_URL": None})
    with pytest.raises(InferenceSettingsError, match="INFERENCE=redis needs REDIS_URL"):
        create_app(config)
    with pytest.raises(InferenceSettingsError, match="not a choice"):
        create_app(type("Unknown", (app_config,), {"INFERENCE": "carrier-pigeon"}))
