"""Session ids: a user's events belong to one session until they go quiet for longer than the
gap (ANALYTICS_SESSION_GAP_MINUTES, 30 by default); the next event starts a new session.

The last event of each recently seen user is kept in memory; a user not seen by this process yet
(after a restart, say) is looked up in the log, so a session carries across a restart."""
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Callable, Optional

from sqlmodel import Session, select

from analytics.models import AnalyticsEvent


class Sessions:
    def __init__(self, gap: timedelta, capacity: int = 100_000, dataset: str = "live",
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex):
        self.gap, self.dataset, self.new_id = gap, dataset, new_id
        self.capacity = capacity
        self._last: "OrderedDict[int, tuple[str, datetime]]" = OrderedDict()

    def assign(self, session: Session, user_id: Optional[int], at: datetime) -> Optional[str]:
        """The session id of `user_id`'s event at `at` (None for an event of no user)."""
        if user_id is None:
            return None
        last = self._last.pop(user_id, None) or last_event(session, user_id, self.dataset)
        if last is not None and at - last[1] <= self.gap:
            session_id, seen = last[0], max(at, last[1])  # a late arrival does not go back
        else:
            session_id, seen = self.new_id(), at
        self._last[user_id] = (session_id, seen)
        if len(self._last) > self.capacity:
            self._last.popitem(last=False)
        return session_id


def last_event(session: Session, user_id: int,
               dataset: str = "live") -> Optional[tuple[str, datetime]]:
    """(session id, time) of the user's latest logged event in `dataset`, if any."""
    row = session.exec(select(AnalyticsEvent.session_id, AnalyticsEvent.occurred_at)
                       .where(AnalyticsEvent.user_id == user_id,
                              AnalyticsEvent.dataset == dataset)
                       .order_by(AnalyticsEvent.occurred_at.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None and row[0] is not None else None
