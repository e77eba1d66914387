"""Character table: every Character Card V2 field, plus what Kindred shows and serves."""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import app.models  # noqa: F401  (the users table that creator_id points to)
from app.db import UTCDateTime, utcnow


class Character(SQLModel, table=True):
    __tablename__ = "characters"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, index=True)
    tagline: str = Field(default="", max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    personality: str = Field(default="", sa_type=sa.Text)
    scenario: str = Field(default="", sa_type=sa.Text)
    first_mes: str = Field(default="", sa_type=sa.Text)
    mes_example: str = Field(default="", sa_type=sa.Text)
    creator_notes: str = Field(default="", sa_type=sa.Text)
    system_prompt: str = Field(default="", sa_type=sa.Text)
    post_history_instructions: str = Field(default="", sa_type=sa.Text)
    alternate_greetings: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    creator: str = Field(default="", max_length=120)
    character_version: str = Field(default="", max_length=60)
    # Unknown keys from imported cards are kept verbatim so they round-trip.
    extensions: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    character_book: Optional[dict[str, Any]] = Field(default=None, sa_type=sa.JSON)

    avatar_filename: Optional[str] = Field(default=None, max_length=200)
    visibility: str = Field(default="public", max_length=20)  # public | unlisted | private
    content_rating: str = Field(default="sfw", max_length=10)  # sfw | mature
    language: str = Field(default="en", max_length=10)
    creator_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
