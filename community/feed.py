"""The feed service: `Feed.page(session, viewer, tab, cursor)` -> {posts, next_cursor}, and
`Feed.character_posts(session, viewer, character_id, cursor)`, the posts about one character in
the same shape (keyset pages, as new). No Flask.

    new        every visible post, newest first (keyset pages on (created_at, id))
    following  posts by the creators you follow, by the characters you follow, or about them
               (keyset pages, as new)
    trending   time-decayed engagement (community/ranking.py), read from a snapshot
    for_you    the discovery recommender's taste for the post's character, engagement,
               freshness and a share for new creators (community/ranking.py), from a snapshot

Filters, the same on every tab and applied before anything is ranked: published posts (a held
one only to its author), never hidden or deleted ones; never a post by a blocked creator, by or
about a character of a blocked creator, or about a character the viewer may not see; mature
posts only with mature content on (discovery preferences) and an adult account. Every page is
re-checked against the database, so a stale ranking can only leave a post out, never show one
that went away. for_you also leaves out the viewer's own posts and the posts they already liked.

A `Feed` holds what lives as long as the process (the post index, the snapshots, the app's
Discovery); every call takes the request's Session."""
import math
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from characters.models import Character, CharacterFollow, CreatorFollow
from characters.service import can_view, viewer_is_adult, visible_character
from community import cursor as cursors
from community.models import Post, PostLike
from community.posts import SHOWN_COLUMNS, posts_json
from community.ranking import (HELD, PUBLISHED, FeedSettings, PostIndex, Ranked,
                               new_creator_mask, newest_eligible, rank_for_you, rank_trending,
                               tag_lift, taste_of, trending_top)
from core.db import utcnow
from core.errors import KindredError
from core.users import User
from discovery.deck import Discovery
from discovery.models import DiscoveryPreferences

TABS = ("for_you", "following", "new", "trending")
DEFAULT_LIMIT, MAX_LIMIT = 20, 50
KEYSET_ROUNDS = 5            # batches scanned for one chronological page before it is cut short
RANKABLE = {"published": PUBLISHED, "held": HELD}
RELOAD_CHUNK, RELOAD_PAUSE_SECONDS = 2000, 0.005  # the background counts reload's steps


@dataclass(frozen=True)
class Reader:
    """Who is reading, as the filters need it."""
    user_id: int
    mature: bool
    blocked_creators: frozenset
    blocked_characters: frozenset      # characters of blocked creators


