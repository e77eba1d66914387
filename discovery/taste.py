"""What one user's swipes say about a candidate character: a predicted like probability, made of
parts that can each be named as the reason for a card. Pure numpy; the recommender calls it.

    base      the user's own like rate, shrunk toward the catalog's global rate
    neighbours a kernel estimate of the like rate near the candidate in the embedding space: every
              like, pass, chat and the interest profile is a point, weighted by
              exp((cos - kernel_sim) / kernel_tau) and by recency. Several tastes stay several
              (two loved themes are two bumps, not their average), and passes pull the rate down
              where they are.
    tags      per tag a log-odds lift over the user's base rate, all tags fitted together (a
              Bayesian logistic regression of the swipes on the swiped cards' tags, each lift
              shrunk toward 0 = the base rate by a Normal prior; fit_tags); a candidate gets the
              sum of its tags' lifts. Fitted jointly, a tag that only came along with loved
              ones is explained away rather than counted again
    quality   the character's community like rate (Bayesian average) against the global rate

    logit p = logit base + neighbours lift + tags lift + quality lift + a tiny freshness term

Recency: a swipe's weight halves every `half_life_days` and every `half_life_swipes` newer swipes,
so a taste that drifts is followed. `sample()` draws the same quantities from their posteriors
(Thompson sampling): its spread shrinks as evidence grows."""
import math
from dataclasses import dataclass, field
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
    tag_weight: dict = field(default_factory=dict)   # tag -> fitted log-odds lift (fit_tags)
    tag_var: dict = field(default_factory=dict)      # tag -> its posterior variance
    tag_loo: Optional[np.ndarray] = None             # (m,) each row's tag lift, left out
    interests: int = 0                               # interest tags the user chose

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
    evidence.interests = len(user.interest_tags)
    fit_tags(catalog, evidence, user.interest_tags, s)
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
    x_tag = np.clip(evidence.tag_loo[rows], -LIFT_CAP, LIFT_CAP)
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


def fit_tags(catalog, evidence: Evidence, interest_tags, s) -> None:
    """Tags as evidence, fitted jointly: a Bayesian logistic regression of the user's swipes on
    the tags of the swiped cards, log-odds lifts over the user's base rate with a Normal(0,
    tag_prior_sd) prior on each (so a tag's rate is shrunk toward the base rate), the MAP by
    Newton steps and its Laplace variance for the Thompson draw. Jointly, not one rate per tag:
    the tags of one card were swiped together, so a mood tag that only ever came along with a
    loved theme's tags is explained away instead of counting the same likes again. Each chosen
    interest tag is a liked card with that tag alone, worth `interest_weight` swipes. Also sets,
    per swiped row, its lift as predicted without it (the approximate leave-one-out of the fit),
    which fit_mix uses."""
    rows = [i for i in range(len(evidence.kinds)) if evidence.positions[i] >= 0]
    vocab: dict = {}
    for i in rows:
        for tag in catalog.tags[evidence.positions[i]]:
            vocab.setdefault(tag, len(vocab))
    for tag in interest_tags:
        vocab.setdefault(tag, len(vocab))
    evidence.tag_loo = np.zeros(len(evidence.kinds))
    if not vocab:
        return
    extra = sorted(interest_tags)
    x = np.zeros((len(rows) + len(extra), len(vocab)))
    for k, i in enumerate(rows):
        for tag in catalog.tags[evidence.positions[i]]:
            x[k, vocab[tag]] = 1.0
    for k, tag in enumerate(extra):
        x[len(rows) + k, vocab[tag]] = 1.0
    y = np.concatenate([evidence.liked[rows], np.ones(len(extra))])
    w = np.concatenate([evidence.weight[rows], np.full(len(extra), s.interest_weight)])
    offset = _logit1(evidence.base)
    precision = 1.0 / s.tag_prior_sd ** 2
    beta = np.zeros(len(vocab))
    for _ in range(12):
        p = 1 / (1 + np.exp(-(offset + x @ beta)))
        grad = x.T @ (w * (y - p)) - precision * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + precision * np.eye(len(vocab))
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.abs(step).max() < 1e-4:
            break
    p = 1 / (1 + np.exp(-(offset + x @ beta)))
    hess = (x * (w * p * (1 - p))[:, None]).T @ x + precision * np.eye(len(vocab))
    cov = np.linalg.inv(hess)
    names = list(vocab)
    evidence.tag_weight = dict(zip(names, beta.tolist()))
    evidence.tag_var = dict(zip(names, np.diag(cov).tolist()))
    n = len(rows)
    lever = np.einsum("ij,jk,ik->i", x[:n], cov, x[:n])
    evidence.tag_loo[rows] = x[:n] @ beta - lever * w[:n] * (y[:n] - p[:n])


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
    """Per candidate, the sum of its tags' fitted lifts (fit_tags): posterior means, or one
    Thompson draw with `rng` (a tag the user never met is drawn from the prior, which is how it
    gets tried). Vectorised over the catalog's tag-id matrix; its padding id keeps a lift of 0."""
    rows = catalog.tag_matrix[candidates]
    lifts = np.zeros(len(catalog.tag_vocab) + 1)
    ids = np.unique(rows)
    ids = ids[ids < len(catalog.tag_vocab)]
    if not len(ids):
        return np.zeros(len(candidates))
    names = [catalog.tag_vocab[i] for i in ids.tolist()]
    mean = np.array([evidence.tag_weight.get(t, 0.0) for t in names])
    if rng is not None:
        prior_var = s.tag_prior_sd ** 2
        sd = np.sqrt([evidence.tag_var.get(t, prior_var) for t in names])
        mean = mean + sd * rng.standard_normal(len(names))
    lifts[ids] = mean
    return lifts[rows].sum(axis=1)


def tag_lift(evidence: Evidence, tag: str, settings) -> float:
    """The log-odds lift one tag gives (posterior mean)."""
    return evidence.tag_weight.get(tag, 0.0)


def _logit1(p: float) -> float:
    """_logit for one number, without numpy's per-call cost."""
    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
