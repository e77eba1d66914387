"""Character table: every Character Card V2 field, plus what Kindred shows and serves."""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import core.users  # noqa: F401  (the users table that creator_id points to)
from core.db import UTCDateTime, utcnow


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
    # Set by moderation (hidden by a moderator, or its creator banned): only the creator sees it.
    moderation_hidden: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    language: str = Field(default="en", max_length=10)
    creator_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CharacterVersion(SQLModel, table=True):
    """One published version: a snapshot of the card fields at publish (or restore) time."""
    __tablename__ = "character_versions"
    __table_args__ = (sa.UniqueConstraint("character_id", "version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    character_id: int = Field(foreign_key="characters.id", index=True, ondelete="CASCADE")
    version: int
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    visibility: str = Field(default="public", max_length=20)
    restored_from: Optional[int] = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CharacterFollow(SQLModel, table=True):
    __tablename__ = "character_follows"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    character_id: int = Field(foreign_key="characters.id", primary_key=True, index=True,
                              ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CharacterLike(SQLModel, table=True):
    __tablename__ = "character_likes"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    character_id: int = Field(foreign_key="characters.id", primary_key=True, index=True,
                              ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CreatorFollow(SQLModel, table=True):
    __tablename__ = "creator_follows"

    follower_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    creator_id: int = Field(foreign_key="users.id", primary_key=True, index=True,
                            ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PromptReport(SQLModel, table=True):
    """What the prompt of one reply contained (for the prompt inspector): lorebook entries that
    fired and the tokens each part took. No chat text is stored here."""
    __tablename__ = "prompt_reports"

    message_id: int = Field(foreign_key="messages.id", primary_key=True, ondelete="CASCADE")
    character_id: int = Field(foreign_key="characters.id", index=True, ondelete="CASCADE")
    character_version: Optional[int] = Field(default=None)
    report: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CharacterRemix(SQLModel, table=True):
    """A character made by remixing another: its parent, and the parent's name and creator as
    they were at the remix, so "remixed from X by Y" still reads right after the parent is
    renamed, made private or deleted (parent_id is then null)."""
    __tablename__ = "character_remixes"

    character_id: int = Field(foreign_key="characters.id", primary_key=True, ondelete="CASCADE")
    parent_id: Optional[int] = Field(default=None, foreign_key="characters.id", index=True,
                                     ondelete="SET NULL")
    parent_name: str = Field(max_length=120)
    parent_creator: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CharacterCommunity(SQLModel, table=True):
    """A creator's per-character community settings; a character without a row has the
    defaults (others may remix it, it does not take part in the community)."""
    __tablename__ = "character_community"

    character_id: int = Field(foreign_key="characters.id", primary_key=True, ondelete="CASCADE")
    allow_remix: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    community_replies: bool = Field(default=False,
                                    sa_column_kwargs={"server_default": sa.false()},
                                    index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
