"""Discovery tables: what was dealt to whom, swipes, interests, preferences, embeddings, stats."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import core.users  # noqa: F401  (users)
import characters.models  # noqa: F401  (characters)
from core.db import UTCDateTime, utcnow

DIRECTIONS = ("left", "right", "up")  # pass | like | super-like (like + start a chat now)
LIKE_DIRECTIONS = ("right", "up")


class DealtCard(SQLModel, table=True):
    """One card put in front of one user. Only an open deal (swipe_id None, not expired) can be
    swiped; an undo reopens the deal of the swipe it takes back."""
    __tablename__ = "discovery_dealt_cards"
    __table_args__ = (sa.Index("ix_discovery_dealt_user_character", "user_id", "character_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    character_id: int = Field(foreign_key="characters.id", ondelete="CASCADE")
    position: int = Field(default=0)
    reason: str = Field(default="", max_length=200)
    swipe_id: Optional[int] = Field(default=None)
    dealt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Swipe(SQLModel, table=True):
    __tablename__ = "discovery_swipes"
    __table_args__ = (sa.Index("ix_discovery_swipes_user_created", "user_id", "created_at"),
                      sa.Index("ix_discovery_swipes_user_character", "user_id", "character_id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    character_id: int = Field(foreign_key="characters.id", ondelete="CASCADE")
    deal_id: int = Field(foreign_key="discovery_dealt_cards.id", ondelete="CASCADE")
    direction: str = Field(max_length=8)
    dealt_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    undone: bool = Field(default=False)
    undone_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    conversation_id: Optional[int] = Field(default=None, foreign_key="conversations.id",
                                           ondelete="SET NULL")


class UserInterest(SQLModel, table=True):
    __tablename__ = "discovery_interests"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(max_length=40, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DiscoveryPreferences(SQLModel, table=True):
    """Per-user discovery settings. Mature characters are dealt only with show_mature on."""
    __tablename__ = "discovery_preferences"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    show_mature: bool = Field(default=False)
    blocked_creator_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    onboarded_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CharacterEmbedding(SQLModel, table=True):
    """A character's text embedding (float32 little-endian bytes), the model that made it and a
    hash of the text it was made from, so an edit is noticed and re-embedded."""
    __tablename__ = "discovery_character_embeddings"

    character_id: int = Field(foreign_key="characters.id", primary_key=True, ondelete="CASCADE")
    model: str = Field(max_length=120)
    dim: int
    vector: bytes = Field(sa_type=sa.LargeBinary)
    text_hash: str = Field(max_length=64)
    source_updated_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class CharacterStats(SQLModel, table=True):
    """Running counts per character, updated with every deal, swipe and undo."""
    __tablename__ = "discovery_character_stats"

    character_id: int = Field(foreign_key="characters.id", primary_key=True, ondelete="CASCADE")
    impressions: int = Field(default=0)
    likes: int = Field(default=0)
    passes: int = Field(default=0)
