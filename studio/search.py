"""Search over name, tags and description with each database's own full-text engine (SQLite FTS5,
PostgreSQL tsvector; both set up in migration 0005), tag listings, and trending characters.
No Flask here."""
import math
import re
from datetime import timedelta
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from core.db import utcnow
from core.errors import KindredError
from conversations.models import Conversation, Message
from characters.models import Character, CharacterFollow, CharacterLike
from characters.service import listed

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MAX_TAG_CHARS = 40
PAGE_LIMIT = 50
# Must match the GIN index expression in migrations/versions/0005_creators.py.
PG_DOCUMENT = ("to_tsvector('simple'::regconfig, coalesce(characters.name, '') || ' ' || "
               "coalesce(characters.tags::text, '') || ' ' || "
               "coalesce(characters.description, ''))")
# Trending: engagement weights, and how fast it fades (half-life) within the window counted.
TRENDING_WEIGHTS = {"like": 3.0, "follow": 4.0, "conversation": 5.0, "message": 1.0}
TRENDING_HALF_LIFE = timedelta(hours=48)
TRENDING_WINDOW = timedelta(days=14)
_WORD = re.compile(r"\w+", re.UNICODE)


def search_characters(session: Session, q: str = "", tag: str = "",
                      limit: int = 20, offset: int = 0, adult: bool = False) -> list[Character]:
    """Public characters matching every word of `q` (prefix match on SQLite) and carrying `tag`,
    best match first. Raises KindredError for a query or tag that is too long or empty of both."""
    q, tag = clean_query(q), clean_tag(tag)
    if not q and not tag:
        raise KindredError("bad_request", "Give a search text 'q', a 'tag', or both.")
    limit = max(1, min(int(limit), PAGE_LIMIT))
    query = select(Character).where(listed(adult))
    dialect = session.get_bind().dialect.name
    if tag:
        query = query.where(_has_tag(dialect, tag))
    if q:
        terms = _WORD.findall(q)[:MAX_TERMS]
        if not terms:
            return []
        if dialect == "sqlite":
            match = " ".join('"' + t.replace('"', '""') + '"*' for t in terms)
            hits = (sa.select(sa.literal_column("rowid").label("id"),
                              sa.literal_column("bm25(character_search, 10.0, 5.0, 1.0)")
                              .label("rank"))
                    .select_from(sa.text("character_search"))
                    .where(sa.text("character_search MATCH :match").bindparams(match=match))
                    .subquery("hits"))
            query = (query.join(hits, hits.c.id == Character.id)
                     .order_by(hits.c.rank, Character.id))
        else:
            tsquery = sa.func.plainto_tsquery(sa.literal_column("'simple'::regconfig"),
                                              " ".join(terms))
            document = sa.literal_column(PG_DOCUMENT)
            query = (query.where(document.op("@@")(tsquery))
                     .order_by(sa.func.ts_rank(document, tsquery).desc(), Character.id))
    else:
        query = query.order_by(Character.updated_at.desc(), Character.id.desc())
    return list(session.exec(query.limit(limit).offset(max(0, int(offset)))))


def clean_query(q) -> str:
    if q is None:
        return ""
    if not isinstance(q, str):
        raise KindredError("bad_request", "'q' must be text.")
    if len(q) > MAX_QUERY_CHARS:
        raise KindredError("query_too_long", f"'q' is at most {MAX_QUERY_CHARS} characters.")
    return q.strip()


def clean_tag(tag) -> str:
    if tag is None:
        return ""
    if not isinstance(tag, str):
        raise KindredError("bad_request", "'tag' must be text.")
    tag = tag.strip().lstrip("#").strip().lower()
    if len(tag) > MAX_TAG_CHARS:
        raise KindredError("tag_too_long", f"A tag is at most {MAX_TAG_CHARS} characters.")
    return tag


def trending(session: Session, limit: int = 20, now=None,
             adult: bool = False) -> list[tuple[Character, float]]:
    """Public characters by time-decayed engagement: each like, follow, conversation started and
    message in the last TRENDING_WINDOW counts its weight halved every TRENDING_HALF_LIFE."""
    now = now or utcnow()
    since = now - TRENDING_WINDOW
    public = select(Character.id).where(listed(adult))
    events = {
        "like": select(CharacterLike.character_id, CharacterLike.created_at)
        .where(CharacterLike.created_at >= since, CharacterLike.character_id.in_(public)),
        "follow": select(CharacterFollow.character_id, CharacterFollow.created_at)
        .where(CharacterFollow.created_at >= since, CharacterFollow.character_id.in_(public)),
        "conversation": select(Conversation.character_id, Conversation.created_at)
        .where(Conversation.created_at >= since, Conversation.character_id.in_(public)),
        "message": select(Conversation.character_id, Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.created_at >= since, Message.parent_id.is_not(None),
               Conversation.character_id.in_(public)),
    }
    scores: dict[int, float] = {}
    half_life = TRENDING_HALF_LIFE.total_seconds()
    for kind, query in events.items():
        weight = TRENDING_WEIGHTS[kind]
        for character_id, at in session.exec(query):
            age = max((now - at).total_seconds(), 0.0)
            scores[character_id] = scores.get(character_id, 0.0) + weight * math.pow(
                0.5, age / half_life)
    top = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:max(1, min(limit, PAGE_LIMIT))]
    by_id = {c.id: c for c in session.exec(select(Character).where(
        Character.id.in_([cid for cid, _ in top])))}
    return [(by_id[cid], round(score, 3)) for cid, score in top if cid in by_id]


def _has_tag(dialect: str, tag: str):
    if dialect == "sqlite":
        return sa.text("EXISTS (SELECT 1 FROM json_each(characters.tags) "
                       "WHERE lower(json_each.value) = :tag)").bindparams(tag=tag)
    return sa.text("EXISTS (SELECT 1 FROM json_array_elements_text(characters.tags) AS t(v) "
                   "WHERE lower(t.v) = :tag)").bindparams(tag=tag)
