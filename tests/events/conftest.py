"""People for the events tests (moderation's Person: own client, signed up through the API), an
admin among them, and helpers that make events, move their window and read what is stored."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from community.models import Notification, Post
from events.models import CommunityEvent, EventEntry
from gacha.models import Banner, LedgerTransaction
from tests.moderation.conftest import Person, person  # noqa: F401  (the fixture)


@pytest.fixture
def admin(app):
    return Person(app, role="admin")


@pytest.fixture
def member(app):
    return Person(app)


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(at: datetime) -> str:
    return at.isoformat()


def event_body(**more) -> dict:
    body = {"name": "Winter Lights", "theme": "Stories by candlelight",
            "description": "A week of cosy tales.", "starts_at": iso(now() - timedelta(minutes=5)),
            "ends_at": iso(now() + timedelta(days=3))}
    body.update(more)
    return body


def create(admin, **more):
    return admin.call("POST", "/api/admin/events", json=event_body(**more))


def created(admin, **more) -> dict:
    response = create(admin, **more)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["event"]


def set_window(app, event_id: int, starts_at: datetime, ends_at: datetime) -> None:
    """Move an event's window (the API refuses a window in the past, tests need one)."""
    with Session(app.extensions["kindred.db"]) as session:
        event = session.get(CommunityEvent, event_id)
        event.starts_at, event.ends_at = starts_at, ends_at
        session.add(event)
        session.commit()


def stored(app) -> dict:
    """Everything events may have written: events, entries, banners, posts, notifications and
    prize transactions, as counts and rows."""
    with Session(app.extensions["kindred.db"]) as session:
        return {
            "events": [(e.id, e.name, e.judged_at is not None) for e in
                       session.exec(select(CommunityEvent).order_by(CommunityEvent.id))],
            "entries": [(e.event_id, e.character_id, e.place) for e in
                        session.exec(select(EventEntry).order_by(EventEntry.id))],
            "banners": len(session.exec(select(Banner)).all()),
            "posts": len(session.exec(select(Post)).all()),
            "notifications": len(session.exec(select(Notification)).all()),
            "prizes": [(t.user_id, t.idempotency_key, t.details.get("amount")) for t in
                       session.exec(select(LedgerTransaction)
                                    .where(LedgerTransaction.kind == "event_prize")
                                    .order_by(LedgerTransaction.id))]}
