"""The simulation fills the demo data set only, through the event log's writer, the same seed
giving the same rows; the population it makes churns (D1 > D7 > D30) and comes back more at
weekends; `flask --app app.cli analytics simulate` runs it."""
import json
from datetime import date, datetime, timezone

from analytics.export import export_lines
from analytics.simulate import simulate
from app import cli
from config import Config

NOW = datetime(2026, 12, 10, 15, 0, tzinfo=timezone.utc)


def _rows(db, dataset):
    return [{k: v for k, v in json.loads(line).items() if k != "id"}
            for line in export_lines(db, dataset=dataset)]


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(app, person, event_log):
    db = app.extensions["kindred.db"]
    person("user")  # a real user: their rows must stay as they are
    assert event_log.flush()
    live = _rows(db, "live")
    assert len(live) == 2
    first = simulate(db, 40, 15, seed=5, now=NOW)
    rows = _rows(db, "demo")
    assert first.events == len(rows) > 40 and first.first_day == date(2026, 11, 26)
    simulate(db, 40, 15, seed=5, now=NOW)
    assert _rows(db, "demo") == rows  # replaced, not added to: the same rows, session ids too
    simulate(db, 40, 15, seed=6, now=NOW)
    assert _rows(db, "demo") != rows
    assert _rows(db, "live") == live  # the real log is untouched
    assert all(row["dataset"] == "demo" for row in _rows(db, "demo"))
    assert max(row["occurred_at"] for row in rows) < NOW.isoformat()
    assert len({row["session_id"] for row in rows}) > 40  # sessions assigned by the writer


def test_the_demo_population_churns_and_comes_back_more_at_weekends(app, admin_at):
    admin = admin_at(NOW)
    simulate(app.extensions["kindred.db"], 600, 60, seed=1, now=NOW)
    summary = admin.get("/api/admin/analytics/retention?period=day&mode=on&dataset=demo"
                        "&from=2026-10-12&to=2026-12-10").get_json()["summary"]
    assert summary["1"] > summary["7"] > summary["30"] > 0
    days = admin.get("/api/admin/analytics/activity?dataset=demo&from=2026-11-01"
                     "&to=2026-12-09").get_json()["days"]
    weekend = [d["stickiness"] for d in days if date.fromisoformat(d["day"]).weekday() >= 5]
    weekdays = [d["stickiness"] for d in days if date.fromisoformat(d["day"]).weekday() < 5]
    assert sum(weekend) / len(weekend) > 1.1 * sum(weekdays) / len(weekdays)
    live = admin.get("/api/admin/analytics/activity?from=2026-12-01&to=2026-12-09").get_json()
    assert all(d["mau"] == 0 for d in live["days"])  # no simulated user among the real ones


def test_the_cli_fills_the_demo_data_set(app, monkeypatch):
    monkeypatch.setattr(Config, "DATABASE_URL", app.config["DATABASE_URL"])
    result = cli.app.test_cli_runner().invoke(args=["analytics", "simulate", "--users", "25",
                                                    "--days", "10", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Simulated 25 users" in result.output and "demo" in result.output
    assert _rows(app.extensions["kindred.db"], "demo")
    refused = cli.app.test_cli_runner().invoke(args=["analytics", "simulate", "--users", "0"])
    assert refused.exit_code != 0
