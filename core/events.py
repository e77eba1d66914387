"""Domain events: one domain reacts to another without importing it.

A producer records a typed event on the database session that makes the change:

    events.record(session, ReplyFinished(...))

The event waits on the session and is delivered only after that session's transaction commits
and its connection is back in the pool, so no subscriber runs while the producer holds a
connection, and a rolled-back change announces nothing. Events with no transaction behind them
go straight out with `bus.publish(event)`.

Subscribers are registered on the app's EventBus when the app is built, with their settings
passed in, each marked inline (runs in the producer's thread, in order) or background (handed to
the app's task runner). A failing subscriber is logged; it never undoes the producer's write nor
stops the other subscribers. The event types themselves live in `core.event_types`, so that a
lower domain can subscribe to a higher one's events.
"""
import logging
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Optional

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]
Spawn = Callable[[Callable[[], None]], None]

_PENDING = "kindred.events.pending"
_COMMITTED = "kindred.events.committed"
# Each app binds its own bus to its own database engine; weak keys, so a disposed app's engine
# takes its bus with it.
_BUSES: "weakref.WeakKeyDictionary[Any, EventBus]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Subscription:
    event_type: type
    handler: Handler
    background: bool
    name: str


class EventBus:
    def __init__(self, spawn: Optional[Spawn] = None):
        self._spawn = spawn or _run_now
        self._subscriptions: list[Subscription] = []

    def subscribe(self, event_type: type, handler: Handler, *, background: bool = False,
                  name: Optional[str] = None) -> Subscription:
        subscription = Subscription(event_type, handler, background,
                                    name or getattr(handler, "__qualname__", repr(handler)))
        self._subscriptions.append(subscription)
        return subscription

    def subscriptions(self, event_type: Optional[type] = None) -> list[Subscription]:
        return [s for s in self._subscriptions
                if event_type is None or issubclass(event_type, s.event_type)]

    def publish(self, event: Any) -> None:
        """Deliver `event` now: inline subscribers in order, background ones to the runner."""
        for subscription in self.subscriptions(type(event)):
            if subscription.background:
                self._spawn(lambda s=subscription: _call(s, event))
            else:
                _call(subscription, event)


def bind(engine, bus: EventBus) -> None:
    """Events recorded on sessions of `engine` go to `bus`."""
    _BUSES[engine] = bus


def bus_for(engine) -> Optional[EventBus]:
    return _BUSES.get(engine)


def record(session: Session, event: Any) -> None:
    """Deliver `event` once the session's current transaction has committed."""
    session.info.setdefault(_PENDING, []).append(event)


def _call(subscription: Subscription, event: Any) -> None:
    try:
        subscription.handler(event)
    except Exception:  # a subscriber's failure is its own
        log.exception("subscriber %s failed on %s", subscription.name, type(event).__name__)


def _run_now(work: Callable[[], None]) -> None:
    work()


@sa_event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@sa_event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    session.info.pop(_PENDING, None)  # recorded but never committed: nothing happened
    committed = session.info.pop(_COMMITTED, None)
    if not committed:
        return
    bus = _BUSES.get(session.bind)
    if bus is None:
        return
    for event in committed:
        bus.publish(event)
