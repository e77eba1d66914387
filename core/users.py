"""Accounts: the users table, what a user's birth year allows, and their standing."""
from datetime import datetime
from typing import Optional

from flask_login import UserMixin
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow
from core.errors import KindredError


class User(UserMixin, SQLModel, table=True):
    __tablename__ = "users"

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(max_length=32)
    # Lower-cased copy so "Alice" and "alice" cannot both sign up.
    username_key: str = Field(max_length=32, unique=True, index=True)
    password_hash: str = Field(max_length=256)
    role: str = Field(default="user", max_length=16)  # user | moderator | admin (core/auth/roles)
    birth_year: Optional[int] = None  # None: counts as under 18 until given
    suspended_until: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    banned_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    # The public profile (core/profiles.py), checked by the safety pipeline; None: not given.
    display_name: Optional[str] = Field(default=None, max_length=40)
    bio: Optional[str] = Field(default=None, max_length=500)
    # Where the sign-up came from, as a keyed hash (core/auth/fingerprint.py); None: signed up
    # before it was recorded, or with REWARDS_ALT_FINGERPRINT=off. Creator rewards compare it.
    signup_fingerprint: Optional[str] = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


ADULT_AGE = 18
MIN_SIGNUP_AGE = 13


def age_floor(birth_year: Optional[int], today: datetime) -> Optional[int]:
    """The youngest the user can be: with only a year, assume the birthday has not come yet."""
    return None if birth_year is None else today.year - birth_year - 1


def is_adult(user, today: Optional[datetime] = None) -> bool:
    """18 or older for sure. An account without a birth year counts as under 18."""
    floor = age_floor(getattr(user, "birth_year", None), today or utcnow())
    return floor is not None and floor >= ADULT_AGE


def standing(user: User, now: Optional[datetime] = None) -> str:
    """"banned", "suspended" (suspended_until still ahead) or "ok". Chat and posting refuse
    the first two with 403 `banned` / `suspended` (docs/moderation.md, "People")."""
    if user.banned_at is not None:
        return "banned"
    if user.suspended_until is not None and user.suspended_until > (now or utcnow()):
        return "suspended"
    return "ok"


class NotInGoodStanding(KindredError):
    """403 `banned` / `suspended`; a suspension's answer also carries `until` (ISO 8601)."""
    status = 403

    def __init__(self, code: str, message: str, until: Optional[datetime] = None):
        super().__init__(code, message)
        self.until = until

    def payload(self) -> dict:
        body = super().payload()
        return body if self.until is None else {**body, "until": self.until.isoformat()}


def check_standing(user: User, doing: str, now: Optional[datetime] = None) -> None:
    """Refuse a write of a banned or suspended user (NotInGoodStanding), saying they cannot
    `doing` ("chat", "edit your profile") and that nothing was stored."""
    state = standing(user, now)
    if state == "banned":
        raise NotInGoodStanding("banned", f"Your account is banned: you cannot {doing}. Nothing "
                                          f"was stored. You can appeal the ban once from the "
                                          f"log-in page.")
    if state == "suspended":
        until = user.suspended_until
        raise NotInGoodStanding("suspended", f"Your account is suspended until "
                                             f"{until.strftime('%Y-%m-%d %H:%M UTC')}; you cannot "
                                             f"{doing} until then. Nothing was stored.", until)
