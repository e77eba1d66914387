"""Billing tests: an app with both webhook secrets and small tiers (so room limits are reached
with a few people), people with their own clients, signed deliveries, and the ledger's state."""
import hashlib
import hmac
import json
import time

import pytest
from sqlmodel import Session, select

from billing.models import BillingEvent, Membership, RedeemCode
from gacha.ledger import balances, ledger_problems
from gacha.models import LedgerTransaction
from tests.moderation.conftest import Person

SECRET = "billing-test-secret"
STRIPE_SECRET = "whsec_test_secret"
TIERS = {
    "free": {"queue_priority": "normal", "max_context_tokens": 2048, "memory_tokens": 40,
             "max_rooms": 2, "max_room_members": 2, "monthly_gems": 0, "ads": True},
    "plus": {"queue_priority": "high", "max_context_tokens": 4096, "memory_tokens": 400,
             "max_rooms": 3, "max_room_members": 3, "monthly_gems": 300, "ads": False},
}


@pytest.fixture
def app_config(app_config):
    return type("BillingConfig", (app_config,), {"BILLING_WEBHOOK_SECRET": SECRET,
                                                 "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
                                                 "MEMBERSHIP_TIERS": TIERS})


@pytest.fixture
def people(app):
    """people(n): n signed-up people, each with their own cookies."""
    return lambda n=1: [Person(app) for _ in range(n)]


def signature(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def event(event_id="evt_1", tier="plus", days=30, **user) -> dict:
    return {"id": event_id, "type": "membership.granted", "data": {"tier": tier, "days": days,
                                                                     **user}}


def deliver(client, payload, header=None, path="/api/billing/webhook",
            header_name="Kindred-Signature"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {header_name: signature(body) if header is None else header}
    return client.post(path, data=body, headers=headers, content_type="application/json")


def stripe_signature(body: bytes, secret: str = STRIPE_SECRET,
                     timestamp: int | None = None) -> str:
    """Stripe's scheme: t=<unix>,v1=hex HMAC-SHA256(secret, "<t>.<payload>")."""
    return signature(body, secret, timestamp)


def state(app, user_id: int) -> dict:
    """What billing and the ledger hold for the user, to compare before and after a refusal."""
    with Session(app.extensions["kindred.db"]) as session:
        membership = session.get(Membership, user_id)
        return {
            "membership": membership and (membership.tier, membership.expires_at),
            "balances": balances(session, user_id),
            "transactions": len(session.exec(select(LedgerTransaction.id)).all()),
            "events": len(session.exec(select(BillingEvent.id)).all()),
            "codes": sorted((c.id, c.redeemed_by) for c in session.exec(select(RedeemCode))),
            "problems": ledger_problems(session),
        }