class Feed:
    def __init__(self, discovery: Discovery, settings: FeedSettings = FeedSettings(),
                 refresh_seconds: float = 5.0, stats_seconds: float = 30.0,
                 snapshot_ttl: float = 3600.0, seed: Optional[int] = None, spawn=None,
                 snapshots=None):
        self.discovery = discovery
        self.settings = settings
        self.posts = PostIndexCache(refresh_seconds, stats_seconds, spawn, settings)
        # In this process, or shared (cursor.RedisSnapshotStore) when there are several.
        self.snapshots = snapshots or cursors.SnapshotStore(snapshot_ttl)
        self.rng = np.random.default_rng(seed)

    def page(self, session: Session, viewer: User, tab: str, cursor: Optional[str] = None,
             limit: int = DEFAULT_LIMIT, now: Optional[datetime] = None) -> dict:
        """One page of a tab. Raises KindredError (400) for a bad tab, limit or cursor."""
        if tab not in TABS:
            raise KindredError("bad_tab", "'tab' must be one of " + ", ".join(TABS) + ".")
        _check_limit(limit)
        state = cursors.decode(cursor, tab) if cursor else None
        reader = _reader(session, viewer)
        loaded: dict = {}  # the users and characters a ranked page's re-check read
        if tab in cursors.CHRONOLOGICAL:
            picked, next_cursor = self._chronological_page(session, reader, tab, state, limit)
        else:
            picked, next_cursor = self._ranked_page(session, reader, tab, state, limit,
                                                    now or utcnow(), loaded)
        payloads = posts_json(session, [post for post, _ in picked], viewer.id,
                              loaded.get("users"), loaded.get("characters"))
        return {"posts": [{**payload, "reason": reason}
                          for payload, (_, reason) in zip(payloads, picked)],
                "next_cursor": next_cursor}

    def character_posts(self, session: Session, viewer: User, character_id: int,
                        cursor: Optional[str] = None, limit: int = DEFAULT_LIMIT) -> dict:
        """The posts about a character (`character_id`) or written by it, newest first, with the
        feed's filters: {posts, next_cursor}. Raises KindredError: 404 for a character the
        viewer may not see, 400 for a bad limit or cursor."""
        visible_character(session, character_id, viewer.id)
        _check_limit(limit)
        state = cursors.decode(cursor, "character", scope=character_id) if cursor else None
        about = sa.or_(Post.character_id == character_id,
                       Post.author_character_id == character_id)
        posts, last = _keyset_page(session, _reader(session, viewer), about, state, limit)
        return {"posts": posts_json(session, posts, viewer.id),
                "next_cursor": cursors.keyset("character", *last, scope=character_id)
                if last else None}

    # -- new and following: keyset pages ----------------------------------------------------

    def _chronological_page(self, session: Session, reader: Reader, tab: str,
                            state: Optional[dict], limit: int) -> tuple[list, Optional[str]]:
        if tab == "new":
            posts, last = _keyset_page(session, reader, None, state, limit)
            picked = [(p, "New post") for p in posts]
        else:
            follows = _follows(session, reader.user_id)
            if not follows.creators and not follows.characters:
                return [], None
            followed = sa.or_(Post.author_id.in_(follows.creators),
                              Post.author_character_id.in_(follows.characters),
                              Post.character_id.in_(follows.characters))
            posts, last = _keyset_page(session, reader, followed, state, limit)
            names = _names(session, posts)
            picked = [(p, _following_reason(p, follows, names)) for p in posts]
        return picked, cursors.keyset(tab, *last) if last else None
    # -- for_you and trending: snapshots ----------------------------------------------------

    def _ranked_page(self, session: Session, reader: Reader, tab: str, state: Optional[dict],
                     limit: int, now: datetime, loaded: dict) -> tuple[list, Optional[str]]:
        """The page's posts and reasons, and its next cursor; fills `loaded` with the rows of the
        users and characters it read while re-checking (for posts_json)."""
        if state is None:
            snapshot = self._snapshot(session, reader, tab, frozenset(), now)
            key, offset = self.snapshots.put(snapshot), 0
        else:
            key, offset = state["s"], state["o"]
            snapshot = self.snapshots.get(key, reader.user_id, tab)
        picked: list = []
        shown_users, shown_characters = loaded.setdefault("users", {}), \
            loaded.setdefault("characters", {})
        while len(picked) < limit:
            if offset >= len(snapshot.ids):
                if not snapshot.ids:
                    return picked, None
                # This ranking is used up: rank again, leaving out everything already ranked.
                shown = snapshot.shown_before | frozenset(snapshot.ids)
                snapshot = self._snapshot(session, reader, tab, shown, now)
                if not snapshot.ids:
                    return picked, None
                key, offset = self.snapshots.put(snapshot), 0
            chunk = snapshot.ids[offset: offset + 2 * (limit - len(picked))]
            reasons = dict(zip(chunk, snapshot.reasons[offset: offset + len(chunk)]))
            # By primary key, the filters in Python: a lookup the planner cannot get wrong. Core
            # rows (attribute access as on a Post): no ORM objects, so less cyclic garbage.
            found = [p for p in session.connection().execute(
                sa.select(Post.__table__).where(Post.__table__.c.id.in_(chunk)))
                if _passes(p, reader)]
            readable, users, characters = _readable_rows(session, reader, found)
            shown_users.update(users)
            shown_characters.update(characters)
            posts = {p.id: p for p in readable}
            for post_id in chunk:
                offset += 1
                post = posts.get(post_id)
                if post is not None:
                    picked.append((post, reasons[post_id]))
                    if len(picked) == limit:
                        break
        return picked, cursors.ranked(tab, key, offset)

    def _snapshot(self, session: Session, reader: Reader, tab: str, shown: frozenset,
                  now: datetime) -> cursors.Snapshot:
        taste = self._taste(session, reader, now) if tab == "for_you" else None
        with self.posts.lock:  # one consistent index while it ranks (no queries but its own)
            index = self.posts.get(session)
            eligible = _eligible(index, reader, shown)
            size = self.settings.snapshot_size
            ts = now.timestamp()
            if tab == "trending":
                ranked = rank_trending(index, eligible, ts, self.settings, size)
                reasons = [_trending_reason(index, pos) for pos in ranked.positions.tolist()]
            else:
                ranked, reasons = self._for_you(index, eligible, reader, taste, now, size)
            ids = [int(i) for i in index.ids[ranked.positions]]
        return cursors.Snapshot(reader.user_id, tab, ids, reasons, shown)

    def _taste(self, session: Session, reader: Reader, now: datetime) -> tuple:
        """(catalog, profile, evidence, liked post ids): the deck's own reading of the reader
        (swipes, chats, interests), plus the posts they liked as half-likes of their characters."""
        catalog = self.discovery.catalogs.get(session)
        profile, _ = self.discovery.taste_profile(session, reader.user_id, catalog, now)
        liked_posts, liked_characters = _likes(session, reader.user_id)
        for character_id, liked_at in liked_characters:
            pos = catalog.position.get(character_id)
            if pos is not None:
                age = max((now - liked_at).total_seconds(), 0.0)
                profile.likes.append((pos, age, self.settings.post_like_weight))
        evidence = self.discovery.recommender.evidence(catalog, profile, catalog.prior(),
                                                       now.timestamp())
        return catalog, profile, evidence, liked_posts

    def _for_you(self, index: PostIndex, eligible: np.ndarray, reader: Reader, taste: tuple,
                 now: datetime, size: int) -> tuple[Ranked, list[str]]:
        s, ts = self.settings, now.timestamp()
        catalog, profile, evidence, liked = taste
        eligible = eligible & (index.author != reader.user_id)
        eligible[[index.position[i] for i in liked if i in index.position]] = False
        character_pos = self.posts.catalog_positions(index, catalog)
        recommender = self.discovery.recommender
        prior = catalog.prior()

        candidates = _candidates(index, eligible, catalog, evidence, character_pos, ts, s)
        cand_chars = character_pos[candidates]
        known = cand_chars >= 0
        lifts = np.zeros(len(candidates))
        taste_rows = np.full(len(candidates), -1)
        scores = None
        if known.any() and not evidence.empty:
            unique, inverse = np.unique(cand_chars[known], return_inverse=True)
            scores, lift = taste_of(recommender, catalog, evidence, unique, prior, ts)
            lifts[known], taste_rows[known] = lift[inverse], inverse
        for i in np.flatnonzero(~known):
            lifts[i] = tag_lift(evidence, index.tags[candidates[i]])
        explorable = new_creator_mask(index, catalog, character_pos, ts, s, candidates)
        ranked = rank_for_you(index, candidates, lifts, taste_rows, explorable, ts, s, self.rng,
                              size)
        reasons, said = [], {}
        for pos, part, row in zip(ranked.positions.tolist(), ranked.parts, ranked.taste_rows):
            reasons.append(self._for_you_reason(index, catalog, profile, evidence, scores, pos,
                                                part, row, int(character_pos[pos]), said))
        return ranked, reasons

    def _for_you_reason(self, index, catalog, profile, evidence, scores, pos: int, part: str,
                        row: int, character_pos: int, said: dict) -> str:
        """The deck's words for the taste part (discovery's own wording), else the post's.
        `said` keeps the deck's words per character: the same for each of its posts."""
        if part == "taste":
            if row >= 0 and scores is not None:
                if (row, character_pos) not in said:
                    said[(row, character_pos)] = self._taste_words(catalog, profile, evidence,
                                                                   scores, row, character_pos)
                if said[(row, character_pos)]:
                    return said[(row, character_pos)]
            liked = [t for t in index.tags[pos] if evidence.tag_weight.get(t, 0.0) > 0]
            if liked:
                return f"You like #{max(liked, key=lambda t: evidence.tag_weight[t])}"
        if part == "explore":
            return "From a new creator"
        if part == "engagement":
            return _trending_reason(index, pos)
        return "New post"

    def _taste_words(self, catalog, profile, evidence, scores, row: int,
                     character_pos: int) -> str:
        lifts = sorted([(float(scores.neighbours[row]), "neighbours"),
                        (float(scores.tags[row]), "tags"),
                        (float(scores.direction[row]), "direction"),
                        (float(scores.quality[row]), "quality")], reverse=True)
        for lift, name in lifts:
            if lift <= 0:
                break
            words = self.discovery.recommender.reason_for_part(
                catalog, profile, evidence, scores, row, character_pos, name)
            if words:
                return words
        return ""


