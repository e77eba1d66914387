"""The tables of moderation: reports, the queue (one item per target), the flags the safety
pipeline recorded, the append-only log of actions, appeals, notices to the user affected, and
the community rules page with who accepted it."""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow
from core.users import User

USERS = User.__tablename__  # the table every user_id points to, imported so it is mapped first

REPORT_STATUSES = ("open", "resolved", "dismissed")
ITEM_STATES = ("open", "resolved")
ITEM_SOURCES = ("flagged", "reported", "escalated", "ticket")  # ticket: a help-desk request
APPEAL_STATUSES = ("open", "granted", "denied")


class Report(SQLModel, table=True):
    __tablename__ = "reports"
    # One report per reporter and target: reporting again is idempotent.
    __table_args__ = (sa.UniqueConstraint("reporter_id", "target_type", "target_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    target_type: str = Field(max_length=20)
    target_id: int
    reason: str = Field(max_length=20)  # one of moderation.rules.REASONS
    note: str = Field(default="", max_length=1000)
    status: str = Field(default="open", max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QueueItem(SQLModel, table=True):
    """One per target, whatever brought it here (flags, reports, escalation)."""
    __tablename__ = "queue_items"
    __table_args__ = (sa.UniqueConstraint("target_type", "target_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    target_type: str = Field(max_length=20)
    target_id: int
    author_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True,
                                     ondelete="SET NULL")
    state: str = Field(default="open", max_length=10, index=True)
    source: str = Field(default="reported", max_length=10)
    scores: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # highest per category
    category: Optional[str] = Field(default=None, max_length=30)
    rule: Optional[str] = Field(default=None, max_length=10)
    hidden: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Flag(SQLModel, table=True):
    """One ContentFlagged event, as the safety pipeline recorded it."""
    __tablename__ = "moderation_flags"

    id: Optional[int] = Field(default=None, primary_key=True)
    item_id: Optional[int] = Field(default=None, foreign_key="queue_items.id", index=True,
                                   ondelete="CASCADE")
    surface: str = Field(max_length=30)
    target_type: str = Field(max_length=20)
    target_id: int
    user_id: Optional[int] = Field(default=None, index=True)
    conversation_id: Optional[int] = Field(default=None, index=True)
    action: str = Field(max_length=12)
    category: Optional[str] = Field(default=None, max_length=30)
    scores: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    stage: str = Field(max_length=12)
    rule: Optional[str] = Field(default=None, max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ModerationAction(SQLModel, table=True):
    """The audit log: appended once per action, never updated or deleted (moderation.audit
    refuses both at flush time)."""
    __tablename__ = "moderation_actions"

    id: Optional[int] = Field(default=None, primary_key=True)
    moderator_id: int = Field(foreign_key="users.id", index=True)
    action: str = Field(max_length=12)
    target_type: str = Field(max_length=20)
    target_id: int
    user_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True)
    reason: str = Field(max_length=500)
    rule: Optional[str] = Field(default=None, max_length=10)
    days: Optional[int] = None
    appeal_id: Optional[int] = None  # set when the action decides an appeal
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Appeal(SQLModel, table=True):
    __tablename__ = "appeals"

    id: Optional[int] = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="moderation_actions.id", unique=True)  # once per action
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    text: str = Field(max_length=2000)
    status: str = Field(default="open", max_length=10, index=True)
    decided_by: Optional[int] = Field(default=None, foreign_key="users.id")
    decision_reason: Optional[str] = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class Notice(SQLModel, table=True):
    """What the user affected by an action is told (GET /api/me/notices)."""
    __tablename__ = "notices"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)  # the action, or appeal_granted | appeal_denied
    text: str = Field(max_length=1000)
    rule: Optional[str] = Field(default=None, max_length=10)
    action_id: Optional[int] = Field(default=None, foreign_key="moderation_actions.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class RulesPage(SQLModel, table=True):
    """The operator's edit of the community rules; no row means the default text."""
    __tablename__ = "rules_pages"

    id: Optional[int] = Field(default=None, primary_key=True)  # always 1
    markdown: str = Field(sa_type=sa.Text)
    version: int = 1
    updated_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RulesAcceptance(SQLModel, table=True):
    __tablename__ = "rules_acceptances"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    version: int
    accepted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
