"""Cohort retention on a hand-made event set, the answer worked out by hand, in both modes and
both periods, on SQLite and PostgreSQL; and the endpoint's guards and bad input.

The set (UTC; today is Thursday 2026-12-10, 12:00; 2026-12-01 is a Tuesday):

    user  events on                        cohort day   last day
    101   12-01 10:00, 12-02 23:59, 12-04  12-01        12-04 (N3)
    102   12-01 23:30, 12-02 00:10         12-01        12-02 (N1: 40 minutes later, but the
                                                        next calendar day)
    103   12-01 08:00, 12-08               12-01        12-08 (N7)
    104   12-01 12:00 (twice)              12-01        12-01 (N0)
    105   12-02 09:00, 12-03, 12-10        12-02        12-10 (N8, today)
    106   12-02 11:00, 12-05               12-02        12-05 (N3)
    107   12-09, 12-10                     12-09        12-10 (N1, today)
    108   11-20, 12-01, 12-02              11-20: before `from`, in no cohort asked for
    none  12-03 (a character published)    no user: not activity

Day cohorts from 12-01 to 12-10, cells N = 0 .. today (the last one incomplete):
  12-01, size 4 (101-104)
    on:          active on N = 0: 4, 1: 101 102, 3: 101, 7: 103
                 counts [4, 2, 0, 1, 0, 0, 0, 1, 0, 0]      (N9 = 12-10 incomplete)
    on_or_after: last day >= N: N0 4, N1 3 (101 102 103), N2 2, N3 2, N4-N7 1 (103), N8 0
                 counts [4, 3, 2, 2, 1, 1, 1, 1, 0, 0]
  12-02, size 2 (105 106)
    on:          N0 2, N1 105, N3 106, N8 105 (today)  counts [2, 1, 0, 1, 0, 0, 0, 0, 1]
    on_or_after: N0-N3 2, N4-N8 1 (105)                counts [2, 2, 2, 2, 1, 1, 1, 1, 1]
  12-09, size 1 (107): counts [1, 1] in both modes
Week cohorts (ISO weeks from Monday) for from=12-01: the week of 11-30 (101-106, size 6) and that
of 12-07 (107); this week (12-07 .. 12-13) is not over:
  11-30: N0 6, N1 2 (103 on 12-08, 105 on 12-10) in both modes; N1 incomplete
  12-07: N0 1, incomplete."""
from datetime import datetime, timezone

import pytest

from tests.analytics.conftest import insert_events


def at(day: str, time: str = "12:00") -> datetime:
    return datetime.fromisoformat(f"2026-{day}T{time}").replace(tzinfo=timezone.utc)


HAND_MADE = [
    (101, "message_sent", at("12-01", "10:00")), (101, "message_sent", at("12-02", "23:59")),
    (101, "swipe_made", at("12-04")),
    (102, "user_signed_up", at("12-01", "23:30")), (102, "message_sent", at("12-02", "00:10")),
    (103, "user_signed_up", at("12-01", "08:00")), (103, "message_sent", at("12-08")),
    (104, "user_signed_up", at("12-01")), (104, "message_sent", at("12-01")),
    (105, "user_signed_up", at("12-02", "09:00")), (105, "cards_drawn", at("12-03")),
    (105, "message_sent", at("12-10", "08:00")),
    (106, "user_signed_up", at("12-02", "11:00")), (106, "message_sent", at("12-05")),
    (107, "user_signed_up", at("12-09")), (107, "message_sent", at("12-10", "07:00")),
    (108, "user_signed_up", at("11-20")), (108, "message_sent", at("12-01")),
    (108, "message_sent", at("12-02")),
    (None, "character_published", at("12-03")),
]

