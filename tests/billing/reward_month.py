"""A hand-made November 2026 for creator rewards, with the answer worked out by hand.

Creators: A (characters A1, A2), B (B1), C (C1). Every chat is a `message_sent` at 12:00 UTC.
  p1  paying all month. A1: Oct 30 (before the month), Nov 3, 4, 10 -> 3 retained days.
      A2: Nov 4 (first: a try), 5, 10 -> 2. For A, (p1, Nov 10) counts once: A gets 4.
      C1: Nov 1 (first), 2 -> C gets 1. Dec 1 chats and p1's demo-data-set rows do not count.
  p2  paying from Nov 15 12:00. B1: Nov 10 (first), 12 (not paying yet), 15, 16 -> B gets 2.
  p3  paying, one day only: twenty messages to B1 on Nov 20 -> 0.
  p4  paying until Nov 8 00:00 exactly. B1: Nov 6 (first), 7, 8 (lapsed) -> B gets 1.
  free, never paying. A1: Nov 1, 2, 3 -> 0.
  A   themself, paying. A1: Nov 1, 2, 3 -> excluded (own use).
  alt A's alt (the same sign-up fingerprint), paying. A1: Nov 1, 2, 3 -> excluded;
      B1: Nov 1, 2 -> B gets 1 (an alt of A is not B's).
Retained user-days: A 4, B 4, C 1 = 9. Pool 1000: A 4000/9 = 444 r4, B 444 r4, C 111 r1;
999 paid, 1 left: the largest remainder, a tie between A and B (4 user-days each), goes to the
lower creator id, A. Payouts: A 445, B 444, C 111."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import Session

from billing.grants import grant
from core.users import User
from tests.analytics.conftest import insert_rows
from tests.billing.conftest import TIERS
from tests.moderation.conftest import Person

POOL = 1000
TODAY = date(2026, 12, 2)
EXPECTED_GEMS = {"A": 445, "B": 444, "C": 111}
EXPECTED_DAYS = {"A": 4, "B": 4, "C": 1}


@dataclass
class Month:
    people: dict       # name -> Person
    characters: dict   # name -> character id

    def id(self, name: str) -> int:
        return self.people[name].id


def at(month: int, day: int, hour: int = 12, year: int = 2026) -> datetime:
    return datetime.combine(date(year, month, day), time(hour), tzinfo=timezone.utc)


def build(app) -> Month:
    people = {name: Person(app) for name in ("A", "B", "C", "p1", "p2", "p3", "p4", "free",
                                             "alt")}
    characters = {"A1": people["A"].character(name="A1"), "A2": people["A"].character(name="A2"),
                  "B1": people["B"].character(name="B1"), "C1": people["C"].character(name="C1")}
    month = Month(people, characters)
    with Session(app.extensions["kindred.db"]) as session:
        for index, person in enumerate(people.values()):  # everyone signed up somewhere else...
            session.get(User, person.id).signup_fingerprint = f"{index:064x}"
        session.get(User, month.id("alt")).signup_fingerprint = f"{0:064x}"  # ...but A's alt
        session.commit()
        for name in ("p1", "p3", "A", "alt"):
            plus(session, month.id(name), at(10, 1), 61)       # Oct 1 to Dec 1
        plus(session, month.id("p2"), at(11, 15), 30)           # from Nov 15 12:00
        plus(session, month.id("p4"), at(11, 1, 0), 7)          # Nov 1 00:00 to Nov 8 00:00

    def chats(who, character, *days, dataset="live"):
        return [(month.id(who), "message_sent", day if isinstance(day, datetime) else at(11, day),
                 f"s{who}", {"character_id": characters[character], "chars": 5}) for day in days]

    rows = (chats("p1", "A1", at(10, 30), 3, 4, 10, at(12, 1)) + chats("p1", "A2", 4, 5, 10)
            + chats("p1", "C1", 1, 2) + chats("p2", "B1", 10, 12, 15, 16)
            + chats("p3", "B1", *[at(11, 20, 0) + timedelta(minutes=m) for m in range(20)])
            + chats("p4", "B1", 6, 7, 8) + chats("free", "A1", 1, 2, 3)
            + chats("A", "A1", 1, 2, 3) + chats("alt", "A1", 1, 2, 3) + chats("alt", "B1", 1, 2))
    insert_rows(app, rows)
    insert_rows(app, chats("p1", "B1", 2, 3, 4), dataset="demo")
    return month


def plus(session, user_id: int, when: datetime, days: int) -> None:
    grant(session, TIERS, user_id, "plus", days, "admin", f"test:{user_id}:{when.isoformat()}",
          {}, now=when)
