"""The recommender: which n characters to deal next, and why. Pure numpy, no database, so the
offline benchmark runs exactly this code.

    evidence  = the user's likes, passes (negative), chats, interest tags and profile, each faded
                by age and by the number of newer swipes (discovery/taste.py)
    candidates= ANN neighbours of each of the user's tastes (a few clusters of recent likes, the
                interest profile), characters with the tags the user likes best, the popular, and
                a random sample of the eligible (so unexplored corners can be tried)
    score     = log-odds of a like: the user's base rate + a kernel estimate over liked and passed
                neighbours in the embedding space + the lifts of the card's tags (one Bayesian
                logistic fit over all tags) + the character's community like rate (Bayesian
                average) + a little freshness
    exploit   = MMR re-ranking by the posterior mean (relevance vs. similarity to picks and to
                the cards the user already holds); the top card is always an exploit pick
    explore   = a Thompson draw from the same posteriors, kept away from the cards the user has
                swiped, fills a share of the picks that starts at nearly all of them and falls
                to 5 % by 20 swipes (interest tags count as swipes), so the first swipes survey
                the catalog and the rest exploit it; `explore_share` of each deal goes to new
                characters / new creators (ranked by the same draw, so a catalog that is all new
                is dealt by taste, not at random)
Every pick carries the reason that ranked it: the part of its score that counted most (because
you liked X, you like #tag, matches your interests, popular in #tag), or new character."""
import math
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
from threadpoolctl import ThreadpoolController

from discovery.taste import DAY, Evidence, Scores, gather, score, tag_lift
from discovery.index import VectorIndex

_BLAS = ThreadpoolController()
POPULAR_TOP = 2_000
EVIDENCE_CACHE = 4_096       # users whose fitted evidence is kept between deals
EVIDENCE_TTL = 600.0         # seconds a fit is reused (ages fade over days; this is nothing)



@dataclass(frozen=True)
class Settings:
    half_life_days: float = 30.0       # a swipe's weight halves every this many days
    half_life_swipes: float = 25.0     # ... and every this many newer swipes (taste drifts)
    super_like_weight: float = 1.5
    pass_weight: float = 1.0           # a pass is as much evidence as a like, the other way
    chat_weight: float = 0.5           # a chat with many messages counts as half a like at most
    interest_weight: float = 2.0       # each chosen tag counts as two likes of that tag
    candidates: int = 300              # ANN neighbours fetched per deal (before filters)
    tastes: int = 3                    # at most this many taste clusters are searched
    kernel_sim: float = 0.4            # a neighbour at this cosine weighs as much as the prior
    kernel_tau: float = 0.06           # kernel width: exp((cos - kernel_sim) / kernel_tau)
    kernel_count: float = 1.4          # swipes one unit of kernel weight is worth (posterior)
    user_prior: float = 6.0            # pseudo-swipes at the global rate in the user's base rate
    tag_prior_sd: float = 1.5          # prior sd of a tag's log-odds lift (taste.fit_tags)
    w_neighbours: float = 1.0          # the prior mix; each user's own is fitted (taste.fit_mix)
    w_tags: float = 1.0
    w_direction: float = 0.5           # the old single taste direction, as one part among others
    direction_scale: float = 4.0
    mix_prior: float = 10.0            # the prior mix weighs as much as this many swipes
    mix_min_swipes: int = 8            # fewer swipes: the prior mix
    w_quality: float = 0.8
    w_fresh: float = 0.03
    prior_strength: float = 20.0       # pseudo-swipes at the global like rate (Bayesian average)
    fresh_days: float = 30.0
    mmr_lambda: float = 0.8            # 1 = pure relevance, 0 = pure diversity
    explore_share: float = 0.15        # share of each deal for new characters/creators (issue
                                       # 20 asks 15 % of impressions); 0: no exploration at all
    explore_start: float = 1.0         # the Thompson share: explore_start / (1 + (swipes /
    explore_decay: float = 14.0        # explore_decay) ** explore_power): nearly every pick of
    explore_power: float = 8.0         # the first 10 swipes, half at 14, 5 % at 20, 1 % at 25
    explore_lambda: float = 0.8        # MMR of the drawn picks, as of the others: the draw says
                                       # where to explore (not a push away from the deal)
    explore_coverage: float = 0.6      # drawn picks keep this far from the swiped cards
                                       # (times the draw's share: it fades with the survey)
    interest_swipes: float = 12.0      # each chosen interest tag counts as this many swipes in
                                       # the draw's share: a taste the user told is not surveyed
    new_days: float = 14.0             # "new" character / creator age
    liked_reason_min_sim: float = 0.35
    reason_min_lift: float = 0.4       # a part must lift the log-odds this much to be the reason


