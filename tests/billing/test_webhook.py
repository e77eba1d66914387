"""POST /api/billing/webhook: a signed delivery grants the tier and its gem stipend in one ledger
transaction, once per event id; every bad delivery is a 4xx that changes nothing."""
import json
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from billing.models import BillingEvent, Membership
from gacha.ledger import balances, ledger_problems
from gacha.models import LedgerTransaction
from tests.billing.conftest import SECRET, TIERS, deliver, event, signature, state

pytestmark = pytest.mark.both_databases


def test_a_signed_delivery_grants_plus_and_its_stipend(app, client, people):
    (mira,) = people(1)
    response = deliver(client, event("evt_grant", user_id=mira.id))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["duplicate"] is False and body["tier"] == "plus" and body["gems"] == 300
    with Session(app.extensions["kindred.db"]) as session:
        membership = session.get(Membership, mira.id)
        assert membership.tier == "plus" and membership.source == "webhook"
        assert 29 <= (membership.expires_at - membership.starts_at).days <= 30
        assert balances(session, mira.id)["gems"] == 300
        assert ledger_problems(session) == []
        tx = session.exec(select(LedgerTransaction).where(
            LedgerTransaction.user_id == mira.id)).one()
        assert tx.kind == "membership" and tx.idempotency_key == "billing:webhook:evt_grant"
    shown = mira.get("/api/me/membership").get_json()["membership"]
    assert shown["tier"] == "plus" and shown["source"] == "webhook"
    assert shown["entitlements"]["queue_priority"] == "high"


def test_the_user_can_be_named_by_username(app, client, people):
    (mira,) = people(1)
    response = deliver(client, event("evt_name", username=mira.username.upper()))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["user_id"] == mira.id


def test_a_replayed_event_answers_duplicate_and_changes_nothing(app, client, people):
    (mira,) = people(1)
    assert deliver(client, event("evt_replay", user_id=mira.id)).status_code == 200
    before = state(app, mira.id)
    replay = deliver(client, event("evt_replay", user_id=mira.id))
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    assert state(app, mira.id) == before
    # The same event id naming someone else is the same event: still nothing more.
    (other,) = people(1)
    other_replay = deliver(client, event("evt_replay", user_id=other.id))
    assert other_replay.status_code == 200 and other_replay.get_json()["duplicate"] is True
    assert other_replay.get_json()["user_id"] == mira.id
    assert state(app, other.id)["membership"] is None
    assert state(app, other.id)["balances"]["gems"] == 0


def test_a_second_event_extends_from_the_current_expiry(app, client, people):
    (mira,) = people(1)
    deliver(client, event("evt_a", user_id=mira.id, days=30))
    first = state(app, mira.id)["membership"][1]
    deliver(client, event("evt_b", user_id=mira.id, days=10))
    membership = state(app, mira.id)
    assert membership["membership"][1] - first == timedelta(days=10)
    assert membership["balances"]["gems"] == 300 + 100


@pytest.mark.parametrize("case", ["no_header", "wrong_secret", "tampered", "stale", "future",
                                  "garbled"])
def test_bad_signatures_are_refused(app, client, people, case):
    (mira,) = people(1)
    before = state(app, mira.id)
    body = json.dumps(event("evt_bad", user_id=mira.id)).encode()
    header = {"no_header": "",
              "wrong_secret": signature(body, "not-the-secret"),
              "tampered": signature(body.replace(b"30", b"99")),
              "stale": signature(body, timestamp=int(time.time()) - 301),
              "future": signature(body, timestamp=int(time.time()) + 301),
              "garbled": "t=abc,v1=zz"}[case]
    response = deliver(client, body, header=header)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == ("stale_signature" if case in ("stale", "future") else
                             "bad_signature") and error["message"]
    assert state(app, mira.id) == before


