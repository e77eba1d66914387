"""What the community adds: D7 retention of the users who, on their first day, took part in the
community, against those who did not, with the difference and its 95% confidence interval
(docs/analytics.md).

A user's first day is the UTC day of their first event (their cohort day, as for retention).
They took part if on that day they joined a room (`room_joined`), posted (`post_published`),
received a comment on a post of theirs from someone else (`comment_added`), drew cards
(`cards_drawn`) or reached relationship level 2 (`level_changed` with `level_after` >= 2).
Retained on D7: any event on the 7th UTC day after the cohort day (retention's mode "on").
`from`..`to` pick users by cohort day; those whose day 7 is not over are left out (`pending`).
Each group's rate has a Wilson interval, the difference Newcombe's (analytics.stats)."""
from datetime import date

from sqlmodel import Session

from analytics import days
from analytics.activity import check_range
from analytics.funnels import COMMENTED, POSTED, received_comments
from analytics.stats import difference_of_proportions, proportion

RETAINED_ON = 7
BEHAVIOURS = ("joined_room", "posted", "received_comment", "drew_cards", "reached_level_2")
ROOM_JOINED = "room_joined"
CARDS_DRAWN, LEVEL_CHANGED = "cards_drawn", "level_changed"


def community_effect(session: Session, first: date, last: date, today: date,
                     dataset: str) -> dict:
    check_range(first, last)
    lo, hi, now = days.number(first), days.number(last), days.number(today)
    cohort = {user: day for user, day in days.first_days(session, dataset).items()
              if lo <= day <= hi}
    complete = {user: day for user, day in cohort.items() if day + RETAINED_ON < now}
    active = days.active_days(session, dataset, lo + RETAINED_ON, hi + RETAINED_ON)
    retained = {user for user, day in complete.items()
                if day + RETAINED_ON in active.get(user, ())}
    did = first_day_behaviours(session, dataset, complete, lo, hi)
    exposed = {user for user in complete if did.get(user)}
    unexposed = set(complete) - exposed
    k1, n1 = len(exposed & retained), len(exposed)
    k0, n0 = len(unexposed & retained), len(unexposed)
    return {
        "dataset": dataset, "retained_on_day": RETAINED_ON,
        "pending": len(cohort) - len(complete),
        "community": proportion(k1, n1), "others": proportion(k0, n0),
        "difference": difference_of_proportions(k1, n1, k0, n0),
        "behaviours": [{"name": name, **proportion(
            len({u for u in exposed if name in did[u]} & retained),
            len({u for u in exposed if name in did[u]}))} for name in BEHAVIOURS],
    }


def first_day_behaviours(session: Session, dataset: str, cohort: dict[int, int], lo: int,
                         hi: int) -> dict:
    """{user: {behaviours on their cohort day}} for the users of `cohort` ({user: day}), whose
    cohort days are within lo..hi."""
    rows = days.events_named(session, dataset,
                             (ROOM_JOINED, POSTED, COMMENTED, CARDS_DRAWN, LEVEL_CHANGED), lo, hi)
    did: dict[int, set[str]] = {}

    def note(user, at, behaviour):
        if user in cohort and days.day_number_of(at) == cohort[user]:
            did.setdefault(user, set()).add(behaviour)

    for user, name, at, props in rows:
        props = props or {}
        if name == ROOM_JOINED:
            note(user, at, "joined_room")
        elif name == POSTED:
            note(user, at, "posted")
        elif name == CARDS_DRAWN:
            note(user, at, "drew_cards")
        elif name == LEVEL_CHANGED and (props.get("level_after") or 0) >= 2:
            note(user, at, "reached_level_2")
    for author, times in received_comments(rows).items():
        for at in times:
            note(author, at, "received_comment")
    return did
