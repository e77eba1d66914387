"""GET /api/me/membership and entitlements_for: free by default, plus after a grant, free again
once the membership has lapsed."""
from datetime import timedelta

import pytest
from sqlmodel import Session

from billing.entitlements import Entitlements, entitlements_for
from billing.models import Membership
from core.db import utcnow
from tests.billing.conftest import TIERS, deliver, event

pytestmark = pytest.mark.both_databases


def test_a_new_user_is_free_with_free_entitlements(app, people):
    (mira,) = people(1)
    response = mira.get("/api/me/membership")
    assert response.status_code == 200
    assert response.get_json() == {"membership": {
        "tier": "free", "expires_at": None, "source": None,
        "entitlements": {"tier": "free", "queue_priority": "normal", "max_context_tokens": 2048,
                         "memory_tokens": 40, "max_rooms": 2, "max_room_members": 2, "monthly_gems": 0,
                         "ads": True}}}


def test_plus_after_a_grant_and_free_after_it_lapses(app, client, people):
    (mira,) = people(1)
    deliver(client, event("evt_lapse", user_id=mira.id, days=30))
    shown = mira.get("/api/me/membership").get_json()["membership"]
    assert shown["tier"] == "plus" and shown["expires_at"]
    assert shown["entitlements"] == {"tier": "plus", "queue_priority": "high",
                                     "max_context_tokens": 4096, "memory_tokens": 400,
                                     "max_rooms": 3,
                                     "max_room_members": 3, "monthly_gems": 300, "ads": False}
    with Session(app.extensions["kindred.db"]) as session:
        membership = session.get(Membership, mira.id)
        assert entitlements_for(session, mira.id, TIERS).tier == "plus"
        later = membership.expires_at + timedelta(seconds=1)
        assert entitlements_for(session, mira.id, TIERS, now=later) == Entitlements(
            tier="free", queue_priority="normal", max_context_tokens=2048, memory_tokens=40,
            max_rooms=2,
            max_room_members=2, monthly_gems=0, ads=True)
        membership.expires_at = utcnow() - timedelta(minutes=1)
        session.add(membership)
        session.commit()
    lapsed = mira.get("/api/me/membership").get_json()["membership"]
    assert lapsed["tier"] == "free" and lapsed["expires_at"] is None
    assert lapsed["entitlements"]["queue_priority"] == "normal"
    # A new grant after the lapse starts now, not from the old expiry.
    deliver(client, event("evt_after_lapse", user_id=mira.id, days=30))
    with Session(app.extensions["kindred.db"]) as session:
        renewed = session.get(Membership, mira.id)
        assert timedelta(days=29) < renewed.expires_at - utcnow() <= timedelta(days=30)


def test_the_membership_needs_a_login(client):
    response = client.get("/api/me/membership")
    assert response.status_code == 401


def test_entitlements_are_frozen():
    from dataclasses import FrozenInstanceError
    from billing.entitlements import tier_entitlements
    free = tier_entitlements(TIERS, "free")
    with pytest.raises(FrozenInstanceError):
        free.max_rooms = 99
