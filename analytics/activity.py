"""Daily, weekly and monthly active users, per UTC day (docs/analytics.md):
DAU(d) = users with an event on day d; WAU(d) = on d or the 6 days before; MAU(d) = on d or the
29 days before; stickiness = DAU / MAU. The current day is not over: it is marked incomplete."""
from collections import Counter
from datetime import date

from sqlmodel import Session

from core.errors import KindredError
from analytics import days

WEEK, MONTH = 7, 30
MAX_DAYS = 400


def activity(session: Session, first: date, last: date, today: date, dataset: str) -> dict:
    """{days: [{day, dau, wau, mau, stickiness, incomplete}]} for first..last, both included."""
    check_range(first, last)
    lo, hi = days.number(first), days.number(last)
    by_day: dict[int, set[int]] = {}
    for user, active in days.active_days(session, dataset, lo - MONTH + 1, hi).items():
        for n in active:
            by_day.setdefault(n, set()).add(user)
    weekly, monthly = Counter(), Counter()  # user -> active days inside the window
    rows = []
    for n in range(lo - MONTH + 1, hi + 1):
        _slide(weekly, by_day, n, WEEK)
        _slide(monthly, by_day, n, MONTH)
        if n < lo:
            continue
        dau, mau = len(by_day.get(n, ())), len(monthly)
        rows.append({"day": days.day_of(n).isoformat(), "dau": dau, "wau": len(weekly),
                     "mau": mau, "stickiness": dau / mau if mau else None,
                     "incomplete": days.day_of(n) >= today})
    return {"dataset": dataset, "days": rows}


def check_range(first: date, last: date) -> None:
    if first > last:
        raise KindredError("bad_request", "'from' must not be after 'to'.")
    if (last - first).days >= MAX_DAYS:
        raise KindredError("bad_request", f"At most {MAX_DAYS} days at once; narrow 'from' "
                                          "and 'to'.")


def _slide(window: Counter, by_day: dict[int, set[int]], n: int, width: int) -> None:
    """Move a window of `width` days so that it ends on day n."""
    window.update(by_day.get(n, ()))
    for user in by_day.get(n - width, ()):
        window[user] -= 1
        if not window[user]:
            del window[user]
