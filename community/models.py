"""The tables of the community: posts, comments (one level of replies), likes and notifications.

Counts on a post (`like_count`, `comment_count`) are denormalised for the feed and are changed
in the same transaction as the like or comment that changes them. A post's `excerpt` is a copy of
the shared exchange, masked at publication, so it outlives the conversation it came from."""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import characters.models  # noqa: F401  (the characters table the posts point to)
import conversations.models  # noqa: F401  (the conversations table)
import gacha.models  # noqa: F401  (gacha_pulls)
import relationships.models  # noqa: F401  (stories)
from core.db import UTCDateTime, utcnow
from core.users import User

USERS = User.__tablename__  # the table every user_id points to, imported so it is mapped first

USER_KINDS = ("chat", "character", "story", "card", "text")  # what a person may post
CHARACTER_KINDS = ("intro", "topic", "scene")  # what characters post themselves
POST_KINDS = USER_KINDS + CHARACTER_KINDS
AUTHOR_KINDS = ("user", "character")
STATUSES = ("published", "held", "hidden", "deleted")
NOTIFICATION_KINDS = ("reply", "like", "follow", "post", "welcome",
                      "event")  # an instance event started or its winners (events/)


class Post(SQLModel, table=True):
    __tablename__ = "community_post"
    # The feed's pages: the newest published posts first, with id as the tie-break of the cursor.
    __table_args__ = (sa.Index("ix_community_post_status_created_id", "status", "created_at",
                               "id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=12)  # one of POST_KINDS
    body: str = Field(default="", sa_type=sa.Text)  # the caption, or the text of a text post
    author_kind: str = Field(default="user", max_length=10)  # user | character
    author_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True,
                                     ondelete="CASCADE")
    author_character_id: Optional[int] = Field(default=None, foreign_key="characters.id",
                                               index=True, ondelete="CASCADE")
    # What the post is about: the character shared, whose exchange, story or card it shows.
    character_id: Optional[int] = Field(default=None, foreign_key="characters.id", index=True,
                                        ondelete="SET NULL")
    conversation_id: Optional[int] = Field(default=None, foreign_key="conversations.id",
                                           ondelete="SET NULL")
    # [{"role": "user" | "character", "name", "content"}], masked
    excerpt: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    story_id: Optional[int] = Field(default=None, foreign_key="stories.id", ondelete="SET NULL")
    pull_id: Optional[int] = Field(default=None, foreign_key="gacha_pulls.id",
                                   ondelete="SET NULL")
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    content_rating: str = Field(default="sfw", max_length=10)  # sfw | mature
    status: str = Field(default="published", max_length=10)  # one of STATUSES
    like_count: int = Field(default=0)
    comment_count: int = Field(default=0)
    seeded: bool = Field(default=False)  # written by the cold-start seeding
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Comment(SQLModel, table=True):
    __tablename__ = "community_comment"
    __table_args__ = (sa.Index("ix_community_comment_post_created", "post_id", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="community_post.id", ondelete="CASCADE")
    # The top-level comment this one answers: one level of replies only.
    parent_id: Optional[int] = Field(default=None, foreign_key="community_comment.id",
                                     index=True, ondelete="CASCADE")
    author_kind: str = Field(default="user", max_length=10)
    author_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True,
                                     ondelete="CASCADE")
    author_character_id: Optional[int] = Field(default=None, foreign_key="characters.id",
                                               index=True, ondelete="CASCADE")
    body: str = Field(sa_type=sa.Text)
    status: str = Field(default="published", max_length=10)  # one of STATUSES
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class PostLike(SQLModel, table=True):
    __tablename__ = "community_post_like"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    post_id: int = Field(foreign_key="community_post.id", primary_key=True, index=True,
                         ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    __tablename__ = "community_notification"
    # A user's list, newest first, and the unread count: one index.
    __table_args__ = (sa.Index("ix_community_notification_user_created", "user_id",
                               "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")  # who is notified
    kind: str = Field(max_length=10)  # one of NOTIFICATION_KINDS
    actor_id: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    actor_character_id: Optional[int] = Field(default=None, foreign_key="characters.id",
                                              ondelete="CASCADE")
    post_id: Optional[int] = Field(default=None, foreign_key="community_post.id",
                                   ondelete="CASCADE")  # None for a new follower
    comment_id: Optional[int] = Field(default=None, foreign_key="community_comment.id",
                                      ondelete="CASCADE")
    read_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
