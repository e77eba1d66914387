"""events.jsonl holds exactly what retention is computed from: recomputing retention from the
export, in plain Python, gives the endpoint's numbers; it streams, reads in pages, and is
for admins only."""
import json
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from analytics.export import export_lines
from tests.analytics.test_retention import EXPECTED, admin  # noqa: F401  (a fixture)


@pytest.mark.both_databases
def test_retention_recomputed_from_the_export_gives_the_same_numbers(admin):  # noqa: F811
    response = admin.get("/api/admin/analytics/events.jsonl")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/x-ndjson"
    events = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    for period, mode in sorted(EXPECTED):
        served = admin.get(f"/api/admin/analytics/retention?period={period}&mode={mode}"
                           "&from=2026-12-01&to=2026-12-10").get_json()["cohorts"]
        recomputed = _retention(events, period, mode, date(2026, 12, 1), date(2026, 12, 10),
                                today=date(2026, 12, 10))
        assert [(c["start"], c["size"], c["values"]) for c in served] == recomputed


def test_the_export_reads_in_pages_and_keeps_to_since_and_until(app, admin):  # noqa: F811
    db = app.extensions["kindred.db"]
    every = list(export_lines(db))
    assert len(every) == 22  # the hand-made 20 and the admin's sign-up
    assert list(export_lines(db, page_size=3)) == every  # in 8 pages, the same rows
    response = admin.get("/api/admin/analytics/events.jsonl?since=2026-12-02&until=2026-12-03"
                         "T00:00:00Z")
    lines = response.get_data(as_text=True).splitlines()
    rows = [(json.loads(line)["user_id"], json.loads(line)["occurred_at"]) for line in lines]
    assert sorted(rows) == [(101, "2026-12-02T23:59:00+00:00"), (102, "2026-12-02T00:10:00+00:00"),
                            (105, "2026-12-02T09:00:00+00:00"), (106, "2026-12-02T11:00:00+00:00"),
                            (108, "2026-12-02T12:00:00+00:00")]  # since included, until not


def test_the_export_is_for_admins_only_and_refuses_bad_times(app, person):
    path = "/api/admin/analytics/events.jsonl"
    assert app.test_client().get(path).status_code == 401
    assert person("user").get(path).status_code == 403
    admin_person = person("admin")
    for query in ("since=soon", "until=2026-12-01T25:00", "since=2026-12-02&until=2026-12-01"):
        response = admin_person.get(f"{path}?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == "bad_request"


def _retention(events, period, mode, first, last, today):
    """docs/analytics.md's definition, straight from the rows: [(start, size, values)]."""
    def bucket(day: date) -> date:
        return day if period == "day" else day - timedelta(days=day.weekday())
    step = timedelta(days=1 if period == "day" else 7)
    active = defaultdict(set)
    for event in events:
        if event["user_id"] is not None:
            day = datetime.fromisoformat(event["occurred_at"]).date()
            active[event["user_id"]].add(bucket(day))
    cohorts = defaultdict(list)
    for days in active.values():
        if bucket(first) <= min(days) <= bucket(last):
            cohorts[min(days)].append(days)
    result = []
    for start in sorted(cohorts):
        users, cells = cohorts[start], (bucket(today) - start) // step + 1
        values = []
        for n in range(cells):
            day = start + n * step
            hit = [u for u in users if (day in u if mode == "on" else max(u) >= day)]
            values.append(None if n == cells - 1 else len(hit) / len(users))
        result.append((start.isoformat(), len(users), values))
    return result