@pytest.mark.parametrize("payload, status, code", [
    ({"tier": "gold"}, 400, "unknown_tier"),
    ({"tier": "free"}, 400, "unknown_tier"),
    ({"days": 0}, 400, "invalid_days"),
    ({"days": "30"}, 400, "invalid_days"),
    ({"user_id": 999999}, 404, "unknown_user"),
    ({"user_id": None, "username": "nobody_here"}, 404, "unknown_user"),
    ({"user_id": None}, 400, "invalid_body"),
])
def test_bad_grants_are_refused(app, client, people, payload, status, code):
    (mira,) = people(1)
    before = state(app, mira.id)
    body = event("evt_bad_grant", user_id=mira.id)
    body["data"].update(payload)
    response = deliver(client, body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert state(app, mira.id) == before


@pytest.mark.parametrize("body, code", [
    (b"not json", "bad_json"),
    (b"[1, 2]", "invalid_body"),
    (json.dumps({"type": "membership.granted", "data": {}}).encode(), "invalid_event_id"),
    (json.dumps({"id": "evt_x", "type": "membership.revoked", "data": {}}).encode(),
     "unknown_event_type"),
    (json.dumps({"id": "evt_x", "type": "membership.granted", "data": [1]}).encode(),
     "invalid_body"),
    (json.dumps({"id": "x" * 121, "type": "membership.granted", "data": {}}).encode(),
     "invalid_event_id"),
])
def test_malformed_bodies_are_refused(app, client, people, body, code):
    (mira,) = people(1)
    before = state(app, mira.id)
    response = deliver(client, body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert state(app, mira.id) == before


def test_without_a_secret_the_webhook_is_not_set_up(app, client, people):
    (mira,) = people(1)
    app.config["BILLING_WEBHOOK_SECRET"] = ""
    response = deliver(client, event("evt_off", user_id=mira.id), header="t=1,v1=00")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_configured"
    assert state(app, mira.id)["membership"] is None


def test_the_webhook_needs_no_login_and_no_csrf_token(app, people):
    (mira,) = people(1)
    # mira's own client is logged in but sends no X-CSRF-Token: still accepted (it is signed).
    response = deliver(mira.client, event("evt_csrf", user_id=mira.id))
    assert response.status_code == 200, response.get_json()


def test_concurrent_deliveries_of_one_event_grant_once(app, people):
    """Two threads deliver the same event at once (PostgreSQL: the wallet's row lock; SQLite:
    its one writer lock): one grant, one duplicate, a balanced ledger."""
    (mira,) = people(1)
    body = json.dumps(event("evt_race", user_id=mira.id)).encode()
    header = signature(body)
    barrier, answers = threading.Barrier(2), []

    def send():
        client = app.test_client()
        barrier.wait()
        answers.append(deliver(client, body, header=header))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in answers) == [200, 200]
    assert sorted(r.get_json()["duplicate"] for r in answers) == [False, True]
    assert_granted_once(app, mira)


@pytest.mark.postgresql_only
def test_two_processes_delivering_one_event_at_once_grant_once(app, people):
    """The issue's case: the same event delivered to two processes at the same moment, on
    PostgreSQL. One grants, the other answers duplicate, and the ledger stays balanced."""
    (mira,) = people(1)
    body = json.dumps(event("evt_two_processes", user_id=mira.id))
    job = json.dumps({"body": body, "header": signature(body.encode()), "tiers": TIERS,
                      "secret": SECRET})
    start_at = time.time() + 15  # both processes have imported and connected by then
    processes = [subprocess.Popen([sys.executable, "-m", "tests.billing.deliver_in_process",
                                   app.config["DATABASE_URL"], str(start_at)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
    answers = [json.loads(process.communicate(job, timeout=120)[0]) for process in processes]
    assert sorted(answer.get("duplicate") for answer in answers) == [False, True], answers
    assert_granted_once(app, mira)


def assert_granted_once(app, person) -> None:
    """One event row, one ledger transaction and one stipend for `person`; a balanced ledger."""
    with Session(app.extensions["kindred.db"]) as session:
        assert ledger_problems(session) == []
        assert balances(session, person.id)["gems"] == 300
        assert len(session.exec(select(BillingEvent)).all()) == 1
        assert len(session.exec(select(LedgerTransaction).where(
            LedgerTransaction.user_id == person.id)).all()) == 1
