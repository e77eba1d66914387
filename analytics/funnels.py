"""Three funnels, each: an entering event -> a second step within 24 hours -> a return on day 1
(docs/analytics.md).

- signup:  user_signed_up -> message_sent (their first chat) -> return on D1
- swipe:   swipe_made -> message_sent -> return on D1
- post:    post_published -> comment_added on a post of theirs by someone else -> return on D1

A user enters a funnel with their first entering event in the data set; `from`..`to` pick users by
the UTC day of that event. The second step must come at or after the entering event and at most
24 hours later. "Return on D1" is any event of the user's on the UTC calendar day after the day
they entered (as retention's day 1). Users whose day 1 is not over yet are left out and counted
in `pending`. The names are those of the log (analytics.catalog); a funnel whose events the log
does not hold yet has no users."""
from datetime import date, timedelta

from sqlmodel import Session

from analytics import days
from analytics.activity import check_range

WINDOW = timedelta(hours=24)
SIGNED_UP, MESSAGE, SWIPE = "user_signed_up", "message_sent", "swipe_made"
POSTED, COMMENTED = "post_published", "comment_added"
FUNNELS = (
    ("signup", ("signed up", "first chat", "returned on D1")),
    ("swipe", ("swiped", "chatted", "returned on D1")),
    ("post", ("posted", "comment received", "returned on D1")),
)


def funnels(session: Session, first: date, last: date, today: date, dataset: str) -> dict:
    """{funnels: [{name, steps: [{name, users, of_previous, of_first}], pending}]}"""
    check_range(first, last)
    lo, hi, now = days.number(first), days.number(last), days.number(today)
    # Second steps come within 24 hours of an entering event on days lo..hi: by day hi + 1.
    rows = days.events_named(session, dataset, (MESSAGE, POSTED, COMMENTED), lo, hi + 1)
    firsts = {name: days.first_times(session, dataset, event, lo, hi) for name, event in
              (("signup", SIGNED_UP), ("swipe", SWIPE), ("post", POSTED))}
    messages = _times_by_user(rows, MESSAGE)
    comments_received = received_comments(rows)
    active = days.active_days(session, dataset, lo + 1, hi + 1)
    report = []
    for name, labels in FUNNELS:
        entering = firsts[name]
        second = messages if name != "post" else comments_received
        counts, pending = [0, 0, 0], 0
        for user, at in entering.items():
            day = days.day_number_of(at)
            if day + 1 >= now:  # day 1 is not over
                pending += 1
                continue
            counts[0] += 1
            if not any(at <= t <= at + WINDOW for t in second.get(user, ())):
                continue
            counts[1] += 1
            if day + 1 in active.get(user, ()):
                counts[2] += 1
        report.append({"name": name, "steps": _steps(labels, counts), "pending": pending})
    return {"dataset": dataset, "funnels": report}


def _times_by_user(rows, name: str) -> dict:
    times: dict = {}
    for user, event, at, _ in rows:
        if event == name and user is not None:
            times.setdefault(user, []).append(at)
    return times


def received_comments(rows) -> dict:
    """{author: [times of the comments others (people or characters) left on their posts]},
    from rows (user_id, name, occurred_at, properties) holding the posts and the comments."""
    authors = {(props or {}).get("post_id"): user for user, event, _, props in rows
               if event == POSTED and user is not None}
    received: dict = {}
    for user, event, at, props in rows:
        if event != COMMENTED:
            continue
        author = authors.get((props or {}).get("post_id"))
        if author is not None and author != user:
            received.setdefault(author, []).append(at)
    return received


def _steps(labels, counts) -> list:
    steps = []
    for i, (label, users) in enumerate(zip(labels, counts)):
        previous = counts[i - 1] if i else users
        steps.append({"name": label, "users": users,
                      "of_previous": users / previous if previous else None,
                      "of_first": users / counts[0] if counts[0] else None})
    return steps
