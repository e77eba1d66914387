"""What one user's swipes say about a candidate character: a predicted like probability, made of
parts that can each be named as the reason for a card. Pure numpy; the recommender calls it.

    base      the user's own like rate, shrunk toward the catalog's global rate
    neighbours a kernel estimate of the like rate near the candidate in the embedding space: every
              like, pass, chat and the interest profile is a point, weighted by
              exp((cos - kernel_sim) / kernel_tau) and by recency. Several tastes stay several
              (two loved themes are two bumps, not their average), and passes pull the rate down
              where they are.
    tags      per tag a Beta-Bernoulli rate (likes + m * base) / (swipes + m), shrunk toward the
              user's base rate; a candidate gets the log-odds lift of its best tag plus that of
              its worst
    quality   the character's community like rate (Bayesian average) against the global rate

    logit p = logit base + neighbours lift + tags lift + quality lift + a tiny freshness term

Recency: a swipe's weight halves every `half_life_days` and every `half_life_swipes` newer swipes,
so a taste that drifts is followed. `sample()` draws the same quantities from their posteriors
(Thompson sampling): its spread shrinks as evidence grows."""
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

DAY = 86_400.0
MAX_EVIDENCE = 300        # the most recent swipes used (older ones weigh next to nothing anyway)
LIFT_CAP = 4.0            # no single part moves the log-odds by more than this


@dataclass
class Evidence:
    """One user's evidence as rows: a vector each, liked (1) or not (0), a weight, and where it
    came from (a catalog position, or -1 for the interest profile)."""
    vectors: np.ndarray       # (m, d)
    liked: np.ndarray         # (m,)
    weight: np.ndarray        # (m,)
    positions: np.ndarray     # (m,) catalog position or -1
    kinds: list               # "like" | "pass" | "chat" | "interest"
    base: float               # the user's shrunk like rate
    tag_likes: dict           # tag -> weighted likes (interest tags count as likes)
    tag_swipes: dict          # tag -> weighted swipes
    swipes: int               # how many swipes and chats (unweighted): the amount of evidence
    mix: tuple = (1.0, 1.0, 0.5)  # how much this user's swipes follow neighbours, tags and the
                                  # direction (fit_mix)
    direction: Optional[np.ndarray] = None   # unit sum of likes minus half the passes
    direction_mean: float = 0.0              # the evidence's mean cosine to it

    @property
    def empty(self) -> bool:
        return not len(self.weight)


@dataclass
class Scores:
    """Per candidate: the parts of the log-odds and their total."""
    base: float
    neighbours: np.ndarray
    tags: np.ndarray
    direction: np.ndarray
    quality: np.ndarray
    fresh: np.ndarray
    kernel: Optional[np.ndarray]    # (candidates, m) kernel weights, for the reasons

    @property
    def total(self) -> np.ndarray:
        return (_logit(self.base) + self.neighbours + self.tags + self.direction + self.quality
                + self.fresh)


def gather(catalog, user, settings, prior: float) -> Evidence:
    """The user's likes, passes, chats and interests as weighted evidence rows."""
    s = settings
    swipes = [(age, pos, weight, 1.0, "like") for pos, age, weight in user.likes]
    swipes += [(age, pos, s.pass_weight, 0.0, "pass") for pos, age in user.passes]
    swipes.sort(key=lambda row: row[0])              # newest first
    swipes = swipes[:MAX_EVIDENCE]
    rows = []
    for rank, (age, pos, weight, liked, kind) in enumerate(swipes):
        fade = 0.5 ** (age / (s.half_life_days * DAY)) * 0.5 ** (rank / s.half_life_swipes)
        rows.append((pos, weight * fade, liked, kind))
    for pos, age, messages in user.chats:
        depth = min(1.0, math.log1p(messages) / math.log1p(20))
        rows.append((pos, s.chat_weight * depth * 0.5 ** (age / (s.half_life_days * DAY)), 1.0,
                     "chat"))
    positions = np.array([r[0] for r in rows], dtype=np.int64)
    weight = np.array([r[1] for r in rows], dtype=np.float64)
    liked = np.array([r[2] for r in rows], dtype=np.float64)
    kinds = [r[3] for r in rows]
    vectors = catalog.vectors[positions] if rows else np.zeros((0, catalog.vectors.shape[1]),
                                                              np.float32)
    base = float((weight @ liked + s.user_prior * prior) / (weight.sum() + s.user_prior))
    tag_likes: dict = {}
    tag_swipes: dict = {}
    for pos, w, y, kind in rows:
        for tag in catalog.tags[pos]:
            tag_likes[tag] = tag_likes.get(tag, 0.0) + w * y
            tag_swipes[tag] = tag_swipes.get(tag, 0.0) + w
    for tag in user.interest_tags:
        tag_likes[tag] = tag_likes.get(tag, 0.0) + s.interest_weight
        tag_swipes[tag] = tag_swipes.get(tag, 0.0) + s.interest_weight
    if user.interest_vector is not None:
        vectors = np.vstack([vectors, np.asarray(user.interest_vector, np.float32)[None, :]])
        positions = np.append(positions, -1)
        weight = np.append(weight, s.interest_weight)
        liked = np.append(liked, 1.0)
        kinds.append("interest")
    evidence = Evidence(vectors.astype(np.float32), liked, weight, positions, kinds, base,
                        tag_likes, tag_swipes, len(swipes) + len(user.chats))
    if len(weight):
        signed = weight * np.where(liked > 0, 1.0, -0.5)
        total = signed @ evidence.vectors.astype(np.float64)
        norm = np.linalg.norm(total)
        if norm > 1e-9:
            evidence.direction = (total / norm).astype(np.float32)
            evidence.direction_mean = float(weight @ (evidence.vectors @ evidence.direction)
                                            / weight.sum())
    evidence.mix = fit_mix(catalog, evidence, s)
    return evidence


