"""The event log's subscription to the domain events of analytics.catalog. Settings, all
optional (defaults in brackets): ANALYTICS_ENABLED [True], ANALYTICS_SESSION_GAP_MINUTES [30],
ANALYTICS_QUEUE_SIZE [10000] events waiting at most, ANALYTICS_BATCH_SIZE [500],
ANALYTICS_FLUSH_SECONDS [1.0] a batch waits for more at most, ANALYTICS_WRITE_ATTEMPTS [5],
ANALYTICS_RETRY_SECONDS [0.5] before the first retry (doubling)."""
from datetime import timedelta
from typing import Optional

from core.events import EventBus
from analytics.catalog import EVENTS, EventSpec
from analytics.writer import EventLog, Spawn


def subscribe(bus: EventBus, db, settings, spawn: Spawn) -> Optional[EventLog]:
    """Log every catalogued event through one EventLog, which is returned (None when off)."""
    if not settings.get("ANALYTICS_ENABLED", True):
        return None
    writer = EventLog(
        db, spawn,
        session_gap=timedelta(minutes=settings.get("ANALYTICS_SESSION_GAP_MINUTES", 30)),
        queue_size=settings.get("ANALYTICS_QUEUE_SIZE", 10_000),
        batch_size=settings.get("ANALYTICS_BATCH_SIZE", 500),
        flush_seconds=settings.get("ANALYTICS_FLUSH_SECONDS", 1.0),
        attempts=settings.get("ANALYTICS_WRITE_ATTEMPTS", 5),
        retry_seconds=settings.get("ANALYTICS_RETRY_SECONDS", 0.5))
    for spec in EVENTS:
        # Inline: it only stamps the time and queues (no database), so the time is the event's.
        bus.subscribe(spec.event_type, _Logger(writer, spec), name=f"analytics.{spec.name}")
    return writer


class _Logger:
    def __init__(self, writer: EventLog, spec: EventSpec):
        self.writer, self.spec = writer, spec

    def __call__(self, event) -> None:
        if type(event) is not self.spec.event_type:
            return  # a subclass has its own line in the catalog, or is not logged
        self.writer.record(self.spec.name, self.spec.user_id(event),
                           self.spec.properties_of(event))
