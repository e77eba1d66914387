"""Feature flags with deterministic random assignment, and their read-out (docs/analytics.md).

An experiment is named in the settings (ANALYTICS_EXPERIMENTS, a JSON object):
    {"welcome_tour": {"arms": {"control": 50, "tour": 50}, "start": "2026-12-01"}}
`arms` maps each arm to its weight (the first arm is the baseline); `start` (optional) is the
first cohort day in the experiment. A user's arm is a pure function of the experiment's name and
their id: the first 8 bytes of sha256("<name>:<user id>") as a fraction of 2^64, placed on the
arms' cumulative weights. The same user always gets the same arm, in every process, with no
stored state.

The read-out takes the users first seen on or after `start` whose day 7 is over, and gives per
arm: D1 and D7 retention (Wilson intervals), messages per user over their first 7 days (days 0-6;
a normal interval), and each arm's difference from the baseline (Newcombe; Welch)."""
import hashlib
from datetime import date

from sqlmodel import Session

from core.errors import KindredError
from analytics import days
from analytics.stats import difference_of_means, difference_of_proportions, mean, proportion

FIRST_WEEK = 7


def arm_of(name: str, user_id: int, arms: dict[str, float]) -> str:
    """The arm of `user_id` in experiment `name` (arms: {arm: weight}, in order)."""
    digest = hashlib.sha256(f"{name}:{user_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2 ** 64 * sum(arms.values())
    for arm, weight in arms.items():
        if point < weight:
            return arm
        point -= weight
    return list(arms)[-1]  # rounding at the very top


def flags_for(user_id: int, experiments: dict) -> dict[str, str]:
    """{experiment: arm} for every configured experiment (what the app turns on for a user)."""
    return {name: arm_of(name, user_id, check_experiment(name, spec)["arms"])
            for name, spec in experiments.items()}


def check_experiment(name: str, spec) -> dict:
    """The experiment's spec, checked: {arms: {arm: weight > 0}, start: date | None}."""
    arms = spec.get("arms") if isinstance(spec, dict) else None
    if (not isinstance(arms, dict) or len(arms) < 2
            or not all(isinstance(w, (int, float)) and w > 0 for w in arms.values())):
        raise ValueError(f"experiment {name!r}: 'arms' must map two or more arms to weights > 0")
    start = spec.get("start")
    return {"arms": arms, "start": date.fromisoformat(start) if start else None}


def experiment_report(session: Session, name: str, experiments: dict, today: date,
                      dataset: str) -> dict:
    if name not in experiments:
        raise KindredError("not_found", f"No experiment named {name!r}; configured: "
                                        f"{', '.join(sorted(experiments)) or 'none'}.", 404)
    spec = check_experiment(name, experiments[name])
    arms, now = spec["arms"], days.number(today)
    start = days.number(spec["start"]) if spec["start"] else None
    cohort = {user: day for user, day in days.first_days(session, dataset).items()
              if (start is None or day >= start) and day + FIRST_WEEK < now}
    active = days.active_days(session, dataset, min(cohort.values(), default=now), now)
    messages = _first_week_messages(session, dataset, cohort)
    by_arm: dict[str, list[int]] = {arm: [] for arm in arms}
    for user in cohort:
        by_arm[arm_of(name, user, arms)].append(user)
    baseline = next(iter(arms))
    counts = {}  # arm -> (users, D1 retained, D7 retained, messages per user)
    for arm, users in by_arm.items():
        counts[arm] = (len(users), sum(cohort[u] + 1 in active.get(u, ()) for u in users),
                       sum(cohort[u] + FIRST_WEEK in active.get(u, ()) for u in users),
                       [messages.get(u, 0) for u in users])
    n0, d1_0, d7_0, sent_0 = counts[baseline]
    results = []
    for arm, (n, d1, d7, sent) in counts.items():
        results.append({
            "arm": arm, "weight": arms[arm], "users": n, "d1": proportion(d1, n),
            "d7": proportion(d7, n), "messages_per_user": mean(sent),
            "vs_baseline": None if arm == baseline else {
                "d1": difference_of_proportions(d1, n, d1_0, n0),
                "d7": difference_of_proportions(d7, n, d7_0, n0),
                "messages_per_user": difference_of_means(sent, sent_0)}})
    return {"dataset": dataset, "experiment": name, "baseline": baseline,
            "start": spec["start"].isoformat() if spec["start"] else None, "arms": results}


def _first_week_messages(session: Session, dataset: str, cohort: dict[int, int]) -> dict:
    sent: dict[int, int] = {}
    first = min(cohort.values(), default=0)
    last = max(cohort.values(), default=0) + FIRST_WEEK - 1
    for user, _, at, _ in days.events_named(session, dataset, ("message_sent",), first, last):
        day = cohort.get(user)
        if day is not None and day <= days.day_number_of(at) < day + FIRST_WEEK:
            sent[user] = sent.get(user, 0) + 1
    return sent