EXPECTED = {
    ("day", "on"): [("2026-12-01", [4, 2, 0, 1, 0, 0, 0, 1, 0, 0]),
                    ("2026-12-02", [2, 1, 0, 1, 0, 0, 0, 0, 1]),
                    ("2026-12-09", [1, 1])],
    ("day", "on_or_after"): [("2026-12-01", [4, 3, 2, 2, 1, 1, 1, 1, 0, 0]),
                             ("2026-12-02", [2, 2, 2, 2, 1, 1, 1, 1, 1]),
                             ("2026-12-09", [1, 1])],
    ("week", "on"): [("2026-11-30", [6, 2]), ("2026-12-07", [1])],
    ("week", "on_or_after"): [("2026-11-30", [6, 2]), ("2026-12-07", [1])],
}


@pytest.fixture
def admin(person, event_log, clock, app):
    clock.now = at("01-05")  # the admin's own sign-up: a cohort long before the ones asked for
    made = person("admin")
    assert event_log.flush()
    insert_events(app, HAND_MADE)
    clock.now = at("12-10")
    return made


@pytest.mark.both_databases
@pytest.mark.parametrize("period, mode", sorted(EXPECTED))
def test_retention_matches_the_hand_worked_answer(admin, period, mode):
    response = admin.get(f"/api/admin/analytics/retention?period={period}&mode={mode}"
                         "&from=2026-12-01&to=2026-12-10")
    assert response.status_code == 200, response.get_json()
    cohorts = response.get_json()["cohorts"]
    assert [(c["start"], c["counts"]) for c in cohorts] == EXPECTED[period, mode]
    for cohort in cohorts:
        last = len(cohort["counts"]) - 1
        assert cohort["size"] == cohort["counts"][0]
        assert cohort["incomplete"] == [last] and cohort["values"][last] is None
        assert cohort["values"][:last] == [n / cohort["size"] for n in cohort["counts"][:last]]


@pytest.mark.both_databases
def test_day_one_counts_the_next_calendar_day_not_24_hours(admin):
    cohorts = admin.get("/api/admin/analytics/retention?period=day&mode=on"
                        "&from=2026-12-01&to=2026-12-01").get_json()["cohorts"]
    assert cohorts[0]["values"][1] == 0.5  # 101 (a day and 14 hours on) and 102 (40 minutes on)


def test_retention_is_for_admins_only(app, person):
    path = "/api/admin/analytics/retention?period=day&mode=on"
    assert app.test_client().get(path).status_code == 401
    for role in ("user", "moderator"):
        response = person(role).get(path)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert person("admin").get(path).status_code == 200


BAD_QUERIES = ("period=month", "mode=ever", "period=day&from=2026-13-01", "from=yesterday",
               "from=2026-12-10&to=2026-12-01", "period=day&from=2020-01-01&to=2026-12-01")


def test_bad_retention_params_are_400_with_a_json_error(admin):
    for query in BAD_QUERIES:
        response = admin.get(f"/api/admin/analytics/retention?{query}")
        assert response.status_code == 400, query
        error = response.get_json()["error"]
        assert error["code"] == "bad_request" and error["message"], query


@pytest.mark.both_databases
def test_the_d1_d7_d30_summary_counts_complete_cells_only(admin):
    """D1: cohorts 12-01 (2 of 4) and 12-02 (1 of 2); 12-09's day 1 is today: (2 + 1) / 6.
    D7: 12-01 (1: user 103 on 12-08) and 12-02 (0) -> 1 / 6. D30: no cohort is that old."""
    summary = admin.get("/api/admin/analytics/retention?period=day&mode=on"
                        "&from=2026-12-01&to=2026-12-10").get_json()["summary"]
    assert summary == {"1": 0.5, "7": pytest.approx(1 / 6), "30": None}
    unbounded = admin.get("/api/admin/analytics/retention?period=day&mode=on_or_after"
                          "&from=2026-12-01&to=2026-12-10").get_json()["summary"]
    assert unbounded["1"] == pytest.approx((3 + 2) / 6)  # last day >= 1: 101 102 103, 105 106
