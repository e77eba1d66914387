"""Redeem codes: `flask --app app.cli billing codes` prints N distinct codes, each redeems once
through POST /api/billing/redeem; used, expired and unknown codes are 4xx and change nothing."""
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.cli import app as cli_app
from billing import codes
from billing.models import Membership, RedeemCode
from core.db import utcnow
from tests.billing.conftest import TIERS, deliver, event, state

pytestmark = pytest.mark.both_databases


def generate_with_cli(monkeypatch, app, *args):
    monkeypatch.setattr("config.Config.DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setattr("config.Config.MEMBERSHIP_TIERS", TIERS)
    return cli_app.test_cli_runner().invoke(args=["billing", "codes", *args])


def new_codes(app, n=1, days=30, expires_in_days=None):
    with Session(app.extensions["kindred.db"], expire_on_commit=False) as session:
        return codes.generate(session, TIERS, "plus", days, n, expires_in_days)


def redeem(person, code):
    return person.call("POST", "/api/billing/redeem", json={"code": code})


def test_the_cli_prints_n_distinct_codes_that_each_redeem(app, monkeypatch, people):
    result = generate_with_cli(monkeypatch, app, "--tier", "plus", "--days", "30", "-n", "3")
    assert result.exit_code == 0, result.output
    printed = result.stdout.split()
    assert len(printed) == 3 and len(set(printed)) == 3
    with Session(app.extensions["kindred.db"]) as session:
        stored = session.exec(select(RedeemCode)).all()
        assert len(stored) == 3 and not {code.code_hash for code in stored} & set(printed)
    for person, code in zip(people(3), printed):
        response = redeem(person, code.lower())  # case and dashes do not matter
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["membership"]["tier"] == "plus" and body["membership"]["source"] == "code"
        assert body["granted"]["gems"] == 300
        assert state(app, person.id)["balances"]["gems"] == 300
    assert state(app, person.id)["problems"] == []


def test_the_cli_refuses_an_unknown_tier(app, monkeypatch):
    result = generate_with_cli(monkeypatch, app, "--tier", "gold", "--days", "30")
    assert result.exit_code != 0 and "tier" in result.output


def test_the_cli_codes_can_expire(app, monkeypatch):
    result = generate_with_cli(monkeypatch, app, "--tier", "plus", "--days", "7", "-n", "2",
                               "--expires-in-days", "14")
    assert result.exit_code == 0, result.output
    with Session(app.extensions["kindred.db"]) as session:
        for code in session.exec(select(RedeemCode)):
            assert code.days == 7
            assert timedelta(days=13) < code.expires_at - utcnow() <= timedelta(days=14)


def test_a_code_works_once(app, people):
    first, second = people(2)
    (code,) = new_codes(app)
    assert redeem(first, code).status_code == 200
    before = state(app, first.id), state(app, second.id)
    for person in (first, second):
        again = redeem(person, code)
        assert again.status_code == 409 and again.get_json()["error"]["code"] == "code_used"
    assert (state(app, first.id), state(app, second.id)) == before


def test_an_expired_code_is_refused(app, people):
    (mira,) = people(1)
    (code,) = new_codes(app, expires_in_days=1)
    with Session(app.extensions["kindred.db"]) as session:
        stored = session.exec(select(RedeemCode)).one()
        stored.expires_at = utcnow() - timedelta(minutes=1)
        session.add(stored)
        session.commit()
    before = state(app, mira.id)
    response = redeem(mira, code)
    assert response.status_code == 410 and response.get_json()["error"]["code"] == "code_expired"
    assert state(app, mira.id) == before


@pytest.mark.parametrize("body, status, code", [
    ({"code": "AAAA-BBBB-CCCC-DDDD"}, 404, "unknown_code"),
    ({"code": ""}, 400, "invalid_code"),
    ({"code": 12}, 400, "invalid_code"),
    ({}, 400, "invalid_code"),
    ({"code": "x", "tier": "plus"}, 400, "unknown_field"),
])
def test_bad_redeem_requests_are_refused(app, people, body, status, code):
    (mira,) = people(1)
    new_codes(app)
    before = state(app, mira.id)
    response = mira.call("POST", "/api/billing/redeem", json=body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert state(app, mira.id) == before


def test_redeeming_needs_a_login_and_the_csrf_token(app, client, people):
    (mira,) = people(1)
    (code,) = new_codes(app)
    logged_out = client.post("/api/billing/redeem", json={"code": code})
    assert logged_out.status_code in (401, 403) and logged_out.get_json()["error"]["code"]
    no_token = mira.client.post("/api/billing/redeem", json={"code": code})
    assert no_token.status_code == 403
    assert no_token.get_json()["error"]["code"] == "csrf_failed"
    assert state(app, mira.id)["membership"] is None


def test_redeeming_while_plus_extends_from_the_current_expiry(app, client, people):
    (mira,) = people(1)
    deliver(client, event("evt_before_code", user_id=mira.id, days=30))
    expiry = state(app, mira.id)["membership"][1]
    (code,) = new_codes(app, days=10)
    assert redeem(mira, code).status_code == 200
    with Session(app.extensions["kindred.db"]) as session:
        membership = session.get(Membership, mira.id)
        assert membership.expires_at - expiry == timedelta(days=10)
        assert membership.source == "code"
    assert state(app, mira.id)["balances"]["gems"] == 300 + 100


def test_two_people_redeeming_one_code_at_once_get_one_grant(app, people):
    import threading
    first, second = people(2)
    (code,) = new_codes(app)
    barrier, answers = threading.Barrier(2), {}

    def send(person):
        barrier.wait()
        answers[person.id] = redeem(person, code).status_code

    threads = [threading.Thread(target=send, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [200, 409]
    winner = next(pid for pid, status in answers.items() if status == 200)
    loser = next(pid for pid, status in answers.items() if status == 409)
    assert state(app, winner)["balances"]["gems"] == 300
    assert state(app, loser)["membership"] is None and state(app, loser)["balances"]["gems"] == 0
    assert state(app, winner)["problems"] == []
