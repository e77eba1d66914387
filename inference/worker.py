"""An inference worker: the model resident in a LocalEngine, jobs from Redis (redis_engine.py).

The worker is one consumer of the group "workers" on the jobs streams. It takes a job only
while it runs fewer than `max_batch`, so its engine decodes them together and the rest wait in
Redis for any worker; it reads the high stream before the normal one before the low one, with
the engine's burst rule (after `burst` high jobs in a row, a waiting normal one goes first).

Each job's text goes to its output stream through one Lua script that writes only while the
job's owner key names this worker (a worker that lost its job can never write to it again) and
says whether the job was cancelled. The job's entry is acknowledged (XACK) once its end is
written. A watcher thread beats the heart, polls the cancel keys of the jobs being written,
keeps their pending entries fresh (XCLAIM to itself) and takes over (XAUTOCLAIM) the jobs of
workers silent for `claim_seconds`: such a job continues from the text already in its stream
(the prompt plus that text, the rest of its token budget), numbered on from its last entry;
after `max_claims` takeovers it ends "worker_lost" instead.

stop() (SIGTERM): no new jobs; those running may finish within `grace_seconds`; the others are
handed back (queued again, their entries acknowledged in one transaction) and continued by the
next worker from their text so far."""
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

import redis

from inference.engine import (FINISH_CANCELLED, FINISH_LENGTH, FINISH_WORKER_LOST,
                              GenerationParams, Job)
from inference.redis_engine import GROUP, HEARTBEAT_SECONDS, Keys, _fields
from inference.scheduling import DEFAULT_BURST, PRIORITY_NORMAL

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.05
REDIS_RETRY_SECONDS = 0.5  # between tries to reach a Redis that failed
APPEND = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 1 then return 2 end
return 1
"""
REFRESH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XCLAIM', KEYS[2], ARGV[2], ARGV[1], 0, ARGV[3], 'JUSTID')
return 1
"""
WRITTEN, FENCED, CANCELLED = 1, 0, 2


class _CountingJob(Job):
    """A Job whose chunks carry the tokens generated so far (read on the model thread)."""

    def _emit(self, text: str) -> None:
        self._chunks.put((text, self.tokens_generated))


