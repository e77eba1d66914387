"""The rules stage's table: operator-editable word and pattern lists per category."""
from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

import core.users
from core.db import UTCDateTime, utcnow

_REFERENCES = (core.users.User,)  # created_by's table is in the metadata

RULE_KINDS = ("word", "pattern")
MAX_PATTERN_CHARS = 1000


class ModerationRule(SQLModel, table=True):
    """A word (matched whole, case-insensitive; may be a phrase) or a regular expression
    (case-insensitive) that flags its category. Seeded rules have no `created_by`."""
    __tablename__ = "moderation_rules"

    id: Optional[int] = Field(default=None, primary_key=True)
    category: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=16)
    pattern: str = Field(max_length=MAX_PATTERN_CHARS)
    enabled: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
