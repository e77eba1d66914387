"""How the ranked tabs order posts. Pure numpy, no database, so bench/community_feed.py runs the
same code the server does.

    trending  time-decayed engagement: (likes + 2 * comments) * 0.5 ** (age / 24 h), ties by
              recency
    for_you   per post, the sum of
                taste       what the discovery recommender predicts for the post's character
                            (discovery/taste.py: the like log-odds over the user's base rate, from
                            swipes, chats, interests and the posts the user liked); a post without
                            a character gets the lifts of its tags
                engagement  w_engagement * log1p(time-decayed engagement)
                freshness   w_fresh * 0.5 ** (age / 48 h)
              then a greedy pass that costs a post `repeat_penalty` for each earlier pick about
              the same character, and `explore_share` of the slots go to posts by new creators
              (first post, or first character, within 14 days), drawn by score plus Gumbel noise
Every pick keeps the part that lifted it most, which feed.py puts into words."""
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from threadpoolctl import ThreadpoolController

from discovery.recommender import Catalog, Recommender, interleave_exploration
from discovery.taste import LIFT_CAP, Evidence, score

_BLAS = ThreadpoolController()  # small products: BLAS threads only cost here (as the deck)
HOUR = 3600.0
DAY = 86_400.0
PUBLISHED, HELD = 0, 1


@dataclass(frozen=True)
class FeedSettings:
    trending_half_life_hours: float = 24.0
    comment_weight: float = 2.0            # a comment is worth this many likes of engagement
    fresh_half_life_hours: float = 48.0
    w_taste: float = 1.0
    w_engagement: float = 0.5
    w_fresh: float = 0.6
    repeat_penalty: float = 0.6            # per earlier pick about the same character
    explore_share: float = 0.15            # of the slots for new creators' posts
    new_creator_days: float = 14.0
    recent_candidates: int = 1500          # the newest eligible posts are always candidates
    trending_candidates: int = 1000        # ... and the best by trending score
    taste_candidates: int = 100            # characters nearest the user's taste: their posts too
    posts_per_character: int = 10
    snapshot_size: int = 200               # posts ranked for one scroll (10 pages of 20); then
                                           # a continuation ranks what is left
    post_like_weight: float = 0.5          # a liked post is evidence worth half a swipe-like
    reason_min_lift: float = 0.4           # as the deck: a part must lift the score this much


@dataclass
class Ranked:
    positions: np.ndarray       # index positions, best first
    parts: list[str]            # per pick: "taste" | "engagement" | "fresh" | "explore" | ...
    taste_rows: list[int]       # per pick: its row in `taste` (or -1), for the deck's words