class PostIndexCache:
    """The post index of this process: new posts appended at most every `refresh_seconds`, counts
    and statuses reloaded every `stats_seconds` (both 0 in tests: every call)."""

    def __init__(self, refresh_seconds: float, stats_seconds: float, spawn=None,
                 settings: FeedSettings = FeedSettings()):
        self.refresh_seconds, self.stats_seconds = refresh_seconds, stats_seconds
        self.settings = settings
        self.spawn = spawn  # runs the counts reload off the request (None: inline)
        self.index = PostIndex()
        self._checked_at = self._stats_at = -math.inf
        self.lock = threading.RLock()  # held while the index changes and while it ranks
        self._reloading = False
        self._catalog_key = None
        self._catalog_pos = np.zeros(0, np.int64)

    def get(self, session: Session) -> PostIndex:
        with self.lock:
            now = time.monotonic()
            if now - self._checked_at >= self.refresh_seconds:
                self._append(session, Post.id > self.index.max_id)
                self._checked_at = now
            if now - self._stats_at >= self.stats_seconds and not self._reloading:
                self._stats_at = now
                if self.spawn is None:
                    self._reload_counts(session)
                else:
                    self._reloading = True
                    self.spawn(self._reload_in_background, session.get_bind())
            return self.index

    def catalog_positions(self, index: PostIndex, catalog) -> np.ndarray:
        """Per index position, the discovery catalog position of the post's character (-1)."""
        with self.lock:
            same = self._catalog_key is not None and self._catalog_key() is catalog
            done = len(self._catalog_pos) if same else 0
            if done < len(index):  # only the posts added since (a new catalog: all of them)
                tail = [catalog.position.get(int(c), -1) for c in index.subject[done:].tolist()]
                self._catalog_pos = np.concatenate([self._catalog_pos[:done],
                                                    np.asarray(tail, np.int64)])
                self._catalog_key = weakref.ref(catalog)
            return self._catalog_pos

    def _append(self, session: Session, condition) -> None:
        t = Post.__table__.c  # Core rows: at 100k posts the ORM's row objects cost seconds
        # The status is checked here, not in SQL: with it there, SQLite read the status index,
        # every published post, to find none newer (24 ms of CPU every refresh_seconds at 100k
        # posts, on the page that happened to refresh). By id alone it is a primary-key range.
        rows = session.connection().execute(
            sa.select(t.id, t.created_at, t.author_id, t.author_character_id, t.character_id,
                      t.content_rating, t.status, t.like_count, t.comment_count, t.tags)
            .where(condition).order_by(t.id)).all()
        self.index.append([
            (r.id, r.created_at.timestamp(), r.author_id or -1, r.author_character_id or -1,
             r.character_id or r.author_character_id or -1, r.content_rating == "mature",
             RANKABLE[r.status], r.like_count, r.comment_count, tuple(r.tags or ()))
            for r in rows if r.status in RANKABLE])
        if self.index.trend_of is None and len(self.index):  # the first load: sort it now
            self.index.set_trending_order(self.index.trending_order(self.settings),
                                          self.settings)

    def _reload_in_background(self, engine) -> None:
        try:
            with Session(engine) as session:
                self._reload_counts(session, pause=RELOAD_PAUSE_SECONDS)
        finally:
            self._reloading = False

    def _reload_counts(self, session: Session, pause: float = 0.0) -> None:
        """Every post's counts and status, RELOAD_CHUNK posts at a time, then the trending order
        again (PostIndex.trending_order; posts added meanwhile are ranked as its tail). In the
        background it
        pauses between chunks: its Python work holds the GIL, and a page served meanwhile would
        otherwise share the CPU with it half and half (at 100k posts a for-you first page's p99
        went from its CPU's 46 ms to 70 ms wall on a quiet machine)."""
        table, after = Post.__table__, 0
        while True:
            rows = session.connection().execute(
                sa.select(table.c.id, table.c.like_count, table.c.comment_count, table.c.status)
                .where(table.c.id > after).order_by(table.c.id).limit(RELOAD_CHUNK)).all()
            if not rows:
                break
            ids, likes, comments, statuses = zip(*rows)
            codes = np.array([RANKABLE.get(s, -1) for s in statuses], np.int8)
            with self.lock:
                restored = self.index.update(np.array(ids, np.int64),
                                             np.array(likes, np.float64),
                                             np.array(comments, np.float64), codes)
                restored = [int(i) for i in restored if i <= self.index.max_id]
                if restored:  # rankable again (restored by a moderator)
                    self._append(session, Post.id.in_(restored))
            after = ids[-1]
            if len(rows) < RELOAD_CHUNK:
                break
            if pause:
                time.sleep(pause)
        index = self.index
        order = index.trending_order(self.settings)  # off the lock: a page may rank meanwhile
        with self.lock:
            if index is self.index:
                index.set_trending_order(order, self.settings)


