"""Creator rewards: one month's pool of gems split among creators by their characters' retained
user-days among paying users (billing/reward_counts.py), paid through the ledger, once. No Flask.

    run_month(session, month, pool, today) -> RunOutcome     `flask --app app.cli rewards run`
    split(pool, weights) -> {creator_id: gems}               largest remainder, exactly `pool`
    run_payload(session, month) / creator_rewards(session, creator_id)     what the routes show

A run counts first and stores the count (reward_runs, reward_payouts), then pays each creator in
one ledger transaction keyed `rewards:<month>:creator:<id>` (gacha's `idempotent`, under the
creator's wallet lock), from the system account `creator_rewards`. A second run of a month pays
only what a first one left unpaid (nothing, once it finished), from the stored figures."""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping, Optional

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from billing.models import RewardPayout, RewardRun
from billing.reward_counts import Month, count_month, parse_month
from characters.models import Character
from core import events
from core.db import utcnow
from core.errors import KindredError, NotFound
from core.event_types import CreatorRewardPaid
from gacha.ledger import MAX_GRANT, idempotent

KIND = "creator_reward"        # the ledger transaction's kind
POOL_ACCOUNT = "creator_rewards"
MAX_POOL = MAX_GRANT


@dataclass
class RunOutcome:
    run: RewardRun
    payouts: list[RewardPayout]
    paid_now: int              # gems this call paid (0: the month had been paid already)
    already_run: bool          # the month was counted by an earlier run


def run_month(session: Session, month_text, pool, today: date) -> RunOutcome:
    """Count `month` (YYYY-MM, over before `today`) and pay its pool; idempotent per month."""
    month = parse_month(month_text)
    if month.end.date() > today:
        raise KindredError("month_not_over", f"{month.name} is not over yet (today is "
                                             f"{today.isoformat()}, UTC): a month is paid once "
                                             "it has ended.")
    existing = _run(session, month.name)
    already_run = existing is not None
    run = existing or _count(session, month, _checked_pool(pool))
    paid_now = 0
    payouts = _payouts(session, run.id)
    for payout in payouts:
        paid_now += _pay(session, month.name, payout)
    run = session.get(RewardRun, run.id, populate_existing=True)
    if run.status != "done":
        run.paid, run.status, run.finished_at = sum(p.gems for p in payouts), "done", utcnow()
        session.add(run)
        session.commit()
    return RunOutcome(run, _payouts(session, run.id), paid_now, already_run)