def fit_mix(catalog, evidence: Evidence, s) -> tuple:
    """How much to trust the neighbours and the tags for this user: a two-weight logistic fit of
    each past swipe, predicted from all the others (leave one out), with a prior at
    (w_neighbours, w_tags) worth `mix_prior` swipes. A user who likes by tags gets more tags."""
    prior = np.array([s.w_neighbours, s.w_tags, s.w_direction])
    rows = [i for i, kind in enumerate(evidence.kinds) if kind in ("like", "pass")]
    if len(rows) < s.mix_min_swipes:
        return tuple(prior)
    rows = np.array(rows)
    b = evidence.base
    sims = evidence.vectors[rows] @ evidence.vectors.T
    kernel = np.exp((np.minimum(sims, 1.0) - s.kernel_sim) / s.kernel_tau) * evidence.weight
    kernel[np.arange(len(rows)), rows] = 0.0                    # leave the swipe itself out
    rate = (kernel @ evidence.liked + b) / (kernel.sum(axis=1) + 1)
    x_nb = np.clip(_logit(rate) - _logit(b), -LIFT_CAP, LIFT_CAP)
    x_tag = np.empty(len(rows))
    m = s.tag_prior
    logit_b = _logit1(b)
    for k, i in enumerate(rows.tolist()):
        w, y = evidence.weight[i], evidence.liked[i]
        lifts = []
        for tag in catalog.tags[evidence.positions[i]]:
            likes = evidence.tag_likes.get(tag, 0.0) - w * y
            swipes = evidence.tag_swipes.get(tag, 0.0) - w
            r = (likes + m * b) / (max(swipes, 0.0) + m)
            lifts.append(_logit1(r) - logit_b)
        x_tag[k] = min(LIFT_CAP, max(-LIFT_CAP, _best_and_worst(lifts)))
    x_dir = np.zeros(len(rows))
    if evidence.direction is not None:
        signed = evidence.weight * np.where(evidence.liked > 0, 1.0, -0.5)
        total = signed @ evidence.vectors.astype(np.float64)
        v = evidence.vectors[rows].astype(np.float64)
        loo = total[None, :] - signed[rows][:, None] * v
        loo /= np.maximum(np.linalg.norm(loo, axis=1, keepdims=True), 1e-9)
        x_dir = np.clip(s.direction_scale * ((v * loo).sum(axis=1) - evidence.direction_mean),
                        -LIFT_CAP, LIFT_CAP)
    x = np.stack([x_nb, x_tag, x_dir], axis=1)
    y = evidence.liked[rows]
    sw = evidence.weight[rows] / max(evidence.weight[rows].mean(), 1e-9)
    beta = prior.copy()
    for _ in range(8):                                            # Newton steps, MAP
        p = 1 / (1 + np.exp(-(_logit(b) + x @ beta)))
        grad = x.T @ (sw * (y - p)) - s.mix_prior * (beta - prior)
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + s.mix_prior * np.eye(3)
        beta = beta + np.linalg.solve(hess, grad)
    return tuple(np.clip(beta, [0.2, 0.2, 0.0], 3.0))


