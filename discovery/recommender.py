"""The recommender: which n characters to deal next, and why. Pure numpy, no database, so the
offline benchmark runs exactly this code over a synthetic catalog.

    taste     = decayed sum of liked vectors (+), chat depth (+), passes (-), interest tags (+)
    candidates= ANN neighbours of the taste + the popular + (if short) random eligible ones
    score     = W_SIM * cosine + W_QUALITY * (Bayesian like rate - prior) + W_FRESH * freshness
    exploit   = MMR re-ranking of the best-scored candidates (relevance vs. similarity to picks)
    explore   = a share of the deck for new characters / new creators, by Thompson sampling on
                Beta(prior + likes, prior + passes), nudged by similarity to the taste
Every pick carries a reason: because you liked X, matches your interests, new, popular in #tag."""
import math
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from discovery.index import VectorIndex

DAY = 86_400.0


@dataclass(frozen=True)
class Settings:
    half_life_days: float = 30.0       # a swipe's weight in the taste halves every this many days
    super_like_weight: float = 1.5
    pass_weight: float = 0.35
    chat_weight: float = 0.5           # a chat with many messages counts as half a like at most
    interest_weight: float = 2.0       # chosen tags weigh like two fresh likes
    candidates: int = 300              # ANN neighbours fetched per deal (before filters)
    w_sim: float = 1.0
    w_quality: float = 0.6
    w_fresh: float = 0.03
    prior_strength: float = 20.0       # pseudo-swipes at the global like rate (Bayesian average)
    fresh_days: float = 30.0
    mmr_lambda: float = 0.75           # 1 = pure relevance, 0 = pure diversity
    explore_share: float = 0.2         # expected share of each deal for new characters/creators
    explore_sim_weight: float = 0.5
    new_days: float = 14.0             # "new" character / creator age
    liked_reason_min_sim: float = 0.35


@dataclass
class Pick:
    position: int                      # index into the catalog
    reason: str
    explored: bool = False


@dataclass
class UserProfile:
    """What the recommender knows about one user, in catalog positions; ages in seconds."""
    likes: list[tuple[int, float, float]] = field(default_factory=list)   # (pos, age, weight)
    passes: list[tuple[int, float]] = field(default_factory=list)         # (pos, age)
    chats: list[tuple[int, float, int]] = field(default_factory=list)     # (pos, age, messages)
    interest_vector: Optional[np.ndarray] = None
    interest_tags: frozenset = frozenset()


class Catalog:
    """Every dealable character as arrays aligned by position, the vector index over them, and
    running like/pass/impression counts."""

    def __init__(self, ids: Sequence[int], vectors: np.ndarray, created_at: Sequence[float],
                 creator_ids: Sequence[int], names: Sequence[str], tags: Sequence[Sequence[str]],
                 mature: Sequence[bool], languages: Sequence[str],
                 likes: Optional[Sequence[float]] = None, passes: Optional[Sequence[float]] = None,
                 impressions: Optional[Sequence[float]] = None, now: Optional[float] = None,
                 settings: Settings = Settings(), index: Optional[VectorIndex] = None):
        n = len(ids)
        self.settings = settings
        self.ids = np.asarray(ids, dtype=np.int64)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(n, -1)
        self.created_at = np.asarray(created_at, dtype=np.float64)
        self.creator_ids = np.asarray(creator_ids, dtype=np.int64)  # -1: no creator (house cast)
        self.names = list(names)
        self.tags = [tuple(t) for t in tags]
        self.mature = np.asarray(mature, dtype=bool)
        self.languages = np.asarray(languages, dtype=object)
        zeros = np.zeros(n, dtype=np.float64)
        self.likes = np.array(likes if likes is not None else zeros, dtype=np.float64)
        self.passes = np.array(passes if passes is not None else zeros, dtype=np.float64)
        self.impressions = np.array(impressions if impressions is not None else zeros,
                                    dtype=np.float64)
        self.position = {int(i): p for p, i in enumerate(self.ids)}
        self.tag_positions: dict[str, np.ndarray] = {}
        by_tag: dict[str, list[int]] = {}
        for pos, character_tags in enumerate(self.tags):
            for tag in character_tags:
                by_tag.setdefault(tag, []).append(pos)
        self.tag_positions = {t: np.asarray(p, dtype=np.int64) for t, p in by_tag.items()}
        self.index = index if index is not None else VectorIndex(self.vectors)
        self.refresh_flags(now)
        self._popular_order: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.ids)

    def refresh_flags(self, now: Optional[float] = None) -> None:
        """Recompute "new character" and "new creator" flags for the time `now`."""
        now = time.time() if now is None else now
        new_after = now - self.settings.new_days * DAY
        self.is_new = self.created_at >= new_after
        first_by_creator: dict[int, float] = {}
        for creator, created in zip(self.creator_ids.tolist(), self.created_at.tolist()):
            if creator >= 0 and created < first_by_creator.get(creator, math.inf):
                first_by_creator[creator] = created
        self.new_creator = np.array([c >= 0 and first_by_creator[c] >= new_after
                                     for c in self.creator_ids.tolist()], dtype=bool)
        self.explorable = self.is_new | self.new_creator

    def record(self, position: int, likes: float = 0, passes: float = 0,
               impressions: float = 0) -> None:
        self.likes[position] += likes
        self.passes[position] += passes
        self.impressions[position] += impressions
        self.counts_changed()

    def counts_changed(self) -> None:
        self._popular_order = None

    def prior(self) -> float:
        """The global like rate, the mean every character's rate is shrunk towards."""
        swiped = self.likes.sum() + self.passes.sum()
        return float((self.likes.sum() + 1.0) / (swiped + 2.0))

    def quality(self, positions: np.ndarray, prior: Optional[float] = None) -> np.ndarray:
        """Bayesian-averaged like rate: (likes + m * prior) / (likes + passes + m)."""
        prior = self.prior() if prior is None else prior
        m = self.settings.prior_strength
        likes, passes = self.likes[positions], self.passes[positions]
        return (likes + m * prior) / (likes + passes + m)

    def popular_order(self) -> np.ndarray:
        """All positions, best Bayesian like rate first (cached until the counts change)."""
        if self._popular_order is None:
            quality = self.quality(np.arange(len(self)))
            self._popular_order = np.argsort(-quality, kind="stable")
        return self._popular_order