# -- keyset pages ------------------------------------------------------------------------------

def _keyset_page(session: Session, reader: Reader, scope, state: Optional[dict],
                 limit: int) -> tuple[list[Post], Optional[tuple]]:
    """Up to `limit` posts the reader may see (and matching the SQL condition `scope`, None: all),
    newest first, strictly older than the cursor's (created_at, id); and the (created_at, id) to
    carry on after, None at the end."""
    # Two index-friendly streams, merged: published posts (status, created_at, id), and the
    # reader's own held ones.
    queries = [select(Post).where(*_visible(reader, "published")),
               select(Post).where(*_visible(reader, "held"), Post.author_id == reader.user_id)]
    if scope is not None:
        queries = [q.where(scope) for q in queries]
    queries = [q.order_by(Post.created_at.desc(), Post.id.desc()) for q in queries]
    after = (cursors.from_micros(state["at"]), state["id"]) if state else None
    accepted: list[Post] = []
    exhausted = False
    batch = limit + 1
    for _ in range(KEYSET_ROUNDS):
        found: list[Post] = []
        full = False
        for query in queries:
            if after is not None:
                query = query.where(sa.tuple_(Post.created_at, Post.id) < after)
            part = list(session.exec(query.limit(batch)))
            full = full or len(part) == batch
            found += part
        found.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        exhausted = not full and len(found) <= batch
        rows = found[:batch]
        accepted += _readable(session, reader, rows)
        if rows:
            after = (rows[-1].created_at, rows[-1].id)
        if exhausted or len(accepted) > limit:
            break
        batch = 2 * batch
    if len(accepted) > limit:
        last = accepted[limit - 1]
        return accepted[:limit], (last.created_at, last.id)
    if not exhausted and after is not None:  # cut short: carry on after what was scanned
        return accepted, after
    return accepted, None


