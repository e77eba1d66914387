"""A second implementation of the engine interface: jobs go through Redis to inference workers
(inference/worker.py, `flask --app app.cli worker`), which keep the model resident.

The web process keeps only the tokenizer (count_tokens, render_chat, the context window). A job
is one entry of a jobs stream, one stream per priority, read by the workers' consumer group;
its text comes back on the job's own stream, entries numbered 1, 2, 3... and a last one with
`finish`. A reader thread turns that stream into the same iterator as LocalEngine's Job.

Keys, under `prefix` (INFERENCE_REDIS_PREFIX):
    {prefix}:jobs:high | :jobs:normal | :jobs:low   jobs streams, consumer group "workers"
    {prefix}:job:{key}:out      the job's output stream (seq, text, tokens | finish)
    {prefix}:job:{key}:cancel   set by cancel(); the worker stops within a token or two
    {prefix}:job:{key}:owner    the worker consumer writing the job (a fence: no one else may)
    {prefix}:job:{key}:claims   how many times the job was taken over after a worker loss
    {prefix}:workers            sorted set: worker consumer -> last heartbeat (unix time)
Every per-job key expires `job_ttl` seconds after its last write; jobs streams are capped at
`stream_maxlen` entries (approximately)."""
import json
import logging
import threading
import time
import uuid
from dataclasses import asdict

import redis

from inference.engine import (FINISH_CANCELLED, FINISH_ERROR, FINISH_NO_WORKER,
                              FINISH_WORKER_LOST, PREFILL_CHUNK, GenerationParams, Job)
from inference.scheduling import PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_NORMAL
from inference.text import TokenizerText

log = logging.getLogger(__name__)

GROUP = "workers"
LEVELS = {PRIORITY_HIGH: "high", PRIORITY_NORMAL: "normal", PRIORITY_LOW: "low"}
HEARTBEAT_SECONDS = 1.0
READ_BLOCK_MS = 500


class Keys:
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.workers = f"{prefix}:workers"

    def jobs(self, priority: int) -> str:
        return f"{self.prefix}:jobs:{LEVELS[_level(priority)]}"

    def all_jobs(self) -> list[str]:  # highest priority first
        return [self.jobs(p) for p in (PRIORITY_HIGH, PRIORITY_NORMAL, PRIORITY_LOW)]

    def out(self, key: str) -> str:
        return f"{self.prefix}:job:{key}:out"

    def cancel(self, key: str) -> str:
        return f"{self.prefix}:job:{key}:cancel"

    def owner(self, key: str) -> str:
        return f"{self.prefix}:job:{key}:owner"

    def claims(self, key: str) -> str:
        return f"{self.prefix}:job:{key}:claims"


def live_workers(redis, keys: Keys, within: float) -> int:
    """Workers whose heartbeat is at most `within` seconds old."""
    return redis.zcount(keys.workers, time.time() - within, "+inf")


def _level(priority: int) -> int:
    return min(max(priority, PRIORITY_HIGH), PRIORITY_LOW)


class RedisJob(Job):
    """A Job whose chunks come from its output stream; `key` names it in Redis."""

    def __init__(self, prompt_ids, params, cache_key=None):
        super().__init__(prompt_ids, params, cache_key)
        self.key = uuid.uuid4().hex
        self.tokens_at_cancel: int | None = None  # tokens in its stream when cancel() was called