@dataclass
class _Task:
    stream: str
    entry_id: str
    fields: dict
    key: str
    local: Job | None = None
    seq: int = 0  # the last entry number written to its output stream
    tokens: int = 0  # tokens written before this worker took it (a takeover)
    handed_back: bool = False
    fenced: bool = False  # another worker owns it now
    done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class Worker:
    def __init__(self, engine, redis, name: str, prefix: str = "kindred:inference",
                 max_batch: int = 16, burst: int = DEFAULT_BURST, claim_seconds: float = 5.0,
                 max_claims: int = 2, grace_seconds: float = 20.0, job_ttl: int = 600):
        self.engine, self.redis, self.keys = engine, redis, Keys(prefix)
        self.consumer = f"{name}:{uuid.uuid4().hex[:8]}"
        self.max_batch, self.burst = max_batch, burst
        self.claim_ms = int(claim_seconds * 1000)
        self.max_claims, self.grace_seconds, self.job_ttl = max_claims, grace_seconds, job_ttl
        self.streams = self.keys.all_jobs()
        self.tasks: dict[str, _Task] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._streak = 0
        self._append = redis.register_script(APPEND)
        self._refresh = redis.register_script(REFRESH)
        self._watcher = threading.Thread(target=self._watch, name="worker-watch", daemon=True)

    # The main loop.

    def run(self) -> int:
        """Generate jobs until stop(); then finish or hand back the running ones. Returns 0."""
        self.join_group()
        self._beat()
        self._watcher.start()
        log.info("inference worker %s reading %s", self.consumer, ", ".join(self.streams))
        while not self.stopping.is_set():
            if len(self.tasks) >= self.max_batch:
                self.stopping.wait(WATCH_SECONDS)
                continue
            try:
                for stream, entry_id, fields in self._next_entries():
                    self._take(stream, entry_id, fields, takeover=False)
            except redis.exceptions.RedisError as exc:
                self._wait_for_redis(exc)
        self._drain()
        return 0

    def _wait_for_redis(self, exc: Exception) -> None:
        """Redis went away or restarted: keep the model loaded (reloading it is the slow part of
        a worker's start), wait, and make the consumer group again, which a Redis that restarted
        without its data has lost (NOGROUP)."""
        log.warning("inference worker %s: Redis failed (%s); retrying", self.consumer, exc)
        while not self.stopping.wait(REDIS_RETRY_SECONDS):
            try:
                self.join_group()
                self._beat()
                return
            except redis.exceptions.RedisError:
                continue

    def join_group(self) -> None:
        """Make the consumer group on each jobs stream, unless another worker did."""
        for stream in self.streams:
            try:
                self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except Exception as exc:  # BUSYGROUP: another worker made it
                if "BUSYGROUP" not in str(exc):
                    raise

    def stop(self) -> None:
        self.stopping.set()

    def _next_entries(self) -> list:
        order = self.streams[:]
        if self._streak >= self.burst:
            order[0], order[1] = order[1], order[0]  # a waiting normal job goes next
        for stream in order:
            got = self.redis.xreadgroup(GROUP, self.consumer, {stream: ">"}, count=1)
            if got:
                self._count(stream)
                return [(stream, *entry) for entry in got[0][1]]
            if stream == self.streams[1]:
                self._streak = 0  # no normal job waits
        got = self.redis.xreadgroup(GROUP, self.consumer, {s: ">" for s in self.streams},
                                    count=1, block=500)
        entries = []
        for stream, rows in got or []:
            stream = _text(stream)
            self._count(stream)
            entries += [(stream, *entry) for entry in rows]
        return entries

    def _count(self, stream: str) -> None:
        if stream == self.streams[0]:
            self._streak += 1
        elif stream == self.streams[1]:
            self._streak = 0

    # One job.

    def _take(self, stream: str, entry_id, raw: dict | None, takeover: bool) -> None:
        entry_id = _text(entry_id)
        if raw is None:  # trimmed from the stream before anyone read it
            self.redis.xack(stream, GROUP, entry_id)
            return
        fields = _fields(raw)
        task = _Task(stream, entry_id, fields, fields["key"])
        with self._lock:
            if task.key in self.tasks:
                return  # already ours
            self.tasks[task.key] = task
        try:
            if fields["kind"] == "score":
                threading.Thread(target=self._score, args=(task,), daemon=True).start()
            else:
                self._start(task, lost=takeover)
        except Exception as exc:
            log.exception("could not start inference job %s", task.key)
            self._end(task, "error", error=repr(exc))

    def _start(self, task: _Task, lost: bool) -> None:
        keys, key = self.keys, task.key
        self.redis.set(keys.owner(key), self.consumer, ex=self.job_ttl)
        parts = []
        for _, raw in self.redis.xrange(keys.out(key)):
            entry = _fields(raw)
            if "finish" in entry:  # its worker ended it but died before acknowledging
                return self._forget(task, ack=True)
            parts.append(entry["text"])
            task.seq, task.tokens = int(entry["seq"]), int(entry["tokens"])
        if self.redis.exists(keys.cancel(key)):
            return self._end(task, FINISH_CANCELLED)
        if lost and self.redis.incr(keys.claims(key)) > self.max_claims:
            return self._end(task, FINISH_WORKER_LOST)
        if lost:
            self.redis.expire(keys.claims(key), self.job_ttl)
        params = GenerationParams(**json.loads(task.fields["params"]))
        params.max_new_tokens -= task.tokens
        if params.max_new_tokens <= 0:
            return self._end(task, FINISH_LENGTH)
        prompt = task.fields["prompt"] + "".join(parts)  # what it said so far, then the rest
        ids = self.engine.token_ids(prompt)
        if len(ids) >= self.engine.context_window:
            return self._end(task, FINISH_LENGTH)
        task.local = _CountingJob(ids, params, task.fields.get("cache_key") or None)
        self.engine.enqueue(task.local, int(task.fields.get("priority", PRIORITY_NORMAL)))
        threading.Thread(target=self._bridge, args=(task,), daemon=True,
                         name=f"job-{key[:8]}").start()

    def _bridge(self, task: _Task) -> None:
        """The job's chunks, from the engine to its output stream. Redis gone meanwhile (a
        restart loses the stream, and the web side has ended the job already): the engine's
        job is cancelled and the task forgotten, so no slot stays taken by it."""
        try:
            self._bridge_chunks(task)
        except Exception as exc:
            log.warning("inference job %s: lost its output stream (%s); cancelling it",
                        task.key, exc)
            self.engine.cancel(task.local)
            with self._lock:
                if self.tasks.get(task.key) is task:
                    del self.tasks[task.key]

    def _bridge_chunks(self, task: _Task) -> None:
        local = task.local
        for text, tokens in local:
            if self._write(task, text=text, tokens=task.tokens + tokens) in (CANCELLED, FENCED,
                                                                              None):
                self.engine.cancel(local)  # by the user, or no longer this worker's job
        with task.lock:
            ours = not (task.handed_back or task.fenced)
        if not ours:
            return self._forget(task, ack=False)  # its next worker writes its end
        self._end(task, local.finish_reason, tokens=task.tokens + local.tokens_generated,
                  reused=local.reused_tokens, error=repr(local.error) if local.error else "")

    def _write(self, task: _Task, **fields) -> int | None:
        """Append the next numbered entry; None once the job is no longer this worker's."""
        with task.lock:
            if task.handed_back or task.fenced or task.done:
                return None
            result = self._append(keys=[self.keys.out(task.key), self.keys.owner(task.key),
                                        self.keys.cancel(task.key)],
                                  args=[self.consumer, self.job_ttl, "seq", task.seq + 1,
                                        *[v for item in fields.items() for v in item]])
            if result == FENCED:
                task.fenced = True
                log.warning("inference job %s was taken over by another worker", task.key)
            else:
                task.seq += 1
                if "finish" in fields:
                    task.done = True
            return result

    def _end(self, task: _Task, reason: str, tokens: int | None = None, reused: int = 0,
             error: str = "") -> None:
        written = self._write(task, finish=reason, tokens=task.tokens if tokens is None else tokens,
                              reused=reused, error=error)
        if written is not None and written != FENCED:
            self._forget(task, ack=True)
        else:
            self._forget(task, ack=False)
        if task.local is not None and not task.local.wait(0):
            self.engine.cancel(task.local)

    def _forget(self, task: _Task, ack: bool) -> None:
        if ack:
            self.redis.xack(task.stream, GROUP, task.entry_id)
        with self._lock:
            if self.tasks.get(task.key) is task:
                del self.tasks[task.key]

    def _score(self, task: _Task) -> None:
        fields, ack = task.fields, True
        try:
            if self.redis.exists(self.keys.cancel(task.key)):
                return  # the caller stopped waiting
            deadline = float(fields["deadline"]) if fields.get("deadline") else None
            timeout = None if deadline is None else deadline - time.time()
            if timeout is not None and timeout <= 0:
                return
            try:
                scores = self.engine.score_choices(
                    fields["prompt"], json.loads(fields["choices"]), fields["cache_key"] or None,
                    timeout=timeout, priority=int(fields.get("priority", PRIORITY_NORMAL)))
                answer = {"scores": json.dumps(scores)}
            except TimeoutError:
                return
            except Exception as exc:
                answer = {"error": repr(exc)}
            with task.lock:
                if task.handed_back:
                    ack = False
                    return
                out = self.keys.out(task.key)
                with self.redis.pipeline(transaction=True) as pipe:
                    pipe.xadd(out, {"seq": 1, "finish": "stop", **answer})
                    pipe.expire(out, self.job_ttl)
                    pipe.execute()
                task.done = True
        finally:
            self._forget(task, ack=ack)

    # The watcher thread: heartbeat, cancel flags, pending entries kept fresh, takeovers.

    def _watch(self) -> None:
        beat = refresh = claim = 0.0
        while not self.stopping.is_set() or self.tasks:
            now = time.monotonic()
            try:
                self._poll_cancels()
                if now - beat >= HEARTBEAT_SECONDS:
                    self._beat()
                    beat = now
                if now - refresh >= self.claim_ms / 3000:
                    self._keep_fresh()
                    refresh = now
                if now - claim >= self.claim_ms / 2000 and not self.stopping.is_set():
                    self.reclaim()
                    claim = now
            except Exception:
                log.exception("inference worker %s: watcher round failed", self.consumer)
            time.sleep(WATCH_SECONDS)

    def _beat(self) -> None:
        now = time.time()
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.workers, {self.consumer: now})
            pipe.zremrangebyscore(self.keys.workers, "-inf", now - 3600)  # long gone workers
            pipe.execute()

    def _poll_cancels(self) -> None:
        running = [t for t in list(self.tasks.values()) if t.local is not None]
        if not running:
            return
        flags = self.redis.mget([self.keys.cancel(t.key) for t in running])
        for task, flag in zip(running, flags):
            if flag is not None:
                self.engine.cancel(task.local)

    def _keep_fresh(self) -> None:
        for task in list(self.tasks.values()):
            if task.fields.get("kind") == "score":
                self.redis.xclaim(task.stream, GROUP, self.consumer, 0, [task.entry_id],
                                  justid=True)
            elif task.local is not None and not self._refresh(
                    keys=[self.keys.owner(task.key), task.stream],
                    args=[self.consumer, GROUP, task.entry_id]):
                with task.lock:
                    task.fenced = True
                self.engine.cancel(task.local)
                self._forget(task, ack=False)

    def reclaim(self) -> int:
        """Take over the jobs left pending past `claim_seconds` by a silent worker; how many."""
        taken = 0
        for stream in self.streams:
            room = self.max_batch - len(self.tasks)
            if room <= 0:
                break
            _, entries, *_ = self.redis.xautoclaim(stream, GROUP, self.consumer, self.claim_ms,
                                                   "0-0", count=room)
            for entry_id, raw in entries:
                log.warning("inference worker %s takes over job entry %s", self.consumer,
                            _text(entry_id))
                self._take(stream, entry_id, raw, takeover=True)
                taken += 1
        return taken

    # Stopping.

    def _drain(self) -> None:
        deadline = time.monotonic() + self.grace_seconds
        while self.tasks and time.monotonic() < deadline:
            time.sleep(WATCH_SECONDS)
        for task in list(self.tasks.values()):
            self._hand_back(task)
        self._watcher.join(timeout=5)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(self.keys.workers, self.consumer)
            for stream in self.streams:
                pipe.xgroup_delconsumer(stream, GROUP, self.consumer)
            pipe.execute()

    def _hand_back(self, task: _Task) -> None:
        with task.lock:
            if task.done or task.fenced:
                return
            task.handed_back = True
        if task.local is not None:
            self.engine.cancel(task.local)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.owner(task.key))
            pipe.xadd(task.stream, {**task.fields, "handoff": "1"})
            pipe.xack(task.stream, GROUP, task.entry_id)
            pipe.execute()
        log.info("inference worker %s handed back job %s", self.consumer, task.key)
        self._forget(task, ack=False)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