def _check_limit(limit) -> None:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise KindredError("bad_request", f"'limit' must be between 1 and {MAX_LIMIT}.")


# -- filters -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Follows:
    creators: tuple
    characters: tuple


def _visible(reader: Reader, status: Optional[str] = None) -> list:
    """SQL conditions every post on every tab meets; `status`: only that status (still only
    ever published, or held and the reader's own)."""
    mine = sa.and_(Post.status == "held", Post.author_id == reader.user_id)
    out = [Post.status == status] if status else [sa.or_(Post.status == "published", mine)]
    if reader.blocked_creators:
        out.append(sa.or_(Post.author_id.is_(None),
                          Post.author_id.notin_(reader.blocked_creators)))
    if reader.blocked_characters:
        blocked = tuple(reader.blocked_characters)
        out.append(sa.or_(Post.author_character_id.is_(None),
                          Post.author_character_id.notin_(blocked)))
        out.append(sa.or_(Post.character_id.is_(None), Post.character_id.notin_(blocked)))
    if not reader.mature:
        out.append(Post.content_rating == "sfw")
    return out


def _passes(post: Post, reader: Reader) -> bool:
    """_visible, for one post already loaded."""
    return ((post.status == "published"
             or (post.status == "held" and post.author_id == reader.user_id))
            and post.author_id not in reader.blocked_creators
            and post.author_character_id not in reader.blocked_characters
            and post.character_id not in reader.blocked_characters
            and (reader.mature or post.content_rating == "sfw"))


