"""The writer of the event log: off the producer's path, batched, retried.

`EventLog.record` runs in the producer's thread after its commit: it stamps the time and puts the
event on a bounded in-process queue, never touching the database, never blocking (a full queue
drops the event and counts it). One background task per app, started on demand with the app's
task runner, drains the queue in batches (up to `batch_size`, or what arrived within
`flush_seconds`), assigns session ids and inserts the batch in one transaction, together with
its (user, UTC day) rows of the daily rollup analytics_user_day (insert-or-ignore). A failed
batch is retried `attempts` times in all, waiting `retry_seconds` and doubling; then it is
dropped, logged and counted. The task ends after `idle_seconds` with nothing to write and
starts again on the next event. When the app's engine is disposed (shutdown, the end of a
test), what is queued is written first."""
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Optional

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from core.db import session_scope, utcnow
from analytics.models import AnalyticsEvent, insert_user_days, user_days
from analytics.sessions import Sessions

log = logging.getLogger(__name__)

Spawn = Callable[[Callable[[], None]], Any]


@dataclass(frozen=True)
class Pending:
    name: str
    user_id: Optional[int]
    occurred_at: datetime
    properties: dict


@dataclass
class Stats:
    written: int = 0
    dropped: int = 0  # the queue was full
    lost: int = 0  # every attempt to write them failed
    retries: int = 0
    failures: list = field(default_factory=list)  # the last few errors, newest last


class EventLog:
    def __init__(self, db, spawn: Spawn, *, clock: Callable[[], datetime] = utcnow,
                 session_gap: timedelta = timedelta(minutes=30), queue_size: int = 10_000,
                 batch_size: int = 500, flush_seconds: float = 1.0, attempts: int = 5,
                 retry_seconds: float = 0.5, idle_seconds: float = 30.0, dataset: str = "live",
                 sessions: Optional[Sessions] = None):
        self.db, self.spawn, self.clock, self.dataset = db, spawn, clock, dataset
        self.sessions = sessions or Sessions(session_gap, dataset=dataset)
        self.batch_size, self.flush_seconds = batch_size, flush_seconds
        self.attempts, self.retry_seconds, self.idle_seconds = attempts, retry_seconds, idle_seconds
        self.stats = Stats()
        self._queue: "queue.Queue[Pending]" = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._running = False
        self._flush_now = threading.Event()
        self._assigned: Optional[list] = None  # the session ids of the batch being written
        sa_event.listen(db, "engine_disposed", self._on_dispose)

    def record(self, name: str, user_id: Optional[int], properties: dict) -> None:
        """Queue one event, stamped now. Never raises for a full queue, never blocks."""
        try:
            self._queue.put_nowait(Pending(name, user_id, self.clock(), properties))
        except queue.Full:
            self.stats.dropped += 1
            if self.stats.dropped % 1000 == 1:
                log.warning("analytics queue full: %d events dropped so far", self.stats.dropped)
            return
        self._ensure_running()

    def flush(self, timeout: float = 10.0) -> bool:
        """Write what is queued now, and wait until it is written or given up (tests, shutdown).
        False if that took longer than `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                self._flush_now.set()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(min(remaining, 0.05))
        return True

    def write(self, batch: list[Pending]) -> None:
        """Insert one batch, and its rows of the daily rollup (insert-or-ignore), in one
        transaction (the step that is retried)."""
        with session_scope(self.db) as session:
            session_ids = self._session_ids(session, batch)
            rows = [{"user_id": event.user_id, "name": event.name,
                     "occurred_at": event.occurred_at, "session_id": session_id,
                     "properties": event.properties, "dataset": self.dataset}
                    for event, session_id in zip(batch, session_ids)]
            session.execute(sa.insert(AnalyticsEvent.__table__), rows)  # one executemany
            insert_user_days(session, user_days(rows))
            session.commit()

    def write_now(self, batch: list[Pending]) -> None:
        """Write `batch` in this thread, with the sessions and retries of the background task
        (the simulation writes its population this way, in time order)."""
        self._write_with_retries(batch)

    def _on_dispose(self, _engine) -> None:
        if not self.flush(timeout=5.0):
            log.warning("analytics: %d events still queued at shutdown", self._queue.qsize())

    def _ensure_running(self) -> None:
        with self._lock:
            if self._running:
                return
            self._running = True
        self.spawn(self._run)

    def _run(self) -> None:
        while True:
            batch = self._gather()
            if not batch:
                with self._lock:
                    if self._queue.empty():
                        self._running = False
                        return
                continue
            try:
                self._write_with_retries(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _gather(self) -> list[Pending]:
        try:
            batch = [self._queue.get(timeout=self.idle_seconds)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.flush_seconds
        while len(batch) < self.batch_size:
            if self._flush_now.is_set():
                batch.extend(self._take_waiting(self.batch_size - len(batch)))
                if self._queue.empty():
                    self._flush_now.clear()
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=min(remaining, 0.05)))
            except queue.Empty:
                continue
        return batch

    def _take_waiting(self, limit: int) -> list[Pending]:
        taken = []
        while len(taken) < limit:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return taken

    def _write_with_retries(self, batch: list[Pending]) -> None:
        batch.sort(key=lambda event: event.occurred_at)  # sessions are assigned in time order
        self._assigned = None
        delay = self.retry_seconds
        for attempt in range(1, self.attempts + 1):
            try:
                self.write(batch)
                self.stats.written += len(batch)
                return
            except Exception as exc:  # the log's failure is its own, never the producer's
                self.stats.failures = (self.stats.failures + [repr(exc)])[-5:]
                if attempt == self.attempts:
                    self.stats.lost += len(batch)
                    log.exception("analytics: %d events lost after %d attempts", len(batch),
                                  attempt)
                    return
                self.stats.retries += 1
                log.warning("analytics: writing %d events failed (attempt %d of %d), retrying",
                            len(batch), attempt, self.attempts, exc_info=True)
                time.sleep(delay)
                delay *= 2

    def _session_ids(self, session, batch: list[Pending]) -> list:
        """Assigned once per batch, so a retry writes the same session ids."""
        if self._assigned is None:
            self._assigned = [self.sessions.assign(session, event.user_id, event.occurred_at)
                              for event in batch]
        return self._assigned
