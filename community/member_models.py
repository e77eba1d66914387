"""The tables of characters as members: the topic of the day, which posts answered it, and the
lock row that lets one process run a daily job once, however many processes serve the app."""
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import community.models  # noqa: F401  (the community_post table the answers point to)
from core.db import UTCDateTime, utcnow

TOPIC_SOURCES = ("operator", "list")  # set by the operator, or drawn from the built-in list
TOPIC_POST_KINDS = ("answer", "scene")


class CommunityTopic(SQLModel, table=True):
    __tablename__ = "community_topic"

    id: Optional[int] = Field(default=None, primary_key=True)
    day: date = Field(unique=True)  # the UTC day it is the topic of
    prompt: str = Field(max_length=300)
    source: str = Field(max_length=10)  # one of TOPIC_SOURCES
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommunityTopicPost(SQLModel, table=True):
    """A character's answer to a topic, or the topic's scene (character_id: the one who opens
    it): each at most once, so a run that is repeated posts nothing twice."""
    __tablename__ = "community_topic_post"
    __table_args__ = (sa.UniqueConstraint("topic_id", "kind", "character_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    topic_id: int = Field(foreign_key="community_topic.id", ondelete="CASCADE")
    kind: str = Field(max_length=10)  # one of TOPIC_POST_KINDS
    character_id: int = Field(foreign_key="characters.id", ondelete="CASCADE")
    post_id: int = Field(foreign_key="community_post.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommunityDailyRun(SQLModel, table=True):
    """One row per (job, UTC day): the process that inserts it runs that day's job. A run that
    never finished can be taken over once it is stale (community/scheduler.py)."""
    __tablename__ = "community_daily_run"

    job: str = Field(max_length=40, primary_key=True)
    day: date = Field(primary_key=True)
    owner: str = Field(max_length=120)  # host:pid:random, who holds it
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
