"""The events' background jobs, run inside the server by every process, each step once: announce
events that have started, judge contests that have ended, announce their winners. No Flask here.

    EventJobs(db, announcer, lock).run_due(now=None) -> list of what this call did
    EventJobs.run_forever(stop, poll_seconds)

Judging takes the same (job, day) lock as the topic of the day (community.scheduler's database
row or Redis key), `event_judge:<id>` on the event's last day; `events.judging` is itself safe to
run twice, so a lock taken over after a crash pays nothing twice."""
import logging
import threading
from datetime import datetime
from typing import Optional

from sqlmodel import select

from core.db import session_scope, utcnow
from events.announce import Announcer
from events.judging import judge
from events.models import CommunityEvent

log = logging.getLogger(__name__)


class EventJobs:
    def __init__(self, db, announcer: Announcer, lock):
        self.db, self.announcer, self.lock = db, announcer, lock

    def run_due(self, now: Optional[datetime] = None) -> list[str]:
        now = now or utcnow()
        done = []
        with session_scope(self.db) as session:
            to_announce = list(session.exec(select(CommunityEvent.id).where(
                CommunityEvent.announced_at.is_(None), CommunityEvent.starts_at <= now,
                CommunityEvent.ends_at > now)))
            to_judge = list(session.exec(select(CommunityEvent.id, CommunityEvent.ends_at).where(
                CommunityEvent.judged_at.is_(None), CommunityEvent.prizes.is_not(None),
                CommunityEvent.ends_at <= now)))
        for event_id in to_announce:
            if self._step(self.announcer.started, event_id, now):
                done.append(f"announced:{event_id}")
        for event_id, ends_at in to_judge:
            if self._judge(event_id, ends_at, now):
                done.append(f"judged:{event_id}")
        with session_scope(self.db) as session:
            to_tell = list(session.exec(select(CommunityEvent.id).where(
                CommunityEvent.judged_at.is_not(None),
                CommunityEvent.winners_announced_at.is_(None))))
        for event_id in to_tell:
            if self._step(self.announcer.winners, event_id, now):
                done.append(f"winners:{event_id}")
        return done

    def run_forever(self, stop: threading.Event, poll_seconds: float) -> None:
        while not stop.is_set():
            try:
                self.run_due()
            except Exception:  # the database or Redis away for a moment: try again later
                log.exception("the events scheduler could not check its jobs")
            stop.wait(poll_seconds)

    def _judge(self, event_id: int, ends_at: datetime, now: datetime) -> bool:
        job, day = f"event_judge:{event_id}", ends_at.date()
        if not self.lock.acquire(job, day):
            return False
        try:
            with session_scope(self.db) as session:
                judge(session, event_id, now)
        except Exception:
            log.exception("judging event %s failed; it is retried once its lock is stale",
                          event_id)
            return False
        self.lock.finish(job, day)
        return True

    def _step(self, step, event_id: int, now: datetime) -> bool:
        try:
            return step(event_id, now)
        except Exception:
            log.exception("event %s: %s failed; it is retried", event_id, step.__name__)
            return False
