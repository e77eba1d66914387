"""Creator rewards: the month of tests/billing/reward_month.py split by hand (own use, an alt, a
free user, a one-day user, a lapsed day and the demo data set left out), paid through the ledger
once (`flask --app app.cli rewards run`), shown to the creator and to admins."""
import secrets

import pytest
from sqlmodel import Session, select

from analytics.models import AnalyticsEvent
from app.cli import app as cli_app
from billing.models import RewardRun
from billing import rewards
from billing.rewards import run_month, split
from core.errors import KindredError
from gacha.ledger import balance, ledger_problems
from gacha.models import LedgerAccount, LedgerEntry, LedgerTransaction
from tests.analytics.conftest import insert_rows
from tests.billing.reward_month import (EXPECTED_DAYS, EXPECTED_GEMS, POOL, TODAY, at, build,
                                        plus)
from tests.moderation.conftest import Person


def run(app, month="2026-11", pool=POOL, today=TODAY):
    with Session(app.extensions["kindred.db"], expire_on_commit=False) as session:
        return run_month(session, month, pool, today)


def gems(app, month) -> dict:
    with Session(app.extensions["kindred.db"]) as session:
        return {name: balance(session, month.id(name), "gems") for name in EXPECTED_GEMS}


def ledger_state(app) -> tuple:
    with Session(app.extensions["kindred.db"]) as session:
        transactions = len(session.exec(select(LedgerTransaction.id)).all())
        pool_account = session.exec(
            select(LedgerEntry.amount).join(LedgerAccount)
            .where(LedgerAccount.code == "system:creator_rewards:gems")).all()
        return transactions, sum(pool_account), ledger_problems(session)


@pytest.mark.both_databases
def test_the_pool_is_split_by_retained_user_days_worked_out_by_hand(app):
    month = build(app)
    before = gems(app, month)

    outcome = run(app)

    by_creator = {p.creator_id: p for p in outcome.payouts}
    names = {month.id(name): name for name in EXPECTED_GEMS}
    assert {names[c]: p.gems for c, p in by_creator.items()} == EXPECTED_GEMS
    assert {names[c]: p.user_days for c, p in by_creator.items()} == EXPECTED_DAYS
    chars = month.characters
    assert by_creator[month.id("A")].characters == {str(chars["A1"]): 3, str(chars["A2"]): 2}
    assert by_creator[month.id("B")].characters == {str(chars["B1"]): 4}
    assert outcome.paid_now == POOL and outcome.run.paid == POOL and not outcome.already_run
    assert outcome.run.user_days == 9 and outcome.run.status == "done"
    assert outcome.run.excluded == {str(month.id("A")): sorted([month.id("A"), month.id("alt")])}
    after = gems(app, month)
    assert {name: after[name] - before[name] for name in after} == EXPECTED_GEMS
    transactions, pool_account, problems = ledger_state(app)
    assert pool_account == -POOL and problems == []


@pytest.mark.both_databases
def test_a_second_run_pays_nothing_more(app):
    month = build(app)
    run(app)
    paid_once, state_once = gems(app, month), ledger_state(app)

    again = run(app, pool=5000)  # even with another pool: the month is settled

    assert again.already_run and again.paid_now == 0 and again.run.pool == POOL
    assert gems(app, month) == paid_once and ledger_state(app) == state_once


@pytest.mark.both_databases
def test_a_run_that_stopped_half_way_is_finished_without_paying_anyone_twice(app, monkeypatch):
    month = build(app)
    before = gems(app, month)
    real_pay, calls = rewards._pay, []

    def pay_then_fail(session, name, payout):  # the process dies after paying the first creator
        calls.append(payout.creator_id)
        if len(calls) > 1:
            raise RuntimeError("killed")
        return real_pay(session, name, payout)

    monkeypatch.setattr(rewards, "_pay", pay_then_fail)
    with pytest.raises(RuntimeError):
        run(app)
    monkeypatch.setattr(rewards, "_pay", real_pay)
    partial = {name: n - before[name] for name, n in gems(app, month).items()}
    assert partial == {"A": EXPECTED_GEMS["A"], "B": 0, "C": 0}

    finished = run(app)

    assert finished.already_run and finished.paid_now == POOL - EXPECTED_GEMS["A"]
    paid = {name: n - before[name] for name, n in gems(app, month).items()}
    assert paid == EXPECTED_GEMS and finished.run.status == "done"
    assert ledger_state(app)[1:] == (-POOL, [])


