"""Cohort retention from the event log, as Amplitude and PostHog define it (docs/analytics.md).

A user's cohort is the UTC day (or ISO week, Monday first) of their first logged event; every
logged event with a user counts as activity. For cohort day C and N = 0, 1, ...:
- mode "on": the share of the cohort active on day C + N;
- mode "on_or_after": the share active on day C + N or on any later day.
Day N of a cohort is the UTC calendar day N after the cohort day (not 24-hour spans), and a week
the ISO week. A cell whose day (week) is not over yet is incomplete: its value is None and its
index is listed in `incomplete`. Cells run from N = 0 to the current day (week).

The counting happens in SQL that runs on SQLite and PostgreSQL, over the daily rollup
analytics_user_day (one row per user and UTC day with an event: analytics/models.py), not over
the events; only the per-cohort suffix sums of "on_or_after" are done here. `utc_day`, below, is
the UTC day of a timestamp in SQL, for the reads that still need the events."""
from datetime import date, timedelta
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session

from core.errors import KindredError
from analytics.datasets import LIVE
from analytics.models import EPOCH, AnalyticsUserDay

PERIODS = ("day", "week")
MODES = ("on", "on_or_after")
MAX_COHORTS = 400
SUMMARY_CELLS = (1, 7, 30)
USER_DAY = AnalyticsUserDay.__table__.c


def retention(session: Session, period: str, mode: str, first: date, last: date,
              today: date, dataset: str = LIVE) -> dict:
    """{period, mode, cohorts: [{start, size, values, counts, incomplete}]} for the cohorts whose
    day (week) starts between `first` and `last`, both included; `today` is the current UTC day."""
    check_params(period, mode, first, last)
    lo, hi, now = bucket_of(period, first), bucket_of(period, last), bucket_of(period, today)
    counts = _counts(session, period, mode, lo, hi, dataset)
    cohorts = []
    for cohort in sorted(counts):
        cells = [counts[cohort].get(n, 0) for n in range(now - cohort + 1)]
        if not cells:
            continue  # a cohort from events stamped in the future
        if mode == "on_or_after":
            cells = _suffix_sums(cells, counts[cohort])
        size = cells[0]
        incomplete = [len(cells) - 1]  # the current day (week) is not over
        cohorts.append({
            "start": start_of(period, cohort).isoformat(),
            "size": size,
            "values": [None if n in incomplete else cells[n] / size for n in range(len(cells))],
            "counts": cells,
            "incomplete": incomplete,
        })
    return {"period": period, "mode": mode, "dataset": dataset, "cohorts": cohorts,
            "summary": summary(cohorts)}


def summary(cohorts: list[dict], cells=SUMMARY_CELLS) -> dict:
    """{"1": D1, "7": D7, "30": D30}: over the cohorts whose cell N is complete, the users counted
    in it divided by those cohorts' sizes (None when no cohort has it yet). Days, or weeks."""
    result = {}
    for n in cells:
        done = [c for c in cohorts if n < len(c["counts"]) and n not in c["incomplete"]]
        size = sum(c["size"] for c in done)
        result[str(n)] = sum(c["counts"][n] for c in done) / size if size else None
    return result


def check_params(period: str, mode: str, first: date, last: date) -> None:
    if period not in PERIODS:
        raise KindredError("bad_request", f"'period' is one of {', '.join(PERIODS)}.")
    if mode not in MODES:
        raise KindredError("bad_request", f"'mode' is one of {', '.join(MODES)}.")
    if first > last:
        raise KindredError("bad_request", "'from' must not be after 'to'.")
    if bucket_of(period, last) - bucket_of(period, first) >= MAX_COHORTS:
        raise KindredError("bad_request", f"At most {MAX_COHORTS} cohorts at once; narrow "
                                          "'from' and 'to'.")


def bucket_of(period: str, day: date) -> int:
    """The day number since 1970-01-01 (period day), or the ISO week number since that week."""
    days = (day - EPOCH).days
    return days if period == "day" else (days + 3) // 7  # 1969-12-29, a Monday, starts week 0


def start_of(period: str, bucket: int) -> date:
    return EPOCH + timedelta(days=bucket if period == "day" else bucket * 7 - 3)


class utc_day(FunctionElement):
    """The UTC calendar day of a timestamp, as days since 1970-01-01 (an integer)."""
    type = sa.Integer()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element, compiler, **kw):
    # SQLite stores the UTC time as text; julianday('1970-01-01') is 2440587.5.
    return f"CAST(julianday(date({compiler.process(element.clauses, **kw)})) - 2440587.5 AS INTEGER)"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"(CAST(timezone('UTC', {value}) AS DATE) - DATE '1970-01-01')"


def _bucket(period: str, day):
    return day if period == "day" else (day + 3) // 7


def _counts(session: Session, period: str, mode: str, lo: int, hi: int,
            dataset: str) -> dict[int, dict[int, int]]:
    """{cohort: {N: users}}: users active on cohort + N ("on"), or whose last active day is
    cohort + N ("on_or_after", summed from the end by the caller), for the cohorts lo..hi.

    One pass over the daily rollup analytics_user_day (the distinct (user, UTC day) pairs of the
    log) in the order of its primary key (dataset, user_id, day), with no join, sort or
    distinct: over each user's days in order, the first is the cohort's; "on" counts a day whose
    period (week) differs from the previous day's, "on_or_after" only the user's last day."""
    # One window for all three functions, so PostgreSQL computes them in one node (lag and lead
    # ignore the frame; first_value's ROWS frame is cheaper than the default RANGE one).
    order = {"partition_by": USER_DAY.user_id, "order_by": USER_DAY.day, "rows": (None, 0)}
    cohort = _bucket(period, sa.func.first_value(USER_DAY.day).over(**order))
    bucket = _bucket(period, USER_DAY.day)
    columns = [cohort.label("cohort"), (bucket - cohort).label("n")]
    if mode == "on_or_after":
        columns.append(sa.func.lead(USER_DAY.day).over(**order).label("next"))
    elif period != "day":
        columns += [_bucket(period, sa.func.lag(USER_DAY.day).over(**order)).label("previous"),
                    bucket.label("bucket")]
    cells = sa.select(*columns).where(USER_DAY.dataset == dataset).subquery("cells")
    query = sa.select(cells.c.cohort, cells.c.n, sa.func.count()).group_by(cells.c.cohort,
                                                                           cells.c.n)
    if mode == "on_or_after":
        query = query.where(cells.c.next.is_(None))  # the user's last day
    elif period != "day":  # the first day of the user's in each week: (user, day) is the key
        query = query.where(sa.or_(cells.c.previous.is_(None),
                                   cells.c.previous != cells.c.bucket))
    counts: dict[int, dict[int, int]] = {}
    for cohort_bucket, offset, users in session.execute(query):
        if lo <= cohort_bucket <= hi:  # here, not in SQL: a filter on a window misleads the plan
            counts.setdefault(int(cohort_bucket), {})[int(offset)] = int(users)
    return counts


def _suffix_sums(cells: list[int], by_latest: dict[int, int]) -> list[int]:
    """cells[N] = users whose latest active day is N or later (latest days past the grid, from
    events stamped in the future, count for every cell)."""
    beyond = sum(count for n, count in by_latest.items() if n >= len(cells))
    sums, running = [0] * len(cells), beyond
    for n in range(len(cells) - 1, -1, -1):
        running += cells[n]
        sums[n] = running
    return sums
