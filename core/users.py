"""Accounts: the users table."""
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
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