def test_no_user_days_pays_nothing(app):
    outcome = run(app, month="2025-02")
    assert outcome.payouts == [] and outcome.paid_now == 0 and outcome.run.paid == 0
    assert run(app, month="2025-02").already_run


@pytest.mark.parametrize("month, code", [("2026-13", "invalid_month"), ("nov", "invalid_month"),
                                         ("2026-1", "invalid_month"), (None, "invalid_month"),
                                         ("2026-12", "month_not_over"),
                                         ("2027-01", "month_not_over")])
def test_a_bad_or_unfinished_month_is_refused_and_changes_nothing(app, month, code):
    before = ledger_state(app)
    with pytest.raises(KindredError) as refused:
        run(app, month=month)
    assert refused.value.code == code and refused.value.status == 400
    assert ledger_state(app) == before
    with Session(app.extensions["kindred.db"]) as session:
        assert session.exec(select(RewardRun)).all() == []


@pytest.mark.parametrize("pool", [0, -5, "100", 1.5, None])
def test_a_bad_pool_is_refused(app, pool):
    with pytest.raises(KindredError) as refused:
        run(app, month="2025-02", pool=pool)
    assert refused.value.code == "invalid_pool"


@pytest.mark.parametrize("weights, pool, expected", [
    ({1: 1, 2: 1, 3: 1}, 100, {1: 34, 2: 33, 3: 33}),
    ({5: 2, 3: 1}, 10, {5: 7, 3: 3}),
    ({1: 3, 2: 3}, 7, {1: 4, 2: 3}),
    ({1: 1, 2: 5}, 1, {1: 0, 2: 1}),
    ({}, 100, {}),
])
def test_the_split_pays_exactly_the_pool_by_largest_remainder(weights, pool, expected):
    shares = split(pool, weights)
    assert shares == expected and sum(shares.values()) == (pool if weights else 0)


# --- the command line ----------------------------------------------------------------------------

