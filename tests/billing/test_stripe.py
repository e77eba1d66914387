"""POST /api/billing/stripe/webhook: Stripe's signature, checked by the official package, and a
checkout.session.completed with metadata {user_id, tier, days} grants like the generic webhook."""
import json
import time

import pytest

from tests.billing.conftest import deliver, state, stripe_signature

pytestmark = pytest.mark.both_databases

PATH = "/api/billing/stripe/webhook"


def checkout(event_id="evt_stripe_1", **metadata) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": "checkout.session.completed",
                       "data": {"object": {"id": "cs_test_1", "object": "checkout.session",
                                           "metadata": metadata}}}).encode()


def send(client, body, header=None):
    return deliver(client, body, header=stripe_signature(body) if header is None else header,
                   path=PATH, header_name="Stripe-Signature")


def test_a_completed_checkout_grants_plus_once(app, client, people):
    (mira,) = people(1)
    body = checkout(user_id=str(mira.id), tier="plus", days="30")  # Stripe metadata is strings
    response = send(client, body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["duplicate"] is False and response.get_json()["gems"] == 300
    shown = mira.get("/api/me/membership").get_json()["membership"]
    assert shown["tier"] == "plus" and shown["source"] == "stripe"
    before = state(app, mira.id)
    assert before["balances"]["gems"] == 300 and before["problems"] == []
    replay = send(client, body)
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    assert state(app, mira.id) == before


@pytest.mark.parametrize("case", ["wrong_secret", "stale", "missing", "tampered"])
def test_bad_stripe_signatures_are_refused(app, client, people, case):
    (mira,) = people(1)
    before = state(app, mira.id)
    body = checkout(user_id=str(mira.id), tier="plus", days="30")
    header = {"wrong_secret": stripe_signature(body, "whsec_other"),
              "stale": stripe_signature(body, timestamp=int(time.time()) - 301),
              "missing": "",
              "tampered": stripe_signature(body.replace(b'"30"', b'"300"'))}[case]
    response = send(client, body.replace(b'"30"', b'"300"') if case == "tampered" else body,
                    header if case != "tampered" else stripe_signature(body))
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert state(app, mira.id) == before


@pytest.mark.parametrize("metadata, status, code", [
    ({"tier": "gold", "days": "30"}, 400, "unknown_tier"),
    ({"tier": "plus", "days": "thirty"}, 400, "invalid_days"),
    ({"tier": "plus", "days": "30", "user_id": "999999"}, 404, "unknown_user"),
    ({"tier": "plus", "days": "30", "user_id": None}, 400, "invalid_body"),
])
def test_bad_checkout_metadata_is_refused(app, client, people, metadata, status, code):
    (mira,) = people(1)
    before = state(app, mira.id)
    response = send(client, checkout(**{"user_id": str(mira.id), **metadata}))
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert state(app, mira.id) == before


def test_other_stripe_events_are_acknowledged_and_ignored(app, client, people):
    (mira,) = people(1)
    before = state(app, mira.id)
    body = json.dumps({"id": "evt_other", "object": "event", "type": "invoice.paid",
                       "data": {"object": {"metadata": {"user_id": str(mira.id)}}}}).encode()
    response = send(client, body)
    assert response.status_code == 200 and response.get_json()["ignored"] is True
    assert state(app, mira.id) == before
