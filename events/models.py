"""The tables of community events: the event and the contest's entries.

An event's contest is its `prizes` (gems for 1st, 2nd, ...; None: no contest). Judging freezes
each entry's score and place once (`judged_at`), so paying again later pays the same people."""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import characters.models  # noqa: F401  (the characters table the entries point to)
import community.models  # noqa: F401  (the announcement posts)
import gacha.models  # noqa: F401  (the limited banner)
from core.db import UTCDateTime, utcnow
from core.users import User

USERS = User.__tablename__  # mapped first: events and entries point at users


class CommunityEvent(SQLModel, table=True):
    __tablename__ = "community_event"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    theme: str = Field(max_length=140)
    description: str = Field(default="", sa_type=sa.Text)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime, index=True)
    topics: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # one per day, cycled
    prizes: Optional[list[Any]] = Field(default=None, sa_type=sa.JSON)  # None: no contest
    banner_id: Optional[int] = Field(default=None, foreign_key="gacha_banners.id",
                                     ondelete="SET NULL")
    created_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # Set once each by the process that did it (events/announce.py, events/judging.py).
    announcement_post_id: Optional[int] = Field(default=None, foreign_key="community_post.id",
                                                ondelete="SET NULL")
    announced_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    judged_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    winners_post_id: Optional[int] = Field(default=None, foreign_key="community_post.id",
                                           ondelete="SET NULL")
    winners_announced_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventEntry(SQLModel, table=True):
    """A creator's character in an event's contest: one entry per creator per event."""
    __tablename__ = "community_event_entry"
    __table_args__ = (sa.UniqueConstraint("event_id", "character_id"),
                      sa.UniqueConstraint("event_id", "creator_id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="community_event.id", index=True, ondelete="CASCADE")
    character_id: int = Field(foreign_key="characters.id", ondelete="CASCADE")
    creator_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Frozen by judging: the retained users, the place (1, 2, ...; None: no prize) and its gems.
    score: Optional[int] = None
    place: Optional[int] = None
    prize_gems: Optional[int] = None
    transaction_id: Optional[int] = None  # the ledger transaction that paid the prize