def score(catalog, evidence: Evidence, candidates: np.ndarray, settings, prior: float,
          now: float, rng: Optional[np.random.Generator] = None,
          kernel: Optional[np.ndarray] = None) -> Scores:
    """The parts of each candidate's log-odds: posterior means, or (with `rng`) one Thompson
    draw from the posteriors. `kernel`: the one a previous call returned for these candidates."""
    s = settings
    b = evidence.base
    if evidence.empty:
        like_mass = total_mass = np.zeros(len(candidates))
    else:
        if kernel is None:
            sims = catalog.vectors[candidates] @ evidence.vectors.T
            kernel = (np.exp((np.minimum(sims, 1.0) - s.kernel_sim) / s.kernel_tau)
                      * evidence.weight)
        like_mass, total_mass = kernel @ evidence.liked, kernel.sum(axis=1)
    alpha = s.kernel_count * (like_mass + b)
    beta = s.kernel_count * (total_mass - like_mass + (1 - b))
    rate = rng.beta(alpha, beta) if rng is not None else alpha / (alpha + beta)
    w_neighbours, w_tags, w_direction = evidence.mix
    neighbours = w_neighbours * np.clip(_logit(rate) - _logit(b), -LIFT_CAP, LIFT_CAP)

    tags = w_tags * np.clip(tag_scores(evidence, catalog, candidates, s, rng),
                            -LIFT_CAP, LIFT_CAP)

    m = s.prior_strength
    likes, passes = catalog.likes[candidates], catalog.passes[candidates]
    if rng is not None:
        q = rng.beta(m * prior + likes, m * (1 - prior) + passes)
    else:
        q = (likes + m * prior) / (likes + passes + m)
    quality = s.w_quality * np.clip(_logit(q) - _logit(prior), -LIFT_CAP, LIFT_CAP)
    direction = np.zeros(len(candidates))
    if evidence.direction is not None:
        direction = w_direction * np.clip(s.direction_scale * (
            catalog.vectors[candidates] @ evidence.direction - evidence.direction_mean),
            -LIFT_CAP, LIFT_CAP)
    fresh = s.w_fresh * np.exp(-np.maximum(now - catalog.created_at[candidates], 0)
                               / (s.fresh_days * DAY))
    return Scores(b, neighbours, tags, direction, quality, fresh, kernel)


def tag_scores(evidence: Evidence, catalog, candidates: np.ndarray, s,
               rng: Optional[np.random.Generator] = None) -> np.ndarray:
    """Per candidate, its tags together (_best_and_worst), from the per-tag posteriors (means,
    or one draw with `rng`; a tag nobody swiped is drawn from the prior, which is how it gets
    tried). Vectorised over the catalog's tag-id matrix; its padding id keeps a lift of 0."""
    rows = catalog.tag_matrix[candidates]
    lifts = np.zeros(len(catalog.tag_vocab) + 1)
    ids = np.unique(rows)
    ids = ids[ids < len(catalog.tag_vocab)]
    if not len(ids):
        return np.zeros(len(candidates))
    names = [catalog.tag_vocab[i] for i in ids.tolist()]
    likes = np.array([evidence.tag_likes.get(t, 0.0) for t in names])
    swipes = np.array([evidence.tag_swipes.get(t, 0.0) for t in names])
    b, m = evidence.base, s.tag_prior
    a, c = likes + m * b, np.maximum(swipes - likes, 0.0) + m * (1 - b)
    rate = rng.beta(a, c) if rng is not None else a / (a + c)
    lifts[ids] = _logit(rate) - _logit1(b)
    values = lifts[rows]
    return np.maximum(values.max(axis=1), 0.0) + np.minimum(values.min(axis=1), 0.0)


def tag_lift(evidence: Evidence, tag: str, settings) -> float:
    """The log-odds lift one tag gives (posterior mean)."""
    return _tag_lifts(evidence, None, None, settings, None, only=(tag,)).get(tag, 0.0)


def _tag_lifts(evidence: Evidence, catalog, candidates, s, rng, only=None) -> dict:
    b = evidence.base
    m = s.tag_prior
    tags = set(only) if only is not None else set(evidence.tag_swipes)
    if rng is not None:  # untried tags are drawn from the prior too: that is how they get tried
        for p in candidates.tolist():
            tags.update(catalog.tags[p])
    out = {}
    logit_b = _logit1(b)
    for tag in tags:
        likes = evidence.tag_likes.get(tag, 0.0)
        swipes = evidence.tag_swipes.get(tag, 0.0)
        a, c = likes + m * b, swipes - likes + m * (1 - b)
        rate = rng.beta(a, c) if rng is not None else a / (a + c)
        out[tag] = _logit1(rate) - logit_b
    return out


def _best_and_worst(lifts: list) -> float:
    """A card's tags together: its best liked tag plus its worst disliked one. Not their sum: the
    tags of one card were swiped together, so summing would count one swipe several times."""
    if not lifts:
        return 0.0
    return max(0.0, max(lifts)) + min(0.0, min(lifts))


def _logit1(p: float) -> float:
    """_logit for one number, without numpy's per-call cost."""
    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
