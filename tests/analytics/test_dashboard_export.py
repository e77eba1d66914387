"""Recomputing every dashboard figure from events.jsonl, in plain Python from the definitions of
docs/analytics.md, gives the endpoints' numbers (on the simulated demo data set, whose export
holds exactly the demo rows)."""
import hashlib
import json
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest

from analytics.simulate import simulate

NOW = datetime(2026, 12, 10, 15, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
FROM, TO = date(2026, 11, 1), date(2026, 12, 10)
RANGE = "dataset=demo&from=2026-11-01&to=2026-12-10"


@pytest.fixture
def export(app, admin_at):
    admin = admin_at(NOW)
    simulate(app.extensions["kindred.db"], 150, 45, seed=11, now=NOW)
    response = admin.get("/api/admin/analytics/events.jsonl?dataset=demo")
    events = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    for event in events:
        event["at"] = datetime.fromisoformat(event["occurred_at"])
        event["day"] = event["at"].astimezone(timezone.utc).date()
    assert {event["dataset"] for event in events} == {"demo"}
    live = admin.get("/api/admin/analytics/events.jsonl").get_data(as_text=True).splitlines()
    assert len(live) == 2 and len(events) > 1000  # the admin's own two rows only
    return admin, events


def _days():
    return [FROM + timedelta(days=n) for n in range((TO - FROM).days + 1)]


def _active(events):
    active = defaultdict(set)
    for event in events:
        if event["user_id"] is not None:
            active[event["user_id"]].add(event["day"])
    return active


def test_activity_from_the_export(export):
    admin, events = export
    active = _active(events)
    expected = []
    for day in _days():
        def within(width):
            return sum(any(day - timedelta(days=width) < d <= day for d in days)
                       for days in active.values())
        expected.append((day.isoformat(), within(1), within(7), within(30)))
    served = admin.get(f"/api/admin/analytics/activity?{RANGE}").get_json()["days"]
    assert [(d["day"], d["dau"], d["wau"], d["mau"]) for d in served] == expected
    assert any(dau for _, dau, _, _ in expected)


def test_engagement_from_the_export(export):
    admin, events = export
    sessions = defaultdict(list)
    for event in events:
        if event["session_id"]:
            sessions[event["session_id"]].append(event)
    lengths, messages = [], []
    for rows in sessions.values():
        start = min(row["at"] for row in rows)
        if FROM <= start.astimezone(timezone.utc).date() <= TO:
            lengths.append((max(row["at"] for row in rows) - start).total_seconds())
            messages.append(sum(row["name"] == "message_sent" for row in rows))
    served = admin.get(f"/api/admin/analytics/engagement?{RANGE}").get_json()
    assert served["sessions"] == len(lengths) > 100
    deciles = statistics.quantiles(lengths, n=10, method="inclusive")
    assert served["session_seconds"]["median"] == pytest.approx(statistics.median(lengths))
    assert served["session_seconds"]["p90"] == pytest.approx(deciles[8])
    assert served["messages_per_session"]["median"] == pytest.approx(statistics.median(messages))
    assert served["messages_per_session"]["p90"] == pytest.approx(
        statistics.quantiles(messages, n=10, method="inclusive")[8])


def test_funnels_from_the_export(export):
    admin, events = export
    active = _active(events)
    first = {}
    for event in events:
        key = (event["user_id"], event["name"])
        if event["user_id"] is not None and key not in first:
            first[key] = event["at"]
    messages, posts, received = defaultdict(list), {}, defaultdict(list)
    for event in events:
        if event["name"] == "message_sent":
            messages[event["user_id"]].append(event["at"])
        if event["name"] == "post_published":
            posts[event["properties"]["post_id"]] = event["user_id"]
    for event in events:
        author = posts.get(event["properties"].get("post_id"))
        if event["name"] == "comment_added" and author not in (None, event["user_id"]):
            received[author].append(event["at"])
    served = {f["name"]: [s["users"] for s in f["steps"]] for f in
              admin.get(f"/api/admin/analytics/funnels?{RANGE}").get_json()["funnels"]}
    for funnel, entering, second in (("signup", "user_signed_up", messages),
                                     ("swipe", "swipe_made", messages),
                                     ("post", "post_published", received)):
        counts = [0, 0, 0]
        for (user, name), at in first.items():
            day = at.astimezone(timezone.utc).date()
            if name != entering or not FROM <= day <= TO or day + timedelta(days=1) >= TODAY:
                continue
            counts[0] += 1
            if any(at <= t <= at + timedelta(hours=24) for t in second[user]):
                counts[1] += 1
                counts[2] += day + timedelta(days=1) in active[user]
        assert served[funnel] == counts, funnel
    assert served["signup"][0] > 30 and served["post"][0] > 0


def test_community_effect_and_retention_from_the_export(export):
    admin, events = export
    active = _active(events)
    cohort = {user: min(days) for user, days in active.items()}
    posts = {e["properties"]["post_id"]: e["user_id"] for e in events
             if e["name"] == "post_published"}
    took_part = set()
    for e in events:
        user = e["user_id"]
        if e["name"] == "comment_added":
            author = posts.get(e["properties"]["post_id"])
            user = author if author != e["user_id"] else None
        elif not (e["name"] in ("room_joined", "post_published", "cards_drawn")
                  or (e["name"] == "level_changed" and e["properties"]["level_after"] >= 2)):
            continue
        if user is not None and e["day"] == cohort[user]:
            took_part.add(user)
    groups = {True: [0, 0], False: [0, 0]}
    for user, day in cohort.items():
        if FROM <= day <= TO and day + timedelta(days=7) < TODAY:
            group = groups[user in took_part]
            group[0] += 1
            group[1] += day + timedelta(days=7) in active[user]
    served = admin.get(f"/api/admin/analytics/community-effect?{RANGE}").get_json()
    assert [served["community"]["users"], served["community"]["retained"]] == groups[True]
    assert [served["others"]["users"], served["others"]["retained"]] == groups[False]
    assert served["difference"]["value"] == pytest.approx(
        groups[True][1] / groups[True][0] - groups[False][1] / groups[False][0])

    summary = admin.get(f"/api/admin/analytics/retention?period=day&mode=on&{RANGE}"
                        ).get_json()["summary"]
    for n in (1, 7, 30):
        done = [u for u, d in cohort.items() if FROM <= d <= TO and d + timedelta(days=n) < TODAY]
        back = sum(cohort[u] + timedelta(days=n) in active[u] for u in done)
        assert summary[str(n)] == (pytest.approx(back / len(done)) if done else None), n


def test_experiment_arms_from_the_export(export):
    admin, events = export
    active = _active(events)
    arms = defaultdict(list)
    for user, days in active.items():
        if min(days) + timedelta(days=7) < TODAY:
            point = int.from_bytes(hashlib.sha256(f"welcome_tour:{user}".encode()).digest()[:8],
                                   "big") / 2 ** 64
            arms["control" if point < 0.5 else "tour"].append(user)
    served = admin.get("/api/admin/experiments/welcome_tour?dataset=demo").get_json()["arms"]
    for arm in served:
        users = arms[arm["arm"]]
        assert arm["users"] == len(users)
        assert arm["d7"]["retained"] == sum(min(active[u]) + timedelta(days=7) in active[u]
                                            for u in users)
