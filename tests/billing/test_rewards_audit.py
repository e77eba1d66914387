"""A reward run audited from the event log: recomputing November's split in plain Python from
`GET /api/admin/analytics/events.jsonl` (the chats, the membership grants, the characters'
creators) and the run's own list of excluded accounts gives the payouts the run made, which are
in the log too, as `creator_reward_paid`. The definitions are docs/billing.md's."""
import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

import pytest

from tests.analytics.conftest import clock, event_log  # noqa: F401  (fixtures)
from tests.billing.reward_month import EXPECTED_GEMS, POOL, build
from tests.billing.test_creator_rewards import run
from tests.moderation.conftest import Person

NOVEMBER = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]
MONTH_END = datetime(2026, 12, 1, tzinfo=timezone.utc)


@pytest.mark.both_databases
def test_the_split_recomputed_from_events_jsonl_is_the_runs(app, event_log):  # noqa: F811
    month = build(app)
    run(app)
    assert event_log.flush()
    admin = Person(app, "admin")
    shown = admin.get("/api/admin/rewards/2026-11").get_json()["run"]
    # All of it: the test's grants are dated back, so they reached the log after November.
    response = admin.get("/api/admin/analytics/events.jsonl")
    events = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]

    weights = retained_user_days(events, shown["excluded"])
    recomputed = largest_remainder(POOL, weights)

    assert recomputed == {p["creator_id"]: p["gems"] for p in shown["payouts"]}
    assert recomputed == {month.id(name): gems for name, gems in EXPECTED_GEMS.items()}
    paid = {e["user_id"]: e["properties"] for e in events if e["name"] == "creator_reward_paid"}
    assert {creator: p["gems"] for creator, p in paid.items()} == recomputed
    assert {creator: p["user_days"] for creator, p in paid.items()} == weights
    assert sorted(map(tuple, paid[month.id("A")]["characters"])) == sorted(
        [(month.characters["A1"], 3), (month.characters["A2"], 2)])


def retained_user_days(events, excluded) -> dict:
    creators = {e["properties"]["character_id"]: e["user_id"]
                for e in events if e["name"] == "character_created"}
    paying = defaultdict(list)
    for e in events:
        if e["name"] == "membership_granted" and e["properties"]["tier"] != "free":
            paying[e["user_id"]].append((datetime.fromisoformat(e["properties"]["granted_at"]),
                                         datetime.fromisoformat(e["properties"]["expires_at"])))
    chats = {(e["user_id"], e["properties"]["character_id"], _day(e["occurred_at"]))
             for e in events if e["name"] == "message_sent"
             and datetime.fromisoformat(e["occurred_at"]) < MONTH_END}
    first = {}
    for user, character, day in chats:
        first[(user, character)] = min(day, first.get((user, character), day))
    counted = defaultdict(set)
    for user, character, day in chats:
        creator = creators.get(character)
        if day not in NOVEMBER or creator is None or user in excluded.get(str(creator), ()):
            continue
        start = datetime.combine(day, time(), tzinfo=timezone.utc)
        pays = any(s < start + timedelta(days=1) and e > start for s, e in paying[user])
        if first[(user, character)] < day and pays:
            counted[creator].add((user, day))
    return {creator: len(days) for creator, days in counted.items()}


def largest_remainder(pool, weights) -> dict:
    total = sum(weights.values())
    floors = {c: pool * w // total for c, w in weights.items()}
    order = sorted(weights, key=lambda c: (-(pool * weights[c] % total), -weights[c], c))
    for creator in order[:pool - sum(floors.values())]:
        floors[creator] += 1
    return floors


def _day(occurred_at: str) -> date:
    return datetime.fromisoformat(occurred_at).astimezone(timezone.utc).date()