@dataclass
class Pick:
    position: int                      # index into the catalog
    reason: str
    explored: bool = False             # a new character or a new creator's (their share)


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
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        # reshape(0, -1) cannot infer the width of an empty catalog: keep the given one
        self.vectors = vectors.reshape(n, -1) if n else vectors.reshape(0, vectors.shape[-1])
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
        # Tags as ids, one row per character, padded with an id whose lift is always 0.
        self.tag_vocab = list(self.tag_positions)
        self.tag_id = {t: i for i, t in enumerate(self.tag_vocab)}
        width = max((len(t) for t in self.tags), default=0) or 1
        self.tag_matrix = np.full((n, width), len(self.tag_vocab), dtype=np.int64)
        for pos, character_tags in enumerate(self.tags):
            for j, tag in enumerate(character_tags):
                self.tag_matrix[pos, j] = self.tag_id[tag]
        self.index = index if index is not None else VectorIndex(self.vectors)
        self.refresh_flags(now)
        self._popular_order: Optional[np.ndarray] = None
        self._popular_top: Optional[np.ndarray] = None

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
        if likes or passes:  # impressions do not move a like rate
            self.counts_changed()

    def counts_changed(self) -> None:
        self._popular_order = None
        self._popular_top = None

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

    def popular_top(self, eligible: np.ndarray, count: int) -> np.ndarray:
        """The `count` eligible positions with the best Bayesian like rate, best first. Sorts
        only the best POPULAR_TOP (every swipe anywhere changes the counts, so a full sort of a
        large catalog would run on nearly every deal); the full order when filters leave too
        few of those."""
        if self._popular_top is None:
            quality = self.quality(np.arange(len(self)))
            k = min(len(self), POPULAR_TOP)
            top = np.argpartition(-quality, k - 1)[:k] if k < len(self) else np.arange(len(self))
            self._popular_top = top[np.argsort(-quality[top], kind="stable")]
        top = self._popular_top[eligible[self._popular_top]][:count]
        if len(top) < count and len(self._popular_top) < len(self):
            order = self.popular_order()
            top = order[eligible[order]][:count]
        return top