class Recommender:
    def __init__(self, settings: Settings = Settings()):
        self.settings = settings

    def recommend(self, catalog: Catalog, user: UserProfile, n: int, eligible: np.ndarray,
                  rng: np.random.Generator, now: Optional[float] = None) -> list[Pick]:
        """Up to n picks among positions where `eligible` is True, best first."""
        now = time.time() if now is None else now
        s = self.settings
        available = int(eligible.sum())
        n = min(n, available)
        if n <= 0:
            return []
        taste = self.taste(catalog, user)
        prior = catalog.prior()

        n_explore = min(n, int(n * s.explore_share + rng.random()))
        candidates = self._candidates(catalog, taste, eligible, n, rng, available)
        sims = catalog.vectors[candidates] @ taste if taste is not None \
            else np.zeros(len(candidates), np.float32)
        fresh = np.exp(-np.maximum(now - catalog.created_at[candidates], 0) / (s.fresh_days * DAY))
        scores = (s.w_sim * sims + s.w_quality * (catalog.quality(candidates, prior) - prior)
                  + s.w_fresh * fresh)

        explore = self._explore(catalog, taste, eligible, candidates, sims, n_explore, prior, rng)
        taken = {p.position for p in explore}
        keep = np.array([c not in taken for c in candidates.tolist()], dtype=bool)
        exploit = self._mmr(catalog, candidates[keep], scores[keep], n - len(explore))
        picks = [Pick(int(p), self._reason(catalog, user, int(p), taste)) for p in exploit]
        return _interleave(picks, explore)[:n]

    def taste(self, catalog: Catalog, user: UserProfile) -> Optional[np.ndarray]:
        """The user's taste as a unit vector, or None when nothing is known yet."""
        s = self.settings
        half_life = s.half_life_days * DAY
        total = np.zeros(catalog.vectors.shape[1], dtype=np.float64)
        signal = False
        for pos, age, weight in user.likes:
            total += weight * 0.5 ** (age / half_life) * catalog.vectors[pos]
            signal = True
        for pos, age, messages in user.chats:
            depth = min(1.0, math.log1p(messages) / math.log1p(20))
            total += s.chat_weight * depth * 0.5 ** (age / half_life) * catalog.vectors[pos]
            signal = True
        for pos, age in user.passes:
            total -= s.pass_weight * 0.5 ** (age / half_life) * catalog.vectors[pos]
            signal = True
        if user.interest_vector is not None:
            total += s.interest_weight * user.interest_vector
            signal = True
        norm = np.linalg.norm(total)
        if not signal or norm < 1e-9:
            return None
        return (total / norm).astype(np.float32)

    def _candidates(self, catalog: Catalog, taste: Optional[np.ndarray], eligible: np.ndarray,
                    n: int, rng: np.random.Generator, available: int) -> np.ndarray:
        found: list[np.ndarray] = []
        if taste is not None:
            # Fetch more neighbours when filters leave only a small part of the catalog.
            share = max(available / max(len(catalog), 1), 0.02)
            k = int(min(len(catalog), min(5_000, self.settings.candidates / share)))
            _, positions = catalog.index.search(taste, k)
            positions = positions[0][positions[0] >= 0]
            found.append(positions[eligible[positions]])
        order = catalog.popular_order()
        found.append(order[eligible[order]][: max(3 * n, 30)])
        merged = _unique(np.concatenate(found))
        if len(merged) < 3 * n:
            pool = np.flatnonzero(eligible)
            extra = rng.choice(pool, size=min(len(pool), 10 * n), replace=False)
            merged = _unique(np.concatenate([merged, extra]))
        return merged

    def _explore(self, catalog: Catalog, taste: Optional[np.ndarray], eligible: np.ndarray,
                 candidates: np.ndarray, sims: np.ndarray, count: int, prior: float,
                 rng: np.random.Generator) -> list[Pick]:
        """Thompson sampling over new characters / characters of new creators."""
        if count <= 0:
            return []
        s = self.settings
        pool = np.flatnonzero(eligible & catalog.explorable)
        if not len(pool):
            return []
        if len(pool) > 512:  # the relevant ones among the candidates, plus a random sample
            near = candidates[catalog.explorable[candidates]]
            pool = _unique(np.concatenate([near, rng.choice(pool, 512, replace=False)]))
        strength = 2.0
        theta = rng.beta(strength * prior + catalog.likes[pool],
                         strength * (1 - prior) + catalog.passes[pool])
        if taste is not None:
            theta = theta + s.explore_sim_weight * (catalog.vectors[pool] @ taste)
        chosen = pool[np.argsort(-theta)[:count]]
        return [Pick(int(p), "New character" if catalog.is_new[p] else "From a new creator",
                     explored=True) for p in chosen]

    def _mmr(self, catalog: Catalog, candidates: np.ndarray, scores: np.ndarray,
             count: int) -> list[int]:
        """Maximal marginal relevance over the best-scored 10*count candidates."""
        if count <= 0 or not len(candidates):
            return []
        top = np.argsort(-scores)[: max(10 * count, 50)]
        candidates, scores = candidates[top], scores[top]
        vectors = catalog.vectors[candidates]
        lam = self.settings.mmr_lambda
        max_sim = np.full(len(candidates), -np.inf)
        chosen: list[int] = []
        free = np.ones(len(candidates), dtype=bool)
        for _ in range(min(count, len(candidates))):
            penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
            value = np.where(free, lam * scores - (1 - lam) * penalty, -np.inf)
            best = int(np.argmax(value))
            chosen.append(int(candidates[best]))
            free[best] = False
            max_sim = np.maximum(max_sim, vectors @ vectors[best])
        return chosen

    def _reason(self, catalog: Catalog, user: UserProfile, pos: int,
                taste: Optional[np.ndarray]) -> str:
        if user.likes and taste is not None:
            recent = sorted(user.likes, key=lambda like: like[1])[:50]
            liked = np.array([p for p, _, _ in recent if p != pos], dtype=np.int64)
            if len(liked):
                sims = catalog.vectors[liked] @ catalog.vectors[pos]
                best = int(np.argmax(sims))
                if sims[best] >= self.settings.liked_reason_min_sim:
                    return f"Because you liked {catalog.names[liked[best]]}"
        shared = [t for t in catalog.tags[pos] if t in user.interest_tags]
        if shared:
            return "Matches your interests: " + " ".join(f"#{t}" for t in shared[:2])
        if catalog.is_new[pos]:
            return "New character"
        if catalog.tags[pos]:
            tag = max(catalog.tags[pos], key=lambda t: len(catalog.tag_positions.get(t, ())))
            return f"Popular in #{tag}"
        return "Popular right now"


def _interleave(exploit: list[Pick], explore: list[Pick]) -> list[Pick]:
    """Exploration picks spread through the deal, never on top."""
    out = list(exploit)
    if not explore:
        return out
    step = max(1, (len(exploit) + len(explore)) // (len(explore) + 1))
    for i, pick in enumerate(explore):
        out.insert(min(len(out), step * (i + 1)), pick)
    return out


def _unique(positions: np.ndarray) -> np.ndarray:
    """Unique positions in first-seen order."""
    _, first = np.unique(positions, return_index=True)
    return positions[np.sort(first)]
