"""Conversations and the message tree."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import core.users  # noqa: F401  (the users table that user_id points to)
from core.db import UTCDateTime, utcnow

# blocked: a user message the safety pipeline refused; shown to its sender as blocked, never
# sent to the model (conversations/guard.py).
MESSAGE_STATUSES = ("complete", "streaming", "stopped", "interrupted", "error", "blocked")


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    character_id: int = Field(foreign_key="characters.id", index=True)
    # The leaf of the branch the user is looking at; the visible chat is its path to the root.
    active_leaf_id: Optional[int] = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Message(SQLModel, table=True):
    __tablename__ = "messages"

    id: Optional[int] = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversations.id", index=True, ondelete="CASCADE")
    parent_id: Optional[int] = Field(default=None, foreign_key="messages.id", index=True,
                                     ondelete="CASCADE")
    role: str = Field(max_length=16)  # user | assistant
    content: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default="complete", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    # The safety pipeline's verdict when it was not a plain allow: the deciding category, e.g.
    # "self_harm" (support) or "privacy" (masked); None otherwise.
    moderation: Optional[str] = Field(default=None, max_length=32)
    # A reply the pipeline blocked shows a neutral line; what the model wrote is kept here for
    # moderators only (never in a payload or a prompt).
    original_content: Optional[str] = Field(default=None, sa_type=sa.Text)