def _eligible(index: PostIndex, reader: Reader, shown: frozenset) -> np.ndarray:
    """The index positions the same filters allow (the page re-checks them in SQL)."""
    eligible = index.alive & ((index.status == PUBLISHED) | (index.author == reader.user_id))
    if reader.blocked_creators:
        eligible &= ~np.isin(index.author, list(reader.blocked_creators))
    if reader.blocked_characters:
        blocked = list(reader.blocked_characters)
        eligible &= ~np.isin(index.subject, blocked) & ~np.isin(index.author_character, blocked)
    if not reader.mature:
        eligible &= ~index.mature
    if shown:
        eligible[[index.position[i] for i in shown if i in index.position]] = False
    return eligible


def _readable(session: Session, reader: Reader, posts: list[Post]) -> list[Post]:
    """The posts whose characters the reader may see (characters.service.can_view, and mature
    ones only with mature content on) and whose author is not banned, in the order given."""
    return _readable_rows(session, reader, posts)[0]


def _readable_rows(session: Session, reader: Reader, posts: list) -> tuple[list, dict, dict]:
    """_readable, and the rows it read: {id: user row}, {id: character row}, each with the
    columns posts_json shows (SHOWN_COLUMNS), so the page's payloads need not read them again."""
    character_ids = {i for p in posts for i in (p.character_id, p.author_character_id) if i}
    characters = {c.id: c for c in session.exec(
        select(*SHOWN_COLUMNS[Character], Character.visibility, Character.moderation_hidden,
               Character.creator_id, Character.content_rating)
        .where(Character.id.in_(character_ids)))} if character_ids else {}
    seeable = {i for i, c in characters.items() if can_view(c, reader.user_id)
               and (reader.mature or c.content_rating != "mature"
                    or c.creator_id == reader.user_id)}
    author_ids = {p.author_id for p in posts if p.author_id}
    users = {u.id: u for u in session.exec(select(*SHOWN_COLUMNS[User], User.banned_at)
                                           .where(User.id.in_(author_ids)))} \
        if author_ids else {}
    banned = {i for i, u in users.items() if u.banned_at is not None}
    readable = [p for p in posts if p.author_id not in banned
                and all(i is None or i in seeable for i in (p.character_id, p.author_character_id))]
    return readable, users, characters


def _reader(session: Session, viewer: User) -> Reader:
    prefs = session.get(DiscoveryPreferences, viewer.id)
    blocked = frozenset(prefs.blocked_creator_ids or []) if prefs is not None else frozenset()
    characters = frozenset(session.exec(select(Character.id)
                                        .where(Character.creator_id.in_(blocked)))) \
        if blocked else frozenset()
    mature = prefs is not None and prefs.show_mature and viewer_is_adult(session, viewer.id)
    return Reader(viewer.id, mature, blocked, characters)



