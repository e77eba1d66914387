"""The community's daily jobs (the topic of the day), run inside the server, once a day however
many processes serve the app. No Flask here.

    DatabaseLock(db, stale_after)         a row per (job, UTC day) in community_daily_run
    RedisLock(client, stale_after)        SET NX with an expiry, when REDIS_URL is set
    Scheduler(lock, jobs, hour, early=None).run_due(now) -> names of the jobs this call ran
    Scheduler.run_forever(stop, poll_seconds)   the server's background loop

A job runs for a day once its hour (UTC) has come, by the one process that takes that day's lock.
A run that finished keeps the lock for good (the row stays; the Redis key lives two days). A run
that died unfinished (a crash, a restart mid-run) leaves a lock that goes stale after
`stale_after`; another process may then take it over and run the day again (the topic run
posts only what is missing). A job that raised is logged and left unfinished, so it is retried
the same way."""
import logging
import os
import socket
import threading
import uuid
from datetime import date, datetime, timedelta
from typing import Callable, Optional, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from community.member_models import CommunityDailyRun
from core.db import utcnow

log = logging.getLogger(__name__)

Job = Callable[[date], object]
REDIS_DONE_SECONDS = 2 * 24 * 3600  # a finished day's key outlives the day


class DailyLock(Protocol):
    owner: str

    def acquire(self, job: str, day: date) -> bool: ...
    def finish(self, job: str, day: date) -> None: ...


def new_owner() -> str:
    """Who holds a lock: host, process and a random part (two schedulers in one process differ)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DatabaseLock:
    """The first process to insert the (job, day) row holds it: the primary key makes the
    second insert fail on SQLite and PostgreSQL alike. An unfinished row older than
    `stale_after` is taken over by one conditional UPDATE, which only one process can win."""

    def __init__(self, db, stale_after: timedelta, owner: Optional[str] = None,
                 clock=utcnow):
        self.db, self.stale_after, self.clock = db, stale_after, clock
        self.owner = owner or new_owner()

    def acquire(self, job: str, day: date) -> bool:
        now = self.clock()
        with Session(self.db) as session:
            session.add(CommunityDailyRun(job=job, day=day, owner=self.owner, started_at=now))
            try:
                session.commit()
                return True
            except sa.exc.IntegrityError:
                session.rollback()
            taken = session.execute(
                sa.update(CommunityDailyRun)
                .where(CommunityDailyRun.job == job, CommunityDailyRun.day == day,
                       CommunityDailyRun.finished_at.is_(None),
                       CommunityDailyRun.started_at < now - self.stale_after)
                .values(owner=self.owner, started_at=now))
            session.commit()
            return taken.rowcount == 1

    def finish(self, job: str, day: date) -> None:
        with Session(self.db) as session:
            session.execute(sa.update(CommunityDailyRun)
                            .where(CommunityDailyRun.job == job, CommunityDailyRun.day == day,
                                   CommunityDailyRun.owner == self.owner)
                            .values(finished_at=self.clock()))
            session.commit()


class RedisLock:
    """`SET key owner NX EX stale_after` takes the day; a finished run re-sets the key as done
    for two days. An unfinished run's key expires after `stale_after`, and the day can be
    taken again."""

    def __init__(self, client, stale_after: timedelta, owner: Optional[str] = None,
                 prefix: str = "kindred:community:daily"):
        self.client, self.stale_after, self.prefix = client, stale_after, prefix
        self.owner = owner or new_owner()

    def acquire(self, job: str, day: date) -> bool:
        seconds = max(int(self.stale_after.total_seconds()), 1)
        return bool(self.client.set(self._key(job, day), self.owner, nx=True, ex=seconds))

    def finish(self, job: str, day: date) -> None:
        key = self._key(job, day)
        held = self.client.get(key)
        if held is not None and (held.decode() if isinstance(held, bytes) else held) == self.owner:
            self.client.set(key, f"done:{self.owner}", ex=REDIS_DONE_SECONDS)

    def _key(self, job: str, day: date) -> str:
        return f"{self.prefix}:{job}:{day.isoformat()}"


class Scheduler:
    """`early()`, if given, lets the day's jobs run before their hour (a fresh install's feed
    gets its first topic at once instead of waiting for the next morning)."""

    def __init__(self, lock: DailyLock, jobs: dict[str, Job], hour: int = 0, clock=utcnow,
                 early: Optional[Callable[[], bool]] = None):
        self.lock, self.jobs, self.hour, self.clock, self.early = lock, jobs, hour, clock, early

    def run_due(self, now: Optional[datetime] = None) -> list[str]:
        """Run each job whose hour has come today and whose lock this process takes."""
        now = now or self.clock()
        if now.hour < self.hour and not (self.early is not None and self.early()):
            return []
        ran = []
        for name, job in self.jobs.items():
            if not self.lock.acquire(name, now.date()):
                continue
            try:
                job(now.date())
            except Exception:
                log.exception("daily job %s failed for %s; it is retried once its lock is stale",
                              name, now.date())
                continue
            self.lock.finish(name, now.date())
            ran.append(name)
        return ran

    def run_forever(self, stop: threading.Event, poll_seconds: float) -> None:
        while not stop.is_set():
            try:
                self.run_due()
            except Exception:  # the database or Redis away for a moment: try again later
                log.exception("the community scheduler could not check its jobs")
            stop.wait(poll_seconds)