class PostIndex:
    """The rankable posts (published, and held ones for their author) as arrays aligned by
    position, in id order. Counts and statuses are refreshed from the database by feed.py; the
    page it serves re-checks every post against the database."""

    def __init__(self):
        self.ids = np.zeros(0, np.int64)
        self.created = np.zeros(0, np.float64)
        self.author = np.zeros(0, np.int64)          # users.id, -1 for a character's post
        self.author_character = np.zeros(0, np.int64)
        self.subject = np.zeros(0, np.int64)         # the character it is about (or its author)
        self.mature = np.zeros(0, bool)
        self.status = np.zeros(0, np.int8)           # PUBLISHED | HELD
        self.likes = np.zeros(0, np.float64)
        self.comments = np.zeros(0, np.float64)
        self.alive = np.zeros(0, bool)               # False once hidden or deleted
        self.author_first = np.zeros(0, np.float64)  # when the author first posted (-inf: none)
        self.tags: list[tuple] = []
        self.position: dict[int, int] = {}
        self.by_subject: dict[int, list[int]] = {}
        self.first_post_by_author: dict[int, float] = {}
        self._sorted: Optional[tuple] = None
        # Positions in (created, id) order, oldest first: the newest candidates without a sort.
        self.by_created = np.zeros(0, np.int64)
        # Positions in trending order at the counts of `trend_of` (see trending_order), best
        # first, covering positions [0, len(trend_order)); later ones are the "tail".
        self.trend_order = np.zeros(0, np.int64)
        self.trend_of: Optional[tuple] = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def max_id(self) -> int:
        return int(self.ids[-1]) if len(self.ids) else 0

    def append(self, rows: list[tuple]) -> None:
        """rows: (id, created ts, author, author_character, subject, mature, status code, likes,
        comments, tags), ids above max_id, in id order."""
        if not rows:
            return
        start = len(self.ids)
        cols = list(zip(*rows))
        self.ids = np.concatenate([self.ids, np.asarray(cols[0], np.int64)])
        self.created = np.concatenate([self.created, np.asarray(cols[1], np.float64)])
        self.author = np.concatenate([self.author, np.asarray(cols[2], np.int64)])
        self.author_character = np.concatenate([self.author_character,
                                                np.asarray(cols[3], np.int64)])
        self.subject = np.concatenate([self.subject, np.asarray(cols[4], np.int64)])
        self.mature = np.concatenate([self.mature, np.asarray(cols[5], bool)])
        self.status = np.concatenate([self.status, np.asarray(cols[6], np.int8)])
        self.likes = np.concatenate([self.likes, np.asarray(cols[7], np.float64)])
        self.comments = np.concatenate([self.comments, np.asarray(cols[8], np.float64)])
        self.alive = np.concatenate([self.alive, np.ones(len(rows), bool)])
        first = []
        for offset, row in enumerate(rows):
            pos = start + offset
            self.tags.append(tuple(row[9] or ()))
            self.position[int(row[0])] = pos
            if row[4] >= 0:
                self.by_subject.setdefault(int(row[4]), []).append(pos)
            if row[2] >= 0:
                known = self.first_post_by_author.get(int(row[2]), math.inf)
                self.first_post_by_author[int(row[2])] = min(known, float(row[1]))
                first.append(self.first_post_by_author[int(row[2])])
            else:
                first.append(-math.inf)
        self.author_first = np.concatenate([self.author_first, np.asarray(first, np.float64)])
        new = np.arange(start, len(self.ids))
        new = new[np.lexsort((self.ids[new], self.created[new]))]
        if not len(self.by_created) or (self.created[new[0]], self.ids[new[0]]) > \
                (self.created[self.by_created[-1]], self.ids[self.by_created[-1]]):
            self.by_created = np.concatenate([self.by_created, new])  # the usual case: newer
        else:
            self.by_created = np.lexsort((self.ids, self.created))

    def trending_order(self, s: "FeedSettings") -> np.ndarray:
        """Every position in trending order. The score decays the same for every post,
        (likes + w * comments) * 0.5 ** ((now - created) / h), so its order does not depend on
        `now`: it is the order of log(likes + w * comments) + created * ln 2 / h, sorted once per
        counts reload instead of scoring every post on every page. Ties as trending_top: newer
        first, then the higher id. Reads the arrays without the lock: only the counts reload
        writes them in place, and it is the one that calls this."""
        newest = self.by_created[::-1]
        raw = self.likes[newest] + s.comment_weight * self.comments[newest]
        with np.errstate(divide="ignore"):
            key = np.log(raw) + self.created[newest] * (math.log(2)
                                                        / (s.trending_half_life_hours * HOUR))
        return newest[np.argsort(-key, kind="stable")]

    def set_trending_order(self, order: np.ndarray, s: "FeedSettings") -> None:
        self.trend_order = order
        self.trend_of = (s.comment_weight, s.trending_half_life_hours)

    def positions_of(self, ids: np.ndarray) -> np.ndarray:
        """Index positions of these post ids, -1 for ids not in the index (vectorised)."""
        if self._sorted is None or len(self._sorted[0]) != len(self.ids):
            order = np.argsort(self.ids, kind="stable")
            self._sorted = (self.ids[order], order)
        keys, order = self._sorted
        at = np.minimum(np.searchsorted(keys, ids), max(len(keys) - 1, 0))
        if not len(keys):
            return np.full(len(ids), -1, np.int64)
        return np.where(keys[at] == ids, order[at], -1)

    def update(self, ids: np.ndarray, likes: np.ndarray, comments: np.ndarray,
               status: np.ndarray) -> np.ndarray:
        """New counts and statuses (PUBLISHED, HELD, or -1: no longer rankable) for these posts.
        Returns the ids that are rankable but not in the index (restored ones)."""
        pos = self.positions_of(ids)
        known = pos >= 0
        at = pos[known]
        self.likes[at], self.comments[at] = likes[known], comments[known]
        rankable = status[known] >= 0
        self.alive[at] = rankable
        self.status[at[rankable]] = status[known][rankable]
        return ids[~known & (status >= 0)]


