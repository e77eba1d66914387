"""Accounts: the users table, and what a user's birth year allows."""
from datetime import datetime
from typing import Optional

from flask_login import UserMixin
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow


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
