"""Tables of the relationships domain: bonds, the affinity ledger, memories, stories, progress."""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import conversations.models  # noqa: F401  (users, conversations, messages)
import characters.models  # noqa: F401  (characters)
from core.db import UTCDateTime, utcnow


class Relationship(SQLModel, table=True):
    """The bond between one user and one character."""
    __tablename__ = "relationships"
    __table_args__ = (sa.UniqueConstraint("user_id", "character_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    character_id: int = Field(foreign_key="characters.id", index=True, ondelete="CASCADE")
    affinity: int = Field(default=0)
    level: int = Field(default=0)
    streak_days: int = Field(default=0)
    last_active_day: Optional[str] = Field(default=None, max_length=10)  # YYYY-MM-DD, UTC
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AffinityEvent(SQLModel, table=True):
    """One entry of the affinity ledger; `ref` makes every award happen at most once
    (a user message, a day, a story chapter). Blocked awards are kept with 0 points."""
    __tablename__ = "affinity_events"
    __table_args__ = (sa.UniqueConstraint("relationship_id", "kind", "ref"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    relationship_id: int = Field(foreign_key="relationships.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)  # reply | first_of_day | streak | chapter
    ref: str = Field(max_length=120)
    points: int = Field(default=0)
    note: str = Field(default="", max_length=40)  # why nothing was earned, if so
    day: str = Field(max_length=10, index=True)
    message_id: Optional[int] = Field(default=None, foreign_key="messages.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Memory(SQLModel, table=True):
    """A fact the user shared with a character, linked to the message it came from."""
    __tablename__ = "memories"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    character_id: int = Field(foreign_key="characters.id", index=True, ondelete="CASCADE")
    content: str = Field(sa_type=sa.Text)
    subject: str = Field(default="", max_length=80)  # "dog" for "my dog is ...": newer replaces
    pinned: bool = Field(default=False)
    edited: bool = Field(default=False)
    source_message_id: Optional[int] = Field(default=None, foreign_key="messages.id",
                                             ondelete="SET NULL")
    source_conversation_id: Optional[int] = Field(default=None, foreign_key="conversations.id",
                                                  ondelete="SET NULL")
    source_excerpt: str = Field(default="", max_length=300)
    embedding: Optional[bytes] = Field(default=None, sa_type=sa.LargeBinary)
    embedding_model: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Story(SQLModel, table=True):
    """A story as authored in the character's extensions["kindred/stories"], mirrored here so it
    has an integer id and progress can point at it. The card stays the source of truth."""
    __tablename__ = "stories"
    __table_args__ = (sa.UniqueConstraint("character_id", "key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    character_id: int = Field(foreign_key="characters.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=80)  # the story's own "id" inside the card
    title: str = Field(default="", max_length=200)
    definition: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    removed: bool = Field(default=False)  # gone from the card; kept for existing progress
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StoryProgress(SQLModel, table=True):
    """One play-through of a story by a user, in its own conversation."""
    __tablename__ = "story_progress"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    story_id: int = Field(foreign_key="stories.id", index=True, ondelete="CASCADE")
    conversation_id: Optional[int] = Field(default=None, foreign_key="conversations.id",
                                           index=True, ondelete="SET NULL")
    chapter_key: str = Field(max_length=80)
    status: str = Field(default="active", max_length=16)  # active | finished
    path: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)  # branch taken
    completed_chapters: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    points_earned: int = Field(default=0)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