def engagement(index: PostIndex, positions: np.ndarray, now: float,
               s: FeedSettings) -> np.ndarray:
    raw = index.likes[positions] + s.comment_weight * index.comments[positions]
    age = np.maximum(now - index.created[positions], 0.0)
    return raw * 0.5 ** (age / (s.trending_half_life_hours * HOUR))


def rank_trending(index: PostIndex, eligible: np.ndarray, now: float, s: FeedSettings,
                  size: int) -> Ranked:
    positions, hot = trending_top(index, eligible, now, s, size)
    return Ranked(positions, ["engagement" if h > 0 else "fresh" for h in hot.tolist()],
                  [-1] * len(positions))


def trending_top(index: PostIndex, eligible: np.ndarray, now: float, s: FeedSettings,
                 size: int) -> tuple[np.ndarray, np.ndarray]:
    """The best `size` eligible positions by time-decayed engagement, ties by recency, and their
    scores: the first `size` eligible ones of the index's trending order (PostIndex.sort_trending)
    and every eligible post added since it was sorted, scored exactly; without an order, every
    eligible post is scored."""
    if index.trend_of == (s.comment_weight, s.trending_half_life_hours):
        positions = first_eligible(index.trend_order, eligible, size)
        tail = np.arange(len(index.trend_order), len(index))
        positions = np.concatenate([positions, tail[eligible[tail]]])
    else:
        positions = np.flatnonzero(eligible)
    hot = engagement(index, positions, now, s)
    if len(positions) > size:
        keep = np.argpartition(-hot, size - 1)[:size]
        positions, hot = positions[keep], hot[keep]
    order = np.lexsort((-index.ids[positions], -index.created[positions], -hot))
    return positions[order], hot[order]


def first_eligible(order: np.ndarray, eligible: np.ndarray, count: int) -> np.ndarray:
    """The first `count` positions of `order` that are eligible, looking at as little of it as
    it takes (chunks that double)."""
    found, start, step = [], 0, max(2 * count, 64)
    while count > 0 and start < len(order):
        chunk = order[start: start + step]
        chunk = chunk[eligible[chunk]][:count]
        found.append(chunk)
        count -= len(chunk)
        start, step = start + step, 2 * step
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def newest_eligible(index: PostIndex, eligible: np.ndarray, count: int) -> np.ndarray:
    """The `count` newest eligible positions (by created, then id)."""
    return first_eligible(index.by_created[::-1], eligible, count)


def new_creator_mask(index: PostIndex, catalog: Optional[Catalog], character_pos: np.ndarray,
                     now: float, s: FeedSettings, positions: np.ndarray) -> np.ndarray:
    """Per position of `positions`: by a creator whose first post is recent, or about a character
    the catalog counts as new or by a new creator (discovery's flags)."""
    mask = index.author_first[positions] >= now - s.new_creator_days * DAY
    if catalog is not None and len(catalog):
        cpos = character_pos[positions]
        known = cpos >= 0
        mask[known] |= catalog.explorable[cpos[known]]
    return mask


