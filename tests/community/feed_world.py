"""Helpers for the feed tests: posts, users and follows written straight to the database (the
feed is under test, not posting), and reading a tab through GET /api/feed."""
import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa

from characters.models import Character, CharacterFollow, CreatorFollow
from community.feed_api import build_feed
from community.models import Post, PostLike
from core.db import session_scope, utcnow
from core.users import User
from discovery.api import build_discovery
from discovery.embeddings import ensure_embeddings
from tests.discovery.conftest import MEMO_EMBEDDER

_names = itertools.count(1)


@pytest.fixture
def app_config(app_config):
    return type("FeedTestConfig", (app_config,), {
        "DISCOVERY_REFRESH_SECONDS": 0, "FEED_REFRESH_SECONDS": 0, "FEED_STATS_SECONDS": 0,
        "FEED_EXPLORE_SHARE": 0.0})


@pytest.fixture
def app(app):
    """The seeded cast backdated 60 days (nothing is "new"), embedded by the real MiniLM."""
    db = app.extensions["kindred.db"]
    with session_scope(db) as session:
        session.execute(sa.update(Character).values(created_at=utcnow() - timedelta(days=60),
                                                    updated_at=utcnow() - timedelta(days=60)))
        session.commit()
        while ensure_embeddings(session, MEMO_EMBEDDER):
            pass
    app.extensions["kindred.discovery"] = build_discovery(app.config, MEMO_EMBEDDER)
    app.extensions["kindred.feed"] = build_feed(app.config, app.extensions["kindred.discovery"])
    return app


@pytest.fixture
def db(app):
    return app.extensions["kindred.db"]


def character_id(db, name: str) -> int:
    with session_scope(db) as session:
        return session.exec(sa.select(Character.id).where(Character.name == name)).scalar_one()


def make_user(db, name=None, **fields) -> int:
    name = name or f"member{next(_names)}"
    with session_scope(db) as session:
        user = User(username=name, username_key=name.lower(), password_hash="x", **fields)
        session.add(user)
        session.commit()
        return user.id


def user_id(db, username: str) -> int:
    with session_scope(db) as session:
        return session.exec(sa.select(User.id).where(User.username == username)).scalar_one()


def add_post(db, *, author_id=None, author_character_id=None, character_id=None, kind=None,
             body=None, status="published", content_rating="sfw", likes=0, comments=0,
             age_hours=0.0, tags=()) -> int:
    created = utcnow() - timedelta(hours=age_hours)
    kind = kind or ("intro" if author_id is None else "text")
    with session_scope(db) as session:
        post = Post(kind=kind, body=body or f"post {next(_names)}",
                    author_kind="user" if author_id else "character", author_id=author_id,
                    author_character_id=author_character_id, character_id=character_id,
                    tags=list(tags), content_rating=content_rating, status=status,
                    like_count=likes, comment_count=comments, created_at=created,
                    updated_at=created)
        session.add(post)
        session.commit()
        return post.id


def like(db, user, post_id) -> None:
    with session_scope(db) as session:
        session.add(PostLike(user_id=user, post_id=post_id))
        session.execute(sa.update(Post).where(Post.id == post_id)
                        .values(like_count=Post.like_count + 1))
        session.commit()


def set_status(db, post_id, status) -> None:
    with session_scope(db) as session:
        session.execute(sa.update(Post).where(Post.id == post_id).values(status=status))
        session.commit()


def follow_creator(db, follower, creator) -> None:
    with session_scope(db) as session:
        session.add(CreatorFollow(follower_id=follower, creator_id=creator))
        session.commit()


def follow_character(db, user, character) -> None:
    with session_scope(db) as session:
        session.add(CharacterFollow(user_id=user, character_id=character))
        session.commit()


def feed(auth, tab, cursor=None, limit=None):
    query = f"/api/feed?tab={tab}"
    if cursor:
        query += f"&cursor={cursor}"
    if limit:
        query += f"&limit={limit}"
    response = auth.call("GET", query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(page) -> list[int]:
    return [p["id"] for p in page["posts"]]


def read_all(auth, tab, limit=5, between=None) -> list[int]:
    """Every page of a tab, calling between(page_number) after each page."""
    return read_pages(lambda cursor, size: feed(auth, tab, cursor, size), limit, between)


def read_pages(fetch, limit=5, between=None) -> list[int]:
    """The post ids of every page fetch(cursor, limit) gives, calling between(page_number) after
    each page."""
    seen, cursor, number = [], None, 0
    while True:
        page = fetch(cursor, limit)
        seen += ids(page)
        cursor, number = page["next_cursor"], number + 1
        if between:
            between(number)
        if not cursor:
            return seen
        assert number < 100, "the feed never ended"