def _follows(session: Session, user_id: int) -> Follows:
    creators = session.exec(select(CreatorFollow.creator_id)
                            .where(CreatorFollow.follower_id == user_id)).all()
    characters = session.exec(select(CharacterFollow.character_id)
                              .where(CharacterFollow.user_id == user_id)).all()
    return Follows(tuple(creators), tuple(characters))


def _likes(session: Session, user_id: int, limit: int = 2000,
           characters: int = 200) -> tuple[list[int], list[tuple]]:
    """The ids of the posts the user liked last (at most `limit`), and (character id, when) of
    the last `characters` of them that are about a character: one query, Core rows."""
    like, post = PostLike.__table__.c, Post.__table__.c
    rows = session.connection().execute(
        sa.select(like.post_id, sa.func.coalesce(post.character_id, post.author_character_id),
                  like.created_at)
        .select_from(PostLike.__table__.outerjoin(Post.__table__, post.id == like.post_id))
        .where(like.user_id == user_id)
        .order_by(like.created_at.desc()).limit(limit)).all()
    about = [(subject, at) for _, subject, at in rows if subject is not None]
    return [r[0] for r in rows], about[:characters]


def _candidates(index: PostIndex, eligible: np.ndarray, catalog, evidence,
                character_pos: np.ndarray, now: float, s: FeedSettings) -> np.ndarray:
    """The newest eligible posts, the best by trending score, and the recent posts about the
    characters nearest the user's tastes (the discovery index's ANN search)."""
    if not eligible.any():
        return np.zeros(0, np.int64)
    found = [newest_eligible(index, eligible, s.recent_candidates),
             trending_top(index, eligible, now, s, s.trending_candidates)[0]]
    if not evidence.empty and len(catalog):
        liked = [i for i, k in enumerate(evidence.kinds) if k != "pass"]
        liked.sort(key=lambda i: -evidence.weight[i])
        queries = [evidence.vectors[i] for i in liked[:3]]
        if evidence.direction is not None:
            queries.append(evidence.direction)
        if queries:
            k = min(len(catalog), s.taste_candidates)
            _, near = catalog.index.search(np.asarray(queries, np.float32), k)
            nearest: list = []
            for character_id in catalog.ids[np.unique(near[near >= 0])].tolist():
                nearest += index.by_subject.get(character_id, ())[-s.posts_per_character:]
            found.append(np.asarray(nearest, np.int64))
    candidates = np.unique(np.concatenate(found))
    return candidates[eligible[candidates]]


# -- reasons -----------------------------------------------------------------------------------

def _trending_reason(index: PostIndex, pos: int) -> str:
    likes = int(index.likes[pos])
    if likes <= 0 and index.comments[pos] <= 0:
        return "New post"
    tags = index.tags[pos]
    where = f" in #{tags[0]}" if tags else ""
    return f"Trending{where}: {likes} like{'s' if likes != 1 else ''}"


def _names(session: Session, posts: list[Post]) -> dict:
    users = {p.author_id for p in posts if p.author_id}
    characters = {i for p in posts for i in (p.character_id, p.author_character_id) if i}
    names = {}
    if users:
        names.update({("user", i): n for i, n in session.exec(
            select(User.id, User.username).where(User.id.in_(users)))})
    if characters:
        names.update({("character", i): n for i, n in session.exec(
            select(Character.id, Character.name).where(Character.id.in_(characters)))})
    return names


def _following_reason(post: Post, follows: Follows, names: dict) -> str:
    if post.author_id in follows.creators:
        return f"You follow {names.get(('user', post.author_id), 'this creator')}"
    if post.author_character_id in follows.characters:
        return f"You follow {names.get(('character', post.author_character_id), 'them')}"
    return f"About {names.get(('character', post.character_id), 'a character')}, whom you follow"
