"""The tables of group rooms: rooms, their members, the stints of characters in them, invites and
the room's messages."""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from characters.models import Character
from core.db import UTCDateTime, utcnow
from core.users import User

# The tables every user_id and character_id point to, imported so they are mapped first.
USERS, CHARACTERS = User.__tablename__, Character.__tablename__

STRATEGIES = ("natural", "list", "pooled", "manual")
VISIBILITIES = ("invite", "listed")
ROLES = ("owner", "member")
SPEAKERS = ("user", "character", "assistant")
MESSAGE_STATUSES = ("complete", "streaming", "stopped", "error", "blocked")


class Room(SQLModel, table=True):
    __tablename__ = "rooms"

    id: Optional[int] = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    strategy: str = Field(default="natural", max_length=10)  # one of STRATEGIES
    scenario: str = Field(default="", sa_type=sa.Text)  # overrides the cards' scenarios when set
    assistant: bool = False  # the assistant is on call (@assistant)
    visibility: str = Field(default="invite", max_length=10)  # one of VISIBILITIES
    listed_tag: Optional[str] = Field(default=None, max_length=60)
    auto_continue: int = 0  # at most this many character turns with no human message; 0 = off
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoomMember(SQLModel, table=True):
    __tablename__ = "room_members"

    room_id: int = Field(foreign_key="rooms.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True,
                         ondelete="CASCADE")
    role: str = Field(default="member", max_length=10)  # one of ROLES
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # "catch me up" summarises what came after this message; None: nothing read yet.
    last_read_message_id: Optional[int] = None


class RoomCharacter(SQLModel, table=True):
    """One stint of a character in a room: re-adding a removed character opens a new row. The
    stint sees the room's messages with seen_after_id < id <= seen_until_id (no upper bound
    while it is in the room)."""
    __tablename__ = "room_characters"

    id: Optional[int] = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id", index=True, ondelete="CASCADE")
    character_id: int = Field(foreign_key="characters.id", index=True, ondelete="CASCADE")
    position: int = 0  # the order of the `list` strategy
    muted: bool = False  # a muted character never speaks but still listens
    seen_after_id: int = 0  # the room's last message id when the stint began (0: none yet)
    seen_until_id: Optional[int] = None  # the last message id when it was removed
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    removed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class RoomInvite(SQLModel, table=True):
    __tablename__ = "room_invites"

    token: str = Field(primary_key=True, max_length=64)  # secrets.token_urlsafe
    room_id: int = Field(foreign_key="rooms.id", index=True, ondelete="CASCADE")
    created_by: int = Field(foreign_key="users.id", ondelete="CASCADE")
    max_uses: int = 1
    uses: int = 0
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoomMessage(SQLModel, table=True):
    __tablename__ = "room_messages"

    id: Optional[int] = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="rooms.id", index=True, ondelete="CASCADE")
    speaker: str = Field(max_length=10)  # one of SPEAKERS
    # The person who wrote it; for an assistant answer, the person who asked.
    user_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True,
                                   ondelete="SET NULL")
    character_id: Optional[int] = Field(default=None, foreign_key="characters.id",
                                        ondelete="SET NULL")
    content: str = Field(default="", sa_type=sa.Text)
    ooc: bool = False  # out of character: shown to people, never in a prompt
    # An assistant suggestion only this person sees; None: everyone in the room.
    private_to: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    status: str = Field(default="complete", max_length=10)  # one of MESSAGE_STATUSES
    moderation: Optional[dict[str, Any]] = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