def taste_of(recommender: Recommender, catalog: Catalog, evidence: Evidence,
             character_positions: np.ndarray, prior: float, now: float):
    """The recommender's parts for these catalog positions (discovery.taste.score: posterior
    means), and per position the lift over the user's base rate without the character's own
    freshness (a post's freshness is its own)."""
    with _BLAS.limit(limits=1, user_api="blas"):
        scores = score(catalog, evidence, character_positions, recommender.settings, prior, now)
    lift = scores.neighbours + scores.tags + scores.direction + scores.quality
    return scores, np.clip(lift, -2 * LIFT_CAP, 2 * LIFT_CAP)


def tag_lift(evidence: Evidence, tags: tuple) -> float:
    """A post without a character: the sum of its tags' fitted lifts, weighted as the user's mix
    weighs tags."""
    lift = sum(evidence.tag_weight.get(t, 0.0) for t in tags)
    return evidence.mix[1] * max(-LIFT_CAP, min(LIFT_CAP, lift))


def rank_for_you(index: PostIndex, candidates: np.ndarray, taste: np.ndarray,
                 taste_rows: np.ndarray, explorable: np.ndarray, now: float, s: FeedSettings,
                 rng: np.random.Generator, size: int) -> Ranked:
    """Order `candidates` (index positions) for one reader. `taste[i]`: the taste lift of
    candidate i; `taste_rows[i]`: its row in the recommender's scores (-1 without)."""
    if not len(candidates):
        return Ranked(np.zeros(0, np.int64), [], [])
    eng = s.w_engagement * np.log1p(engagement(index, candidates, now, s))
    age = np.maximum(now - index.created[candidates], 0.0)
    fresh = s.w_fresh * 0.5 ** (age / (s.fresh_half_life_hours * HOUR))
    tasted = s.w_taste * taste
    total = tasted + eng + fresh
    parts = np.stack([tasted, eng, fresh], axis=1)
    names = ("taste", "engagement", "fresh")

    size = min(size, len(candidates))
    n_explore = int(size * s.explore_share + rng.random()) if explorable.any() else 0
    pool = np.argsort(-total, kind="stable")[: max(5 * size, 200)]
    exploit = _greedy(index, candidates, total, pool, size - min(n_explore, size - 1),
                      s.repeat_penalty)
    drawn = np.where(explorable, total + rng.gumbel(size=len(total)), -np.inf)
    drawn[exploit] = -np.inf
    explore = [int(i) for i in np.argsort(-drawn, kind="stable")[:n_explore]
               if np.isfinite(drawn[i])]
    order = np.asarray(interleave_exploration(exploit, explore), np.int64)
    best = parts[order].argmax(axis=1)
    lifted = parts[order, best] >= s.reason_min_lift
    named = [names[b] if (names[b] != "taste" or ok) else "fresh"
             for b, ok in zip(best.tolist(), lifted.tolist())]
    explored = set(explore)
    out_parts = ["explore" if i in explored else part for i, part in zip(order.tolist(), named)]
    return Ranked(candidates[order], out_parts, taste_rows[order].tolist())


def _greedy(index: PostIndex, candidates: np.ndarray, total: np.ndarray, pool: np.ndarray,
            count: int, penalty: float) -> list[int]:
    """Best first, each pick costing later posts about the same character `repeat_penalty`.
    The greedy pass in closed form: a character's posts are picked in the order of their own
    scores, so its k-th post (from 0) costs k penalties."""
    value = total[pool].astype(np.float64)
    subjects = index.subject[candidates[pool]]
    order = np.lexsort((-value, subjects))
    sorted_subjects = subjects[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_subjects)) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    rank = np.where(sorted_subjects >= 0, rank, 0)   # posts without a character: no cost
    adjusted = np.empty(len(order))
    adjusted[order] = value[order] - penalty * rank
    best = np.argsort(-adjusted, kind="stable")[:count]
    return [int(pool[i]) for i in best]
