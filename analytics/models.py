"""The analytics event log: one row per logged domain event, appended, never updated.

`user_id` is a plain integer, not a foreign key: the log is a record of what happened, and a row
outlives any change to the user's row. `session_id` is assigned by analytics.sessions. `dataset`
keeps the simulated population of analytics.simulate ('demo') apart from the real log ('live'):
every figure reads one of them, never both."""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime


class AnalyticsEvent(SQLModel, table=True):
    __tablename__ = "analytics_event"
    # A user's events in time order: first-seen and the last event of a session are one seek.
    __table_args__ = (sa.Index("ix_analytics_event_user_id_occurred_at", "user_id", "occurred_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: Optional[int] = None  # None: an event no user did (a character's publication)
    name: str = Field(max_length=40, index=True)  # one of analytics.catalog.NAMES
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    session_id: Optional[str] = Field(default=None, max_length=32)  # None without a user
    properties: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    dataset: str = Field(default="live", max_length=8,
                         sa_column_kwargs={"server_default": "live"})  # analytics.datasets