def split(pool: int, weights: Mapping[int, int]) -> dict[int, int]:
    """pool * weight / total for each creator, rounded down, and the gems left over one each to
    the largest remainders (ties: more user-days first, then the lower creator id), so the
    shares add up to exactly `pool`. No weights: nothing is paid."""
    total = sum(weights.values())
    if total == 0:
        return {}
    shares = {creator: pool * weight // total for creator, weight in weights.items()}
    left = pool - sum(shares.values())
    by_remainder = sorted(weights, key=lambda c: (-(pool * weights[c] % total), -weights[c], c))
    for creator in by_remainder[:left]:
        shares[creator] += 1
    return shares


def run_payload(session: Session, month_text) -> dict:
    """The run of a month as an admin audits it: the pool, each creator's user-days per
    character, gems and ledger transaction, and who was excluded (own and alt accounts)."""
    month = parse_month(month_text)
    run = _run(session, month.name)
    if run is None:
        raise NotFound("no_reward_run", f"{month.name} has not been run yet (flask --app "
                                         f"app.cli rewards run --month {month.name}).")
    return {"run": {**_run_summary(run), "excluded": run.excluded,
                    "payouts": [_payout_payload(p) for p in _payouts(session, run.id)]}}


def creator_rewards(session: Session, creator_id: int) -> dict:
    """A creator's reward in each month that was run, newest first (a month where they had no
    user-days is left out), with the counted user-days per character."""
    query = (select(RewardPayout, RewardRun).join(RewardRun, RewardRun.id == RewardPayout.run_id)
             .where(RewardPayout.creator_id == creator_id).order_by(RewardRun.month.desc()))
    names = dict(session.exec(select(Character.id, Character.name)
                              .where(Character.creator_id == creator_id)).all())
    rewards = []
    for payout, run in session.exec(query):
        shown = _payout_payload(payout)
        for character in shown["characters"]:
            character["name"] = names.get(character["character_id"])  # None: no longer theirs
        rewards.append({"month": run.month, "pool": run.pool, "total_user_days": run.user_days,
                        **shown})
    return {"rewards": rewards}


def run_summary_line(outcome: RunOutcome) -> str:
    run = outcome.run
    if outcome.already_run and outcome.paid_now == 0:
        return (f"{run.month} was already run on {run.created_at:%Y-%m-%d %H:%M} UTC: nothing "
                f"more paid ({run.paid} of {run.pool} gems to {len(outcome.payouts)} creators).")
    if run.user_days == 0:
        return f"{run.month}: no retained user-days among paying users, so nothing was paid."
    return (f"{run.month}: paid {outcome.paid_now} gems to {len(outcome.payouts)} creators for "
            f"{run.user_days} retained user-days (pool {run.pool}).")


# --- counting and paying -----------------------------------------------------------------------

def _count(session: Session, month: Month, pool: int) -> RewardRun:
    counted, excluded = count_month(session, month)
    weights = {creator: len(c.user_days) for creator, c in counted.items()}
    shares = split(pool, weights)
    run = RewardRun(month=month.name, pool=pool, user_days=sum(weights.values()),
                    excluded={str(creator): users for creator, users in excluded.items()})
    try:
        session.add(run)
        session.flush()
        for creator, found in sorted(counted.items()):
            session.add(RewardPayout(
                run_id=run.id, creator_id=creator, user_days=weights[creator],
                gems=shares[creator],
                characters={str(c): len(days) for c, days in sorted(found.characters.items())}))
        session.commit()
    except IntegrityError:  # another run of the month counted first: finish that one
        session.rollback()
        run = _run(session, month.name)
        if run is None:
            raise
    return run


def _pay(session: Session, month: str, payout: RewardPayout) -> int:
    if payout.gems == 0:
        return 0
    key = f"rewards:{month}:creator:{payout.creator_id}"
    characters = [[int(c), n] for c, n in payout.characters.items()]
    with idempotent(session, payout.creator_id, KIND, key) as write:
        if write.replayed:
            return 0
        tx = write.post({"month": month, "gems": payout.gems, "user_days": payout.user_days,
                         "characters": payout.characters},
                        [("gems", POOL_ACCOUNT, payout.gems)])
        found = session.get(RewardPayout, payout.id)
        found.transaction_id = tx.id
        session.add(found)
        events.record(session, CreatorRewardPaid(payout.creator_id, month, payout.gems,
                                                 payout.user_days, tuple(characters), tx.id))
    return payout.gems


def _checked_pool(pool) -> int:
    if type(pool) is not int or not 0 < pool <= MAX_POOL:
        raise KindredError("invalid_pool", f"The pool is a whole number of gems from 1 to "
                                           f"{MAX_POOL} (REWARDS_MONTHLY_POOL or --pool).")
    return pool


def _run(session: Session, month: str) -> Optional[RewardRun]:
    return session.exec(select(RewardRun).where(RewardRun.month == month)
                        .execution_options(populate_existing=True)).first()


def _payouts(session: Session, run_id: int) -> list[RewardPayout]:
    return list(session.exec(select(RewardPayout).where(RewardPayout.run_id == run_id)
                             .order_by(RewardPayout.creator_id)
                             .execution_options(populate_existing=True)))


def _run_summary(run: RewardRun) -> dict:
    return {"month": run.month, "pool": run.pool, "user_days": run.user_days, "paid": run.paid,
            "status": run.status, "created_at": _iso(run.created_at),
            "finished_at": _iso(run.finished_at)}


def _payout_payload(payout: RewardPayout) -> dict:
    return {"creator_id": payout.creator_id, "user_days": payout.user_days, "gems": payout.gems,
            "characters": [{"character_id": int(c), "user_days": n}
                           for c, n in payout.characters.items()],
            "transaction_id": payout.transaction_id}


def _iso(at: Optional[datetime]) -> Optional[str]:
    return at.isoformat() if at is not None else None