class Recommender:
    def __init__(self, settings: Settings = Settings()):
        self.settings = settings
        self._evidence: OrderedDict = OrderedDict()
        self._evidence_lock = threading.Lock()

    def evidence(self, catalog: Catalog, user: UserProfile, prior: float, now: float) -> Evidence:
        """The user's evidence and fitted mix (taste.gather), kept between deals: a new swipe,
        chat or interest changes the key, so it is fitted again; so is a new catalog, a global
        like rate that moved, or a fit older than EVIDENCE_TTL."""
        key = _profile_key(user)
        with self._evidence_lock:
            hit = self._evidence.get(key)
            if hit is not None:
                ref, at, at_prior, evidence = hit
                if ref() is catalog and 0 <= now - at < EVIDENCE_TTL \
                        and abs(at_prior - prior) < 0.005:
                    self._evidence.move_to_end(key)
                    return evidence
        evidence = gather(catalog, user, self.settings, prior)
        with self._evidence_lock:
            self._evidence[key] = (weakref.ref(catalog), now, prior, evidence)
            self._evidence.move_to_end(key)
            while len(self._evidence) > EVIDENCE_CACHE:
                self._evidence.popitem(last=False)
        return evidence

    def recommend(self, catalog: Catalog, user: UserProfile, n: int, eligible: np.ndarray,
                  rng: np.random.Generator, now: Optional[float] = None,
                  stack: Sequence[int] = ()) -> list[Pick]:
        """Up to n picks among positions where `eligible` is True, best first. `stack`: the
        positions of cards the user already holds, ahead of these picks: the picks are kept
        apart from them as from each other, and, the top card being taken, any pick may
        explore."""
        with _BLAS.limit(limits=1, user_api="blas"):  # small products: threads only cost here
            return self._recommend(catalog, user, n, eligible, rng, now,
                                   np.asarray(stack, dtype=np.int64))

    def _recommend(self, catalog: Catalog, user: UserProfile, n: int, eligible: np.ndarray,
                   rng: np.random.Generator, now: Optional[float],
                   stack: np.ndarray) -> list[Pick]:
        now = time.time() if now is None else now
        top = 0 if len(stack) else 1       # picks kept for exploitation: the top card
        s = self.settings
        available = int(eligible.sum())
        n = min(n, available)
        if n <= 0:
            return []
        prior = catalog.prior()
        evidence = self.evidence(catalog, user, prior, now)
        candidates = self._candidates(catalog, user, evidence, eligible, n, rng, available)
        mean = score(catalog, evidence, candidates, s, prior, now)
        n_new, n_drawn = self._exploration_counts(catalog, evidence, eligible, n, rng, top)
        drawn = score(catalog, evidence, candidates, s, prior, now, rng, mean.kernel).total \
            if n_new or n_drawn else None

        # Exploit by the posterior mean, then explore: the best of one Thompson draw, kept apart
        # from what the deal and the hand already hold and from the swiped cards, never the top
        # card of a deal that starts the hand.
        held = catalog.vectors[stack]
        exploit = self._mmr(catalog, candidates, mean.total, n - n_drawn, held)
        index = {int(c): i for i, c in enumerate(candidates.tolist())}
        exploit_rows = [index[p] for p in exploit]
        chosen = self._mmr_rows(catalog, candidates, drawn, n_drawn, exploit_rows,
                                s.explore_lambda, held, _swiped_vectors(evidence),
                                s.explore_coverage * self._draw_share(evidence)) \
            if n_drawn else []
        taken = set(chosen)
        # New characters and new creators get their share: if the deal holds fewer than n_new of
        # them, the best of the draw among them replace the last drawn picks that are not new,
        # then the last exploit picks (never the top card).
        picked = set(exploit_rows) | taken
        have = sum(bool(catalog.explorable[candidates[i]]) for i in picked)
        if n_new > have:
            pool = [i for i in np.argsort(-drawn, kind="stable")
                    if catalog.explorable[candidates[i]] and i not in picked]
            replaceable = [j for j in chosen if not catalog.explorable[candidates[j]]]
            for i in pool[:n_new - have]:
                if replaceable:
                    chosen.remove(replaceable.pop())
                elif len(exploit_rows) > top:
                    exploit_rows.pop()
                else:
                    break
                chosen.append(i)
        picks = [self._pick(catalog, user, evidence, mean, i, candidates) for i in exploit_rows]
        extra = [self._pick(catalog, user, evidence, mean, i, candidates, drawn=True)
                 for i in chosen]
        # The best guesses first, then what was drawn to explore: a user whose taste is known
        # meets it before "something different" (early on nearly every pick is drawn anyway).
        return (picks + extra)[:n]

    def _pick(self, catalog: Catalog, user: UserProfile, evidence: Evidence, scores: Scores,
              i: int, candidates: np.ndarray, drawn: bool = False) -> Pick:
        pos = int(candidates[i])
        return Pick(pos, self._reason(catalog, user, evidence, scores, i, pos, drawn),
                    explored=bool(catalog.explorable[pos]))

    def taste(self, catalog: Catalog, user: UserProfile) -> Optional[np.ndarray]:
        """The user's taste averaged into one unit vector, or None when nothing is known yet. Not
        what ranks (that is taste.score); it summarises, and seeds the search when there are no
        likes."""
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
            total -= 0.35 * 0.5 ** (age / half_life) * catalog.vectors[pos]
            signal = True
        if user.interest_vector is not None:
            total += s.interest_weight * user.interest_vector
            signal = True
        norm = np.linalg.norm(total)
        if not signal or norm < 1e-9:
            return None
        return (total / norm).astype(np.float32)

    def _draw_share(self, evidence: Evidence) -> float:
        """The share of the picks drawn to explore: nearly all at first, shrinking as evidence
        (swipes, and interest tags worth `interest_swipes` each) grows. The draw's push away
        from the swiped cards fades with it: the survey is over once the share is small."""
        s = self.settings
        known = evidence.swipes + s.interest_swipes * evidence.interests
        return s.explore_start / (1 + (known / s.explore_decay) ** s.explore_power)

    def _exploration_counts(self, catalog: Catalog, evidence: Evidence,
                            eligible: np.ndarray, n: int, rng: np.random.Generator,
                            top: int = 1):
        """(at least this many new characters/creators in the deal, this many picks drawn by
        Thompson sampling). The draw's share shrinks as the user's evidence grows; the first
        `top` picks (the top card, when the deal starts the stack) are never drawn."""
        s = self.settings
        if s.explore_share <= 0:
            return 0, 0
        n_new = int(n * s.explore_share + rng.random())
        if not (eligible & catalog.explorable).any():
            n_new = 0
        n_drawn = int(n * self._draw_share(evidence) + rng.random())
        return min(n_new, n - top), max(0, min(n_drawn, n - top))

    def _candidates(self, catalog: Catalog, user: UserProfile, evidence: Evidence,
                    eligible: np.ndarray, n: int, rng: np.random.Generator,
                    available: int) -> np.ndarray:
        found: list[np.ndarray] = []
        queries = self._taste_queries(catalog, user, evidence)
        if len(queries):
            # Fetch more neighbours when filters leave only a small part of the catalog.
            share = max(available / max(len(catalog), 1), 0.02)
            k = int(min(len(catalog), min(5_000, self.settings.candidates / share)))
            k = max(k // len(queries), min(len(catalog), 60))
            _, positions = catalog.index.search(queries, k)
            positions = positions.reshape(-1)
            positions = positions[positions >= 0]
            found.append(positions[eligible[positions]])
        for tag in self._liked_tags(evidence):
            tagged = catalog.tag_positions.get(tag)
            if tagged is not None and len(tagged):
                tagged = tagged[eligible[tagged]]
                if len(tagged) > 100:
                    tagged = tagged[rng.integers(0, len(tagged), 100)]
                found.append(tagged)
        found.append(catalog.popular_top(eligible, max(3 * n, 30)))
        found.append(_sample(np.flatnonzero(eligible), max(10 * n, 100), rng))
        if self.settings.explore_share > 0:
            found.append(_sample(np.flatnonzero(eligible & catalog.explorable), 128, rng))
        return _unique(np.concatenate(found))

    def _taste_queries(self, catalog: Catalog, user: UserProfile,
                       evidence: Evidence) -> np.ndarray:
        """One query vector per taste: greedy clusters of the recent likes (a like joins the
        first cluster within cosine 0.5 of it), and the interest profile."""
        liked = [i for i, kind in enumerate(evidence.kinds) if kind in ("like", "chat")]
        liked.sort(key=lambda i: -evidence.weight[i])
        centres: list[np.ndarray] = []
        for i in liked[:60]:
            v = evidence.vectors[i].astype(np.float64)
            for c in centres:
                if c @ v / np.linalg.norm(c) >= 0.5:
                    c += v
                    break
            else:
                if len(centres) < self.settings.tastes:
                    centres.append(v.copy())
        queries = [c / np.linalg.norm(c) for c in centres]
        if user.interest_vector is not None:
            queries.append(np.asarray(user.interest_vector, np.float64))
        if not queries:
            base = self.taste(catalog, user)
            if base is not None:
                queries.append(base)
        return np.array(queries, dtype=np.float32).reshape(-1, catalog.vectors.shape[1])

    def _liked_tags(self, evidence: Evidence, count: int = 3) -> list[str]:
        lifts = [(w, t) for t, w in evidence.tag_weight.items()]
        return [t for lift, t in sorted(lifts, reverse=True)[:count] if lift > 0]

    def _mmr(self, catalog: Catalog, candidates: np.ndarray, scores: np.ndarray,
             count: int, held: Optional[np.ndarray] = None) -> list[int]:
        """Maximal marginal relevance (relevance = predicted like probability) over the
        best-scored 10*count candidates, kept apart from each other and from the `held`
        vectors (the cards already in the user's hand)."""
        if count <= 0 or not len(candidates):
            return []
        top = np.argsort(-scores, kind="stable")[: max(10 * count, 50)]
        candidates = candidates[top]
        relevance = 1 / (1 + np.exp(-scores[top]))
        vectors = catalog.vectors[candidates]
        lam = self.settings.mmr_lambda
        max_sim = np.full(len(candidates), -np.inf)
        if held is not None and len(held):
            max_sim = (vectors @ held.T).max(axis=1)
        chosen: list[int] = []
        free = np.ones(len(candidates), dtype=bool)
        for _ in range(min(count, len(candidates))):
            penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
            value = np.where(free, lam * relevance - (1 - lam) * penalty, -np.inf)
            best = int(np.argmax(value))
            chosen.append(int(candidates[best]))
            free[best] = False
            max_sim = np.maximum(max_sim, vectors @ vectors[best])
        return chosen

    def _mmr_rows(self, catalog: Catalog, candidates: np.ndarray, scores: np.ndarray,
                  count: int, already: list, lam: float,
                  held: Optional[np.ndarray] = None, swiped: Optional[np.ndarray] = None,
                  coverage: float = 0.0) -> list[int]:
        """MMR over candidate rows, against the rows already in the deal and the `held`
        vectors; also `coverage` times the closeness to the nearest `swiped` card, so
        exploration covers what the user has not been shown yet."""
        free = np.ones(len(candidates), dtype=bool)
        free[already] = False
        top = np.flatnonzero(free)[np.argsort(-scores[free], kind="stable")][: max(10 * count, 50)]
        vectors = catalog.vectors[candidates[top]]
        relevance = 1 / (1 + np.exp(-scores[top]))
        max_sim = np.zeros(len(top))
        if already:
            max_sim = (vectors @ catalog.vectors[candidates[already]].T).max(axis=1)
        if held is not None and len(held):
            max_sim = np.maximum(max_sim, (vectors @ held.T).max(axis=1))
        seen = np.zeros(len(top))
        if coverage > 0 and swiped is not None and len(swiped):
            seen = coverage * (vectors @ swiped.T).max(axis=1)
        open_ = np.ones(len(top), dtype=bool)
        chosen: list[int] = []
        for _ in range(min(count, len(top))):
            value = np.where(open_, lam * relevance - (1 - lam) * max_sim - seen, -np.inf)
            best = int(np.argmax(value))
            chosen.append(int(top[best]))
            open_[best] = False
            max_sim = np.maximum(max_sim, vectors @ vectors[best])
        return chosen

    def _reason(self, catalog: Catalog, user: UserProfile, evidence: Evidence,
                scores: Scores, i: int, pos: int, drawn: bool = False) -> str:
        """The part of the score that lifted this card the most, in words: the liked neighbour,
        the liked tag or the interests behind it, its community rate; else why it was dealt
        anyway (new, drawn to explore)."""
        parts = sorted([(float(scores.neighbours[i]), "neighbours"),
                        (float(scores.tags[i]), "tags"), (float(scores.quality[i]), "quality"),
                        (float(scores.direction[i]), "direction")], reverse=True)
        for lift, part in parts:
            if lift < self.settings.reason_min_lift:
                break
            if part == "quality" and catalog.explorable[pos]:
                break  # the early rate of a new character: it is dealt as new
            reason = self.reason_for_part(catalog, user, evidence, scores, i, pos, part)
            if reason:
                return reason
        if catalog.is_new[pos]:
            return "New character"
        if catalog.new_creator[pos]:
            return "From a new creator"
        tag = _commonest_tag(catalog, pos)
        if drawn:
            return f"Something different: #{tag}" if tag else "Something different"
        return f"Popular in #{tag}" if tag else "Popular right now"

    def reason_for_part(self, catalog: Catalog, user: UserProfile, evidence: Evidence,
                        scores: Scores, i: int, pos: int, part: str) -> Optional[str]:
        """One part of the score (`neighbours`, `direction`, `tags`, `quality`) of candidate row
        `i` (catalog position `pos`) in words, or None when that part has nothing to say."""
        if part in ("neighbours", "direction") and scores.kernel is not None:
            j = int(np.argmax(scores.kernel[i] * evidence.liked))
            kind, source = evidence.kinds[j], int(evidence.positions[j])
            if kind == "interest":
                return _interests(catalog, user, pos) or "Matches your interests"
            if float(catalog.vectors[source] @ catalog.vectors[pos]) < \
                    self.settings.liked_reason_min_sim:
                return None
            verb = "chatted with" if kind == "chat" else "liked"
            return f"Because you {verb} {catalog.names[source]}"
        if part == "tags":
            lifts = [(tag_lift(evidence, t, self.settings), t) for t in catalog.tags[pos]]
            lift, tag = max(lifts) if lifts else (0.0, "")
            if lift <= 0:
                return None
            if tag in user.interest_tags:
                return _interests(catalog, user, pos)
            return f"You like #{tag}"
        if part == "quality":
            tag = _commonest_tag(catalog, pos)
            return f"Popular in #{tag}" if tag else "Popular right now"
        return None


def _swiped_vectors(evidence: Evidence) -> Optional[np.ndarray]:
    """The cards the user swiped (liked or passed), for exploration to go elsewhere."""
    rows = [i for i, kind in enumerate(evidence.kinds) if kind in ("like", "pass")]
    return evidence.vectors[rows] if rows else None


def _profile_key(user: UserProfile) -> tuple:
    """What a user's evidence is made of, without the ages (they move every second; a fit is
    reused for EVIDENCE_TTL at most)."""
    interest = None if user.interest_vector is None else \
        np.asarray(user.interest_vector, np.float32).tobytes()
    return (tuple((p, w) for p, _, w in user.likes), tuple(p for p, _ in user.passes),
            tuple((p, m) for p, _, m in user.chats), user.interest_tags, interest)


def _interests(catalog: Catalog, user: UserProfile, pos: int) -> Optional[str]:
    shared = [t for t in catalog.tags[pos] if t in user.interest_tags]
    return "Matches your interests: " + " ".join(f"#{t}" for t in shared[:2]) if shared else None


def _commonest_tag(catalog: Catalog, pos: int) -> Optional[str]:
    if not catalog.tags[pos]:
        return None
    return max(catalog.tags[pos], key=lambda t: len(catalog.tag_positions.get(t, ())))


def _sample(pool: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    if len(pool) <= size:
        return pool
    return pool[rng.integers(0, len(pool), size)]


def interleave_exploration(exploit: list, explore: list) -> list:
    """Exploration picks spread through the deal (or a feed page), never on top."""
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
