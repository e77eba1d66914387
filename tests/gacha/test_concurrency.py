"""Many concurrent draws leave every balance, card, shard, nonce and pity counter exactly
consistent with the ledger, on SQLite and PostgreSQL, from threads and from two processes."""
import logging
import os
import time
from collections import Counter, defaultdict

import pytest
from sqlmodel import Session, select

import gacha.ledger
from gacha.models import LedgerTransaction
from tests.gacha.conftest import assert_consistent_with_ledger, fund
from tests.gacha.load import make_jobs, run_in_processes, run_jobs

pytestmark = pytest.mark.both_databases
log = logging.getLogger(__name__)

DRAWS = int(os.environ.get("KINDRED_GACHA_LOAD_DRAWS", 1000))
USERS = 5


def _funded_users(session, make_user, banner):
    """Enough gems for about 70% of what the jobs will ask for, so some draws must be refused."""
    users = [make_user() for _ in range(USERS)]
    per_user = int(DRAWS * 4.0 * banner.pull_cost * 0.7 / USERS)
    for user in users:
        fund(session, user, per_user)
    return users, per_user


def _check(engine, users, per_user, banner, results):
    """Per key: refused every time (funds only go down during the load), or drawn exactly once
    and replayed for every repeat. Then every user's state agrees with the ledger."""
    by_key = defaultdict(list)
    for key, outcome in results:
        by_key[key].append(outcome)
    for key, outcomes in by_key.items():
        refused = set(outcomes) == {"insufficient_funds"}
        once = outcomes.count("drawn") == 1 and set(outcomes) <= {"drawn", "replayed"}
        assert refused or once, (key, outcomes)
    drawn = {key for key, outcome in results if outcome == "drawn"}
    with Session(engine) as session:
        draws = session.exec(select(LedgerTransaction).where(LedgerTransaction.kind == "draw")).all()
        assert {t.idempotency_key for t in draws} == {f"draw:{key}" for key in drawn}
        assert len(draws) == len(drawn)
        for user in users:
            assert_consistent_with_ledger(session, user, banner.id)
            spent = sum(t.details["cost"] for t in draws if t.user_id == user)
            assert gacha.ledger.balance(session, user, "gems") == per_user - spent >= 0


def test_concurrent_draws_from_threads_stay_consistent(database_url, engine, session, make_user,
                                                       banner):
    users, per_user = _funded_users(session, make_user, banner)
    jobs = make_jobs(users, banner.id, DRAWS, seed=1)
    started = time.perf_counter()
    results = run_jobs(database_url, jobs, threads=8)
    outcomes = Counter(outcome for _key, outcome in results)
    log.warning("%d threaded draws on %s in %.1fs: %s", len(jobs), engine.dialect.name,
                time.perf_counter() - started, dict(outcomes))
    assert outcomes["insufficient_funds"] > 0 and outcomes["replayed"] > 0
    _check(engine, users, per_user, banner, results)


def test_concurrent_draws_from_two_processes_stay_consistent(database_url, engine, session,
                                                             make_user, banner):
    users, per_user = _funded_users(session, make_user, banner)
    jobs = make_jobs(users, banner.id, DRAWS, seed=2)
    started = time.perf_counter()
    results = run_in_processes(database_url, jobs, processes=2, threads=4)
    outcomes = Counter(outcome for _key, outcome in results)
    log.warning("%d draws from 2 processes on %s in %.1fs: %s", len(jobs), engine.dialect.name,
                time.perf_counter() - started, dict(outcomes))
    assert outcomes["insufficient_funds"] > 0 and outcomes["replayed"] > 0
    _check(engine, users, per_user, banner, results)