def cli(monkeypatch, app, *args, pool=POOL):
    monkeypatch.setattr("config.Config.DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setattr("config.Config.REWARDS_MONTHLY_POOL", pool)
    return cli_app.test_cli_runner().invoke(args=["rewards", "run", *args])


@pytest.mark.both_databases
def test_the_cli_pays_a_month_once_and_says_so_the_second_time(app, monkeypatch):
    month = build(app)
    first = cli(monkeypatch, app, "--month", "2026-11")
    assert first.exit_code == 0, first.output
    assert "paid 1000 gems to 3 creators for 9 retained user-days" in first.output
    assert f"creator {month.id('A')}: 445 gems for 4 user-days" in first.output
    paid = gems(app, month)
    logged = reward_events(app)
    assert logged == sorted((month.id(name), gems) for name, gems in EXPECTED_GEMS.items())

    second = cli(monkeypatch, app, "--month", "2026-11")

    assert second.exit_code == 0, second.output
    assert "already run" in second.output and "nothing more paid" in second.output
    assert gems(app, month) == paid and ledger_state(app)[2] == []
    assert reward_events(app) == logged  # nothing paid, nothing logged again


def reward_events(app) -> list:
    """The command's payouts as the event log holds them: (creator id, gems)."""
    with Session(app.extensions["kindred.db"]) as session:
        rows = session.exec(select(AnalyticsEvent).where(
            AnalyticsEvent.name == "creator_reward_paid")).all()
        return sorted((row.user_id, row.properties["gems"]) for row in rows)


@pytest.mark.parametrize("args, says", [
    (["--month", "2026-13"], "YYYY-MM"), (["--month", "11/2026"], "YYYY-MM"),
    (["--month", "2099-01"], "not over yet"), ([], "Missing option"),
    (["--month", "2025-02", "--pool", "0"], "pool"),
    (["--month", "2025-02", "--pool", "x"], "pool"),
])
def test_the_cli_refuses_bad_input_with_exit_code_2(app, monkeypatch, args, says):
    result = cli(monkeypatch, app, *args)
    assert result.exit_code == 2 and says in result.output, result.output
    with Session(app.extensions["kindred.db"]) as session:
        assert session.exec(select(RewardRun)).all() == []


def test_the_cli_refuses_to_run_without_a_pool(app, monkeypatch):
    result = cli(monkeypatch, app, "--month", "2025-02", pool=0)
    assert result.exit_code == 2 and "REWARDS_MONTHLY_POOL" in result.output


# --- what creators and admins see ----------------------------------------------------------------

def test_a_creator_sees_their_reward_and_user_days_per_character(app):
    month = build(app)
    assert month.people["A"].get("/api/me/rewards").get_json() == {"rewards": []}
    run(app)

    body = month.people["A"].get("/api/me/rewards").get_json()

    [reward] = body["rewards"]
    assert reward["month"] == "2026-11" and reward["gems"] == 445 and reward["user_days"] == 4
    assert reward["pool"] == POOL and reward["total_user_days"] == 9
    assert reward["characters"] == [
        {"character_id": month.characters["A1"], "user_days": 3, "name": "A1"},
        {"character_id": month.characters["A2"], "user_days": 2, "name": "A2"}]
    assert month.people["p1"].get("/api/me/rewards").get_json() == {"rewards": []}
    assert app.test_client().get("/api/me/rewards").status_code == 401


def test_admins_see_the_run_and_nobody_else_does(app):
    month = build(app)
    admin = Person(app, "admin")
    assert admin.get("/api/admin/rewards/2026-11").status_code == 404
    run(app)

    response = admin.get("/api/admin/rewards/2026-11")

    assert response.status_code == 200, response.get_json()
    shown = response.get_json()["run"]
    assert shown["pool"] == POOL and shown["paid"] == POOL and shown["status"] == "done"
    assert {p["creator_id"]: p["gems"] for p in shown["payouts"]} == {
        month.id(name): gems for name, gems in EXPECTED_GEMS.items()}
    assert all(p["transaction_id"] for p in shown["payouts"])
    assert shown["excluded"] == {str(month.id("A")): sorted([month.id("A"), month.id("alt")])}
    for who in (month.people["A"], Person(app, "moderator")):
        refused = who.get("/api/admin/rewards/2026-11")
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert app.test_client().get("/api/admin/rewards/2026-11").status_code == 401
    bad = admin.get("/api/admin/rewards/november")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_month"


def test_the_studio_page_has_the_rewards_panel(app):
    creator = Person(app)
    page = creator.get("/studio").get_data(as_text=True)
    assert 'id="rewards"' in page and "studio_rewards.js" in page


def test_an_alt_signed_up_from_the_creators_browser_is_not_counted(app):
    """Through the real sign-up: the creator and their alt share an address and a browser, the
    fan signs up elsewhere; both return to the character on Nov 2 and 3, only the fan counts."""
    def sign_up(ip, agent):
        client = app.test_client()
        response = client.post("/api/auth/signup", json={
            "username": f"u_{secrets.token_hex(4)}", "password": "correct horse"},
            environ_base={"REMOTE_ADDR": ip}, headers={"User-Agent": agent})
        assert response.status_code == 201, response.get_json()
        return client, response.get_json()

    client, creator = sign_up("203.0.113.7", "Firefox/130")
    _, alt = sign_up("203.0.113.7", "Firefox/130")
    _, fan = sign_up("198.51.100.2", "Safari/17")
    made = client.post("/api/characters", json={"name": "Lantern"},
                       headers={"X-CSRF-Token": creator["csrf_token"]})
    character = made.get_json()["character"]["id"]
    with Session(app.extensions["kindred.db"]) as session:
        for who in (alt, fan):
            plus(session, who["user"]["id"], at(10, 1), 61)
    insert_rows(app, [(who["user"]["id"], "message_sent", at(11, day), "s",
                       {"character_id": character}) for who in (alt, fan) for day in (2, 3)])

    outcome = run(app)

    assert [(p.creator_id, p.user_days, p.gems) for p in outcome.payouts] == [
        (creator["user"]["id"], 1, POOL)]
    assert outcome.run.excluded == {str(creator["user"]["id"]): [alt["user"]["id"]]}
