"""The tables of curation: one row of instance settings and the editors' picks.

A settings column left NULL means "the default from config.py" (INSTANCE_*), so an operator's
environment still speaks until an admin edits that field."""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow
from core.users import User

USERS = User.__tablename__  # mapped first: the picks and the settings point at users

PICK_KINDS = ("character", "post", "story")
SETTINGS_ROW = 1  # the one row of instance_settings


class InstanceSettings(SQLModel, table=True):
    __tablename__ = "instance_settings"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: Optional[str] = Field(default=None, max_length=60)
    tagline: Optional[str] = Field(default=None, max_length=140)
    featured_tags: Optional[list[Any]] = Field(default=None, sa_type=sa.JSON)
    default_content_rating: Optional[str] = Field(default=None, max_length=10)
    positioning: Optional[str] = Field(default=None, sa_type=sa.Text)
    updated_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EditorsPick(SQLModel, table=True):
    __tablename__ = "editors_picks"
    __table_args__ = (sa.UniqueConstraint("kind", "item_id", name="uq_editors_picks_kind_item"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=12)  # one of PICK_KINDS
    item_id: int
    note: str = Field(default="", max_length=280)
    created_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