class RedisEngine(TokenizerText):
    """The engine interface over Redis. `redis` is a redis.Redis client (decode_responses off
    or on; both work); `loaded` has `tokenizer` and `context_window` (loader.load_tokenizer)."""

    def __init__(self, loaded, redis, prefix: str = "kindred:inference", job_ttl: int = 600,
                 stream_maxlen: int = 10000, no_worker_seconds: float = 15.0):
        self.loaded, self.tokenizer, self.redis = loaded, loaded.tokenizer, redis
        self.keys = Keys(prefix)
        self.job_ttl, self.stream_maxlen = job_ttl, stream_maxlen
        self.no_worker_seconds = no_worker_seconds

    @property
    def context_window(self) -> int:
        return self.loaded.context_window

    def submit(self, prompt: str, params: GenerationParams, cache_key: str | None = None,
               priority: int = PRIORITY_NORMAL) -> RedisJob:
        """Queue a generation for the workers; iterate the job for its text. Raises ValueError
        for a prompt the model cannot take (as LocalEngine's job would end in error)."""
        ids = self.token_ids(prompt)
        if not 0 < len(ids) < self.context_window:
            raise ValueError(f"The prompt has {len(ids)} tokens; it must have between 1 and "
                             f"{self.context_window - 1} (the model's context window is "
                             f"{self.context_window}).")
        job = RedisJob(ids, params, cache_key)
        self._queue(job.key, priority, kind="generate", prompt=prompt,
                    params=json.dumps(asdict(params)), cache_key=cache_key or "")
        threading.Thread(target=self._read, args=(job,), daemon=True,
                         name=f"redis-job-{job.id}").start()
        return job

    def cancel(self, job: RedisJob) -> None:
        job._cancelled.set()
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.cancel(job.key), 1, ex=self.job_ttl)
            pipe.xrevrange(self.keys.out(job.key), count=1)
            _, last = pipe.execute()
        job.tokens_at_cancel = int(_fields(last[0][1]).get("tokens", 0)) if last else 0

    def score_choices(self, prompt: str, choices: list[str], cache_key: str | None = None,
                      timeout: float | None = None,
                      priority: int = PRIORITY_NORMAL) -> list[float]:
        """As LocalEngine's, answered by a worker. Raises TimeoutError after `timeout` seconds
        without an answer (the workers are busy, or none is running)."""
        ids = self.token_ids(prompt)
        firsts = [self.token_ids(c)[:1] for c in choices]
        if not 0 < len(ids) <= PREFILL_CHUNK or not all(firsts):
            raise ValueError(f"Scoring takes a prompt of 1 to {PREFILL_CHUNK} tokens (this one has "
                             f"{len(ids)}) and non-empty choices.")
        key = uuid.uuid4().hex
        deadline = None if timeout is None else time.time() + timeout
        self._queue(key, priority, kind="score", prompt=prompt, choices=json.dumps(choices),
                    cache_key=cache_key or "", deadline="" if deadline is None else deadline)
        out, quiet_since = self.keys.out(key), time.monotonic()
        while True:
            block = READ_BLOCK_MS if deadline is None else \
                max(1, min(READ_BLOCK_MS, int((deadline - time.time()) * 1000)))
            answer = self.redis.xread({out: "0"}, count=1, block=block)
            if answer:
                fields = _fields(answer[0][1][0][1])
                self.redis.delete(out)
                if fields.get("error"):
                    raise RuntimeError(f"the inference worker failed to score: {fields['error']}")
                return json.loads(fields["scores"])
            if deadline is not None and time.time() >= deadline:
                self.redis.set(self.keys.cancel(key), 1, ex=self.job_ttl)
                raise TimeoutError(f"no inference worker scored within {timeout} s")
            if live_workers(self.redis, self.keys, self.no_worker_seconds):
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= self.no_worker_seconds:
                self.redis.set(self.keys.cancel(key), 1, ex=self.job_ttl)
                raise TimeoutError("no inference worker is running")

    def close(self) -> None:
        """Nothing to stop here: the jobs belong to the workers."""

    def _queue(self, key: str, priority: int, **fields) -> None:
        self.redis.xadd(self.keys.jobs(priority), {"key": key, "priority": _level(priority),
                                                   **fields},
                        maxlen=self.stream_maxlen, approximate=True)

    def _read(self, job: RedisJob) -> None:
        """The reader thread: the job's stream, in order, each numbered entry once."""
        out, last_id, seq = self.keys.out(job.key), "0", 0
        quiet_since = time.monotonic()  # since when no worker was alive and nothing came
        try:
            while True:
                answer = self.redis.xread({out: last_id}, count=100, block=READ_BLOCK_MS)
                for entry_id, raw in (answer[0][1] if answer else []):
                    last_id, fields = entry_id, _fields(raw)
                    number = int(fields["seq"])
                    if number <= seq:
                        continue  # written again by a worker taking over: already handed out
                    seq = number
                    job.tokens_generated = int(fields.get("tokens", job.tokens_generated))
                    if "finish" in fields:
                        job.reused_tokens = int(fields.get("reused", 0))
                        error = fields.get("error")
                        self.redis.expire(out, 60)  # read: gone soon, whatever happens next
                        return job._finish(fields["finish"],
                                           RuntimeError(error) if error else None)
                    job._emit(fields["text"])
                if answer or live_workers(self.redis, self.keys, self.no_worker_seconds):
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= self.no_worker_seconds:
                    # no worker to take it: make sure none started later runs it after all
                    self.redis.set(self.keys.cancel(job.key), 1, ex=self.job_ttl)
                    return job._finish(FINISH_NO_WORKER)
        except redis.exceptions.RedisError as exc:
            # Redis gone (a restart loses the job and its stream): like a lost worker, the
            # reply keeps what came and is `interrupted`, not a model failure.
            log.warning("lost the stream of inference job %s: %s", job.key, exc)
            if job.finish_reason is None:
                job._finish(FINISH_CANCELLED if job.cancelled else FINISH_WORKER_LOST, exc)
        except Exception as exc:  # anything else: the job ends as a failed one would
            log.exception("lost the stream of inference job %s", job.key)
            if job.finish_reason is None:
                job._finish(FINISH_CANCELLED if job.cancelled else FINISH_ERROR, exc)


def _fields(raw: dict) -> dict:
    return {_text(k): _text(v) for k, v in raw.items()}


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
