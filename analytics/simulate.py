"""A simulated population for the demo data set (`flask --app app.cli analytics simulate`), so
the dashboards show something on a fresh install. It is written through the event log's own
writer (sessions, batches) into dataset 'demo', never 'live': every endpoint shows it only when
asked with ?dataset=demo, and the page labels it as simulated. The same seed gives the same
rows (times, properties and session ids).

The model, per user (ids 1..N of the demo set, unrelated to real accounts):
- sign-ups grow over the simulated days (the last day gets about twice the first's);
- about 15% are plus members, who come back more often and chat longer;
- on the first day some take part in the community (post, join a room, draw cards, reach
  relationship level 2); their posts get comments from characters;
- on day n >= 1 a user comes back with probability propensity * 0.45 * (n + 1) ** -0.5 (a
  power-law churn curve: about 32% on D1, 16% on D7, 8% on D30 before the multipliers), times
  1.25 on Saturdays and Sundays, 1.6 for members, 1.35 after taking part in the community and
  1.1 in the 'tour' arm of the demo experiment `welcome_tour`."""
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa

from core.db import session_scope
from analytics.datasets import DEMO
from analytics.experiments import arm_of
from analytics.models import AnalyticsEvent, AnalyticsUserDay
from analytics.sessions import Sessions
from analytics.writer import EventLog, Pending

DEMO_EXPERIMENTS = {"welcome_tour": {"arms": {"control": 50, "tour": 50}}}
BATCH = 5000
CHARACTERS = 12
LEVEL_THRESHOLD_DAYS = 3


@dataclass
class Summary:
    users: int
    events: int
    first_day: date
    last_day: date


def simulate(db, users: int, days: int, seed: int, now: datetime,
             session_gap: timedelta = timedelta(minutes=30)) -> Summary:
    """Replace the demo data set with `users` simulated users over the `days` UTC days ending
    with `now`'s (no event after `now`)."""
    if users < 1 or days < 1:
        raise ValueError("users and days must be at least 1")
    rng = random.Random(seed)
    first_day = now.date() - timedelta(days=days - 1)
    population = _Population(rng, first_day, days, now)
    for user_id in range(1, users + 1):
        population.add_user(user_id, _signup_day(rng, days))
    events = sorted(population.events, key=lambda e: e.occurred_at)
    clear(db)
    sessions = Sessions(session_gap, dataset=DEMO, new_id=lambda: f"{rng.getrandbits(128):032x}")
    writer = EventLog(db, lambda task: None, dataset=DEMO, sessions=sessions, retry_seconds=0.1)
    for start in range(0, len(events), BATCH):
        writer.write_now(events[start:start + BATCH])
    return Summary(users, len(events), first_day, now.date())


def clear(db) -> None:
    """Delete the demo data set (the live one is never touched)."""
    with session_scope(db) as session:
        session.execute(sa.delete(AnalyticsEvent).where(AnalyticsEvent.dataset == DEMO))
        session.execute(sa.delete(AnalyticsUserDay).where(AnalyticsUserDay.dataset == DEMO))
        session.commit()


def _signup_day(rng: random.Random, days: int) -> int:
    """A day 0..days-1, later days likelier (weight 1 + day / days: a growing instance)."""
    while True:
        day = rng.randrange(days)
        if rng.random() * 2 < 1 + day / days:
            return day


