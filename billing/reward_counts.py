"""What a month of creator rewards counts: each creator's retained user-days among paying users,
read from the live event log, the ledger's membership grants and the sign-up fingerprints. No
Flask here; docs/billing.md ("Creator rewards") is the definition this implements.

    parse_month("2026-11") -> Month
    count_month(session, month) -> {creator_id: Counted}, {creator_id: [excluded user ids]}

A retained user-day of a creator is a (user, UTC day of the month) such that on that day the
user sent a chat message (`message_sent`) to one of the creator's characters with which they had
already chatted on an earlier UTC day, the user was paying that day, and the user is neither the
creator nor one of the creator's alts. One person on one day counts once per creator, however
many of the creator's characters they chatted with (the per-character figures count it for
each), so neither a burst nor a hundred clones of one character pays more."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

import sqlalchemy as sa
from sqlmodel import Session, select

from analytics.creators import chat_days
from analytics.datasets import LIVE
from analytics.models import AnalyticsEvent, day_number
from billing.entitlements import FREE
from billing.grants import KIND as MEMBERSHIP_KIND
from characters.models import Character
from core.errors import KindredError
from core.users import User
from gacha.models import LedgerTransaction

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CHAT_EVENT = "message_sent"
EVENT = AnalyticsEvent.__table__.c


@dataclass(frozen=True)
class Month:
    name: str        # YYYY-MM
    start: datetime  # the first instant of the month, UTC
    end: datetime    # the first instant of the next month

    @property
    def days(self) -> range:
        return range(day_number(self.start), day_number(self.end))


@dataclass
class Counted:
    user_days: set = field(default_factory=set)    # {(user_id, day number)}
    characters: dict = field(default_factory=dict)  # {character_id: {(user_id, day number)}}


def parse_month(text) -> Month:
    found = MONTH.match(text) if isinstance(text, str) else None
    if found is None:
        raise KindredError("invalid_month", f"The month is YYYY-MM, like 2026-11; not {text!r}.")
    year, month = int(found[1]), int(found[2])
    start = datetime.combine(date(year, month, 1), time(), tzinfo=timezone.utc)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Month(found[0], start, datetime.combine(following, time(), tzinfo=timezone.utc))


def count_month(session: Session, month: Month) -> tuple[dict[int, Counted], dict[int, list]]:
    creators = dict(session.execute(select(Character.id, Character.creator_id)
                                    .where(Character.creator_id.is_not(None))).all())
    chats = chat_days(session, month.start, month.end, names=(CHAT_EVENT,))  # {(u, c): days}
    chats = {key: days for key, days in chats.items() if key[1] in creators}
    first = _first_chat_days(session, month, {user for user, _ in chats})
    paying = _paying_days(session, month, {user for user, _ in chats})
    fingerprints = _fingerprints(session, {user for user, _ in chats} | set(creators.values()))
    counted: dict[int, Counted] = {}
    excluded: dict[int, set] = {}
    for (user, character), days in sorted(chats.items()):
        creator = creators[character]
        if _is_own(user, creator, fingerprints):
            excluded.setdefault(creator, set()).add(user)
            continue
        retained = {day for day in days if first[(user, character)] < day
                    and day in paying.get(user, ())}
        if retained:
            found = counted.setdefault(creator, Counted())
            found.characters.setdefault(character, set()).update((user, d) for d in retained)
            found.user_days.update((user, d) for d in retained)
    return counted, {creator: sorted(users) for creator, users in sorted(excluded.items())}


# --- the reads ---------------------------------------------------------------------------------

def _first_chat_days(session: Session, month: Month, users: set) -> dict[tuple[int, int], int]:
    """{(user, character): the UTC day of the user's first message to it}, up to the month's end."""
    if not users:
        return {}
    character = EVENT.properties["character_id"].as_integer()
    query = (sa.select(EVENT.user_id, character, sa.func.min(EVENT.occurred_at))
             .where(*_chats(), EVENT.occurred_at < month.end, EVENT.user_id.in_(sorted(users)))
             .group_by(EVENT.user_id, character))
    return {(int(user), int(character_id)): day_number(at)
            for user, character_id, at in session.execute(query) if character_id is not None}


def _chats():
    return (EVENT.dataset == LIVE, EVENT.name == CHAT_EVENT, EVENT.user_id.is_not(None))


def _paying_days(session: Session, month: Month, users: set) -> dict[int, set[int]]:
    """{user: the UTC days of the month a grant of a paid tier covered at some moment}: each
    membership transaction of the ledger covers [its time, its recorded expires_at)."""
    if not users:
        return {}
    query = select(LedgerTransaction.user_id, LedgerTransaction.created_at,
                   LedgerTransaction.details).where(
        LedgerTransaction.kind == MEMBERSHIP_KIND, LedgerTransaction.user_id.in_(sorted(users)),
        LedgerTransaction.created_at < month.end)
    paying: dict[int, set[int]] = {}
    for user, granted_at, details in session.execute(query):
        if (details or {}).get("tier", FREE) == FREE or not details.get("expires_at"):
            continue
        expires_at = datetime.fromisoformat(details["expires_at"])
        if expires_at <= month.start:
            continue
        last = day_number(expires_at) - (expires_at == _midnight(expires_at))
        covered = range(max(day_number(granted_at), month.days.start),
                        min(last, month.days.stop - 1) + 1)
        paying.setdefault(int(user), set()).update(covered)
    return paying


def _fingerprints(session: Session, users: set) -> dict[int, str | None]:
    if not users:
        return {}
    return dict(session.execute(select(User.id, User.signup_fingerprint)
                                .where(User.id.in_(sorted(users)))).all())


def _is_own(user: int, creator: int, fingerprints: dict) -> bool:
    mark = fingerprints.get(creator)
    return user == creator or (mark is not None and fingerprints.get(user) == mark)


def _midnight(at: datetime) -> datetime:
    at = at.astimezone(timezone.utc)
    return datetime.combine(at.date(), time(), tzinfo=timezone.utc)
