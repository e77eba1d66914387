"""Feature flags: a user's arm is a pure function of the experiment's name and their id, spread
as the weights say; the read-out gives retention and messages per user by arm with confidence
intervals (GET /api/admin/experiments/<name>), 404 for an experiment not configured."""
import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from analytics.experiments import arm_of, check_experiment, flags_for
from tests.analytics.conftest import insert_rows


def test_the_same_user_always_gets_the_same_arm():
    arms = {"control": 50, "tour": 50}
    assert [arm_of("tour", user, arms) for user in range(200)] == \
           [arm_of("tour", user, dict(arms)) for user in range(200)]


def test_the_arm_is_the_sha256_of_name_and_user_id_on_the_weights():
    """The documented rule, recomputed here: a fraction of 2^64 placed on cumulative weights."""
    arms = {"a": 1, "b": 2, "c": 1}
    for user in range(300):
        point = int.from_bytes(hashlib.sha256(f"exp:{user}".encode()).digest()[:8], "big") / 2 ** 64
        expected = "a" if point < 0.25 else "b" if point < 0.75 else "c"
        assert arm_of("exp", user, arms) == expected


def test_arms_follow_the_weights_and_experiments_are_independent():
    users = range(1, 20_001)
    share = sum(arm_of("banner", u, {"control": 90, "new": 10}) == "new" for u in users) / 20_000
    assert 0.09 < share < 0.11
    both = sum(arm_of("one", u, {"a": 1, "b": 1}) == "b" and arm_of("two", u, {"a": 1, "b": 1})
               == "b" for u in users) / 20_000
    assert 0.23 < both < 0.27  # a quarter: one experiment's arm says nothing about another's


def test_flags_for_a_user_and_a_bad_spec():
    experiments = {"tour": {"arms": {"off": 1, "on": 1}}, "ads": {"arms": {"no": 3, "yes": 1}}}
    flags = flags_for(7, experiments)
    assert set(flags) == {"tour", "ads"} and flags == flags_for(7, experiments)
    for bad in ({"arms": {"only": 1}}, {"arms": {"a": 0, "b": 1}}, {"arms": ["a", "b"]}, "x"):
        with pytest.raises(ValueError):
            check_experiment("bad", bad)


NOW = datetime(2026, 12, 20, 12, tzinfo=timezone.utc)
EXPERIMENT = {"tour": {"arms": {"control": 1, "tour": 1}, "start": "2026-12-02"}}


def test_the_read_out_by_arm_matches_the_events(app, admin_at):
    """Users 1001..1040 first seen 12-02 .. 12-11; user u sends u % 4 messages on day 0, comes
    back on day 1 when u % 2 == 0 and on day 7 when u % 3 == 0. User 1041 (first seen 12-01,
    before the start) and 1042 (12-15, day 7 not over) are not in it; nor is the admin."""
    app.config["ANALYTICS_EXPERIMENTS"] = EXPERIMENT
    admin = admin_at(NOW)
    rows, cohort_day = [], {}
    for user in range(1001, 1043):
        first = datetime(2026, 12, 2 + user % 10, 10, tzinfo=timezone.utc)
        first = {1041: datetime(2026, 12, 1, tzinfo=timezone.utc),
                 1042: datetime(2026, 12, 15, tzinfo=timezone.utc)}.get(user, first)
        cohort_day[user] = first
        rows.append((user, "user_signed_up", first, "s", {}))
        rows += [(user, "message_sent", first + timedelta(minutes=m + 1), "s", {})
                 for m in range(user % 4)]
        if user % 2 == 0:
            rows.append((user, "session_started", first + timedelta(days=1), "t", {}))
        if user % 3 == 0:
            rows.append((user, "session_started", first + timedelta(days=7), "u", {}))
    # a message on day 8 is not in the first week's (days 0-6)
    rows.append((1005, "message_sent", cohort_day[1005] + timedelta(days=8), "v", {}))
    insert_rows(app, rows)

    response = admin.get("/api/admin/experiments/tour")
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["baseline"] == "control" and data["start"] == "2026-12-02"
    arms = {arm["arm"]: arm for arm in data["arms"]}
    for name, arm in arms.items():
        users = [u for u in range(1001, 1041)
                 if arm_of("tour", u, EXPERIMENT["tour"]["arms"]) == name]
        assert arm["users"] == len(users)
        assert arm["d1"]["retained"] == sum(u % 2 == 0 for u in users)
        assert arm["d7"]["retained"] == sum(u % 3 == 0 for u in users)
        assert arm["messages_per_user"]["mean"] == pytest.approx(
            sum(u % 4 for u in users) / len(users))
        low, high = arm["d7"]["ci"]
        assert low < arm["d7"]["rate"] < high
    assert arms["control"]["vs_baseline"] is None
    versus = arms["tour"]["vs_baseline"]
    assert versus["d7"]["value"] == pytest.approx(arms["tour"]["d7"]["rate"]
                                                  - arms["control"]["d7"]["rate"])
    low, high = versus["messages_per_user"]["ci"]
    assert low < versus["messages_per_user"]["value"] < high


def test_an_experiment_not_configured_is_404(app, person):
    app.config["ANALYTICS_EXPERIMENTS"] = EXPERIMENT
    response = person("admin").get("/api/admin/experiments/nope")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_a_user_reads_their_own_arms(app, person):
    app.config["ANALYTICS_EXPERIMENTS"] = {**EXPERIMENT, "ads": {"arms": {"off": 1, "on": 1}}}
    someone = person("user")
    response = someone.get("/api/me/experiments")
    assert response.status_code == 200
    assert response.get_json()["experiments"] == {
        "tour": arm_of("tour", someone.id, {"control": 1, "tour": 1}),
        "ads": arm_of("ads", someone.id, {"off": 1, "on": 1})}
    assert app.test_client().get("/api/me/experiments").status_code == 401