class _Population:
    def __init__(self, rng: random.Random, first_day: date, days: int, now: datetime):
        self.rng, self.first_day, self.days, self.now = rng, first_day, days, now
        self.events: list[Pending] = []
        self.levels: dict[int, int] = {}
        self.ids = {"conversation": 0, "message": 0, "post": 0, "comment": 0, "pull": 0}

    def add_user(self, user_id: int, signup: int) -> None:
        rng = self.rng
        member = rng.random() < 0.15
        community = rng.random() < (0.6 if member else 0.3)
        tour = arm_of("welcome_tour", user_id, DEMO_EXPERIMENTS["welcome_tour"]["arms"]) == "tour"
        propensity = rng.lognormvariate(0, 0.5)
        at = self._time_on(signup)
        if at is None:
            return
        self._emit(user_id, "user_signed_up", at, {})
        self.levels[user_id] = 1
        for n, day in enumerate(range(signup, self.days)):
            if n > 0:
                chance = propensity * 0.45 * (n + 1) ** -0.5
                chance *= 1.25 if (self.first_day + timedelta(days=day)).weekday() >= 5 else 0.95
                chance *= (1.6 if member else 1.0) * (1.35 if community else 1.0)
                chance *= 1.1 if tour else 1.0
                if rng.random() >= min(chance, 0.95):
                    continue
                at = self._time_on(day)
                if at is None:
                    continue
            for _ in range(1 + (rng.random() < (0.5 if member else 0.2))):
                at = self._session(user_id, at, member, community and n == 0)
                at += timedelta(hours=rng.uniform(1, 5))
            level = self.levels[user_id]
            if level < 3 and n >= LEVEL_THRESHOLD_DAYS * level - 1 and rng.random() < 0.5:
                self._level_up(user_id, at, character=1)

    def _session(self, user_id: int, at: datetime, member: bool, community_day: bool) -> datetime:
        rng = self.rng
        self._emit(user_id, "session_started", at, {"remember": rng.random() < 0.5})
        character = rng.randrange(1, CHARACTERS + 1)
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 6)):
                at += timedelta(seconds=rng.uniform(3, 20))
                character = rng.randrange(1, CHARACTERS + 1)
                self._emit(user_id, "swipe_made", at, {
                    "character_id": character, "direction": rng.choice(("left", "right", "up"))})
        if not community_day and rng.random() < 0.12:  # a visit without a chat (the deck, feed)
            return at + timedelta(seconds=rng.uniform(20, 240))
        conversation = self._next("conversation")
        at += timedelta(seconds=rng.uniform(5, 60))
        self._emit(user_id, "conversation_started", at, {
            "conversation_id": conversation, "character_id": character, "source": "chat"})
        for _ in range(max(1, round(rng.expovariate(1 / (10 if member else 5))))):
            at += timedelta(seconds=rng.uniform(15, 120))
            self._emit(user_id, "message_sent", at, {
                "conversation_id": conversation, "message_id": self._next("message"),
                "character_id": character, "chars": rng.randint(5, 300)})
            at += timedelta(seconds=rng.uniform(2, 10))
            self._emit(user_id, "reply_finished", at, {
                "conversation_id": conversation, "reply_id": self._next("message"),
                "character_id": character, "finish_reason": "stop", "status": "complete",
                "tokens": rng.randint(20, 200), "stop_reason": None})
        if community_day:
            at = self._take_part(user_id, at, character)
        elif rng.random() < 0.08:
            at += timedelta(seconds=rng.uniform(10, 60))
            self._draw(user_id, at)
        return at

    def _take_part(self, user_id: int, at: datetime, character: int) -> datetime:
        rng = self.rng
        choice = rng.choice(("post", "room", "cards", "level"))
        at += timedelta(seconds=rng.uniform(10, 120))
        if choice == "post":
            post = self._next("post")
            self._emit(user_id, "post_published", at, {
                "post_id": post, "author_character_id": None, "character_id": character,
                "kind": "chat"})
            for _ in range(rng.randint(0, 3)):
                self._emit(None, "comment_added", at + timedelta(minutes=rng.uniform(1, 300)), {
                    "comment_id": self._next("comment"), "post_id": post,
                    "author_character_id": character, "parent_id": None})
        elif choice == "room":
            self._emit(user_id, "room_joined", at, {"room_id": rng.randint(1, 20)})
        elif choice == "cards":
            self._draw(user_id, at)
        else:
            self._level_up(user_id, at, character)
        return at

    def _draw(self, user_id: int, at: datetime) -> None:
        pulls = [self._next("pull") for _ in range(self.rng.choice((1, 10)))]
        self._emit(user_id, "cards_drawn", at, {
            "banner_id": 1, "pull_ids": pulls,
            "rarities": [self.rng.choice(("R", "R", "R", "SR", "SSR")) for _ in pulls],
            "currency": "gems", "cost": 160 * len(pulls)})

    def _level_up(self, user_id: int, at: datetime, character: int) -> None:
        level = self.levels[user_id]
        self.levels[user_id] = level + 1
        self._emit(user_id, "level_changed", at + timedelta(seconds=5), {
            "character_id": character, "level_before": level, "level_after": level + 1,
            "affinity": 100 * level})

    def _time_on(self, day: int):
        """A time on simulated day `day`, evenings likelier; None if it would be after now."""
        hour = min(23.99, max(0.0, self.rng.gauss(19, 4.5)) % 24)
        at = datetime.combine(self.first_day + timedelta(days=day), time(),
                              tzinfo=timezone.utc) + timedelta(hours=hour)
        return at if at < self.now - timedelta(hours=2) else None

    def _emit(self, user_id, name: str, at: datetime, properties: dict) -> None:
        if at < self.now:
            self.events.append(Pending(name, user_id, at, properties))

    def _next(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]
