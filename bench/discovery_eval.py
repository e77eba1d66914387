"""The discovery evaluation of issue 20: the deck against simple baselines, on user models the
recommender does not share, as a new community would meet it.

The deck is driven the way the /discover page drives the server: `Discovery.deal(n=3)` (cards
still open come back first), a swipe on the top card through `Discovery.swipe()`, a refill after
every swipe (fewer than 3 cards left), on a SQLite database whose characters were embedded by
the packaged all-MiniLM-L6-v2 through `ensure_embeddings()`. The baselines get the same refills, the same
MiniLM vectors, the same tags and counts, and each user's same coin per character (common random
numbers), so every policy meets exactly the same person.

Worlds (bench/discovery_world.py): "cold", 120 characters in 8 themes, every one new, no swipes;
"warm", 240 characters, 85 % of them old with swipes from a background population of the same
user models, 15 % new. Every simulated user meets the world as it was (counts are reset)."""
import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench.discovery_world import USER_MODELS, make_catalog

log = logging.getLogger("bench.discovery")
SWIPES, DEAL, REFILL_BELOW = 40, 3, 3   # app/static/js/discover.js: DEAL_SIZE, REFILL_BELOW
BASELINE_RANDOM = 0.1            # the baselines deal a random card in 10 % of the slots
WORLDS = {"cold": dict(size=120, new_share=1.0), "warm": dict(size=240, new_share=0.15)}
MODELS = ("two_theme", "three_theme", "tag", "noisy", "drift", "embedding")
POLICIES = ("deck", "random", "popularity", "centroid", "nearest_neighbour", "tag_beta",
            "oracle")
BASELINES = ("random", "popularity", "centroid", "nearest_neighbour", "tag_beta")


# -- the world in a database -------------------------------------------------------------------

@dataclass
class World:
    name: str
    characters: list               # bench.discovery_world.Character, by position
    ids: np.ndarray                # character ids, by position
    vectors: np.ndarray            # the MiniLM vectors the deck uses, by position
    tags: list
    is_new: np.ndarray
    likes: np.ndarray              # background counts (zero when cold)
    passes: np.ndarray
    engine: object = None
    embedder: object = None
    position: dict = field(default_factory=dict)


def build_world(name: str, seed: int, workdir: Path, embedder) -> World:
    from sqlmodel import Session

    from characters.models import Character
    from core.db import make_engine, utcnow
    from core.migrate import upgrade_database
    from core.users import User
    from discovery.embeddings import ensure_embeddings
    from discovery.catalog import CatalogCache

    spec = WORLDS[name]
    rng = np.random.default_rng([seed, 1 if name == "cold" else 2])
    characters = make_catalog(spec["size"], rng, spec["new_share"])
    url = f"sqlite:///{workdir / f'eval-{name}.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as session:
        creators = {}
        for c in characters:
            if c.creator not in creators:
                user = User(username=f"creator{c.creator}", username_key=f"creator{c.creator}",
                            password_hash="x")
                session.add(user)
                session.flush()
                creators[c.creator] = user.id
        rows = []
        for c in characters:
            at = now - timedelta(days=c.age_days)
            rows.append(Character(name=c.name, tagline=c.tagline, description=c.description,
                                  first_mes=f"Hello {{{{user}}}}, I am {c.name}.", tags=c.tags,
                                  creator_id=creators[c.creator], created_at=at, updated_at=at))
        session.add_all(rows)
        session.commit()
        ids = np.array([r.id for r in rows], dtype=np.int64)
        while ensure_embeddings(session, embedder):
            pass
        catalog = CatalogCache(embedder.name, _settings()).get(session)
    position_in_catalog = [catalog.position[int(i)] for i in ids]
    vectors = catalog.vectors[position_in_catalog]
    world = World(name, characters, ids, vectors, [c.tags for c in characters],
                  np.array([c.age_days < 14 for c in characters]), np.zeros(len(ids)),
                  np.zeros(len(ids)), engine, embedder,
                  {int(i): p for p, i in enumerate(ids)})
    if name == "warm":
        _background_swipes(world, rng)
    return world


def _settings():
    from discovery.recommender import Settings
    return Settings()


def _background_swipes(world: World, rng, users: int = 300, each: int = 30) -> None:
    """Old characters carry the swipes of a background population of the same user models."""
    old = np.flatnonzero(~world.is_new)
    kinds = [m for m in MODELS if m != "drift"]
    for u in range(users):
        hidden = USER_MODELS[kinds[u % len(kinds)]](world.characters, world.vectors, rng)
        seen = rng.choice(old, min(each, len(old)), replace=False)
        liked = rng.random(len(seen)) < hidden.probabilities(0)[seen]
        world.likes[seen] += liked
        world.passes[seen] += ~liked


def reset_counts(world: World, discovery) -> None:
    """Put the world back as every simulated user first meets it."""
    import sqlalchemy as sa
    with world.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM discovery_character_stats"))
        rows = [{"id": int(i), "likes": int(l), "passes": int(p), "imp": int(l + p)}
                for i, l, p in zip(world.ids, world.likes, world.passes) if l + p > 0]
        if rows:
            conn.execute(sa.text("INSERT INTO discovery_character_stats (character_id, "
                                 "impressions, likes, passes) VALUES (:id, :imp, :likes, "
                                 ":passes)"), rows)
    discovery.catalogs.invalidate()


# -- policies ----------------------------------------------------------------------------------

class DeckSession:
    """One simulated user on the real service: deal, swipe, refill like the /discover page."""

    def __init__(self, world: World, discovery, name: str):
        from sqlmodel import Session

        from core.db import utcnow
        from core.users import User
        self.world, self.discovery = world, discovery
        self.session = Session(world.engine, expire_on_commit=False)
        name = f"{world.name}-{name}"
        self.user = User(username=name[:32], username_key=name[:32], password_hash="x")
        self.session.add(self.user)
        self.session.commit()
        self.now = utcnow()

    def refill(self, stack: list) -> list:
        cards = self.discovery.deal(self.session, self.user, DEAL, now=self.now)
        return [self.world.position[c["character_id"]] for c in cards]

    def record(self, pos: int, liked: bool) -> None:
        self.discovery.swipe(self.session, self.user, int(self.world.ids[pos]),
                             "right" if liked else "left", now=self.now)
        self.now += timedelta(seconds=5)

    def close(self):
        self.session.close()


class BaselineSession:
    def __init__(self, world: World, kind: str, rng: np.random.Generator):
        self.world, self.kind, self.rng = world, kind, rng
        self.liked: list[int] = []
        self.passed: list[int] = []
        self.eligible = np.ones(len(world.ids), dtype=bool)

    def refill(self, stack: list) -> list:
        eligible = self.eligible.copy()
        eligible[stack] = False
        picks = baseline_picks(self.kind, self.world, self.liked, self.passed, eligible,
                               DEAL - len(stack), self.rng)
        return stack + picks

    def record(self, pos: int, liked: bool) -> None:
        self.eligible[pos] = False
        (self.liked if liked else self.passed).append(pos)

    def close(self):
        pass


class OracleSession(BaselineSession):
    """Not a baseline: a ceiling. It knows the hidden user model and deals the cards the user
    is most likely to like now (greedy), which shows how high swipes 21-40 can go at all."""

    def __init__(self, world: World, hidden, rng: np.random.Generator):
        super().__init__(world, "oracle", rng)
        self.hidden = hidden

    def refill(self, stack: list) -> list:
        eligible = self.eligible.copy()
        eligible[stack] = False
        k = len(self.liked) + len(self.passed)
        p = np.where(eligible, self.hidden.probabilities(k), -1.0)
        order = np.argsort(-p)[: DEAL - len(stack)]
        return stack + [int(i) for i in order if eligible[i]]


def baseline_picks(kind, world, liked, passed, eligible, n, rng) -> list[int]:
    """The baselines of issue 20, each dealing a random card in 10 % of the slots (but random
    itself, and popularity, which is the community's rate)."""
    pool = np.flatnonzero(eligible)
    if not len(pool) or n <= 0:
        return []
    jitter = rng.random(len(pool)) * 1e-6             # random order among ties
    v = world.vectors[pool]
    if kind == "random":
        return list(rng.choice(pool, min(n, len(pool)), replace=False))
    if kind == "popularity":
        prior = (world.likes.sum() + 1) / (world.likes.sum() + world.passes.sum() + 2)
        score = (world.likes[pool] + 20 * prior) / (world.likes[pool] + world.passes[pool] + 20)
        return list(pool[np.argsort(-(score + jitter))[:n]])
    if kind == "centroid":
        score = v @ _unit(world.vectors[liked].sum(axis=0)) if liked else np.zeros(len(pool))
    elif kind == "nearest_neighbour":
        score = np.zeros(len(pool))
        if liked:
            score += (v @ world.vectors[liked].T).max(axis=1)
        if passed:
            score -= (v @ world.vectors[passed].T).max(axis=1)
    elif kind == "tag_beta":
        counts: dict = {}
        for pos, y in [(p, 1) for p in liked] + [(p, 0) for p in passed]:
            for tag in world.tags[pos]:
                a, b = counts.get(tag, (1, 1))
                counts[tag] = (a + y, b + 1 - y)
        score = np.array([np.mean([_mean(counts.get(t, (1, 1))) for t in world.tags[p]])
                          for p in pool])
    else:
        raise ValueError(kind)
    order = list(pool[np.argsort(-(score + jitter))])
    picks: list[int] = []
    for _ in range(min(n, len(pool))):
        if rng.random() < BASELINE_RANDOM:
            left = [p for p in pool if p not in picks]
            choice = int(rng.choice(left))
        else:
            choice = next(p for p in order if p not in picks)
        picks.append(int(choice))
    return picks


def _unit(v):
    return v / max(np.linalg.norm(v), 1e-12)


def _mean(ab):
    return ab[0] / (ab[0] + ab[1])


# -- the evaluation ----------------------------------------------------------------------------

def run_user(world, hidden, coins, session) -> dict:
    liked_at, new_shown = [], 0
    stack = session.refill([])
    k = 0
    while k < SWIPES and stack:
        pos = stack.pop(0)
        liked = bool(coins[pos] < hidden.probabilities(k)[pos])
        session.record(pos, liked)
        liked_at.append(liked)
        new_shown += bool(world.is_new[pos])
        k += 1
        if len(stack) < REFILL_BELOW and k < SWIPES:
            stack = session.refill(stack)
    session.close()
    return {"liked": liked_at, "new": new_shown}


def evaluate_world(world: World, users: int, seed: int, models=MODELS, policies=POLICIES,
                   discovery_seed: int = 11, settings=None) -> list[dict]:
    """`settings`: the recommender's (discovery.recommender.Settings; default: the shipped)."""
    from discovery.deck import Discovery
    from discovery.recommender import Settings
    rows = []
    for model in models:
        discovery = Discovery(embedder=world.embedder, settings=settings or Settings(),
                              refresh_seconds=3600, seed=discovery_seed)
        results = {p: [] for p in policies}
        for u in range(users):
            rng = np.random.default_rng([seed, hash_name(world.name), hash_name(model), u])
            hidden = USER_MODELS[model](world.characters, world.vectors, rng)
            coins = rng.random(len(world.ids))
            for policy in policies:
                if policy == "deck":
                    reset_counts(world, discovery)
                    session = DeckSession(world, discovery, f"{model[:12]}-{u}")
                elif policy == "oracle":
                    session = OracleSession(world, hidden, np.random.default_rng(u))
                else:
                    session = BaselineSession(world, policy,
                                              np.random.default_rng([seed, u, hash_name(policy)]))
                results[policy].append(run_user(world, hidden, coins, session))
        for policy in policies:
            rows.append(summarise(world.name, model, policy, results[policy]))
            log.info("%s", rows[-1])
    return rows


def summarise(world, model, policy, results) -> dict:
    first = [x for r in results for x in r["liked"][:20]]
    second = [x for r in results for x in r["liked"][20:40]]
    shown = sum(len(r["liked"]) for r in results)
    return {"world": world, "model": model, "policy": policy,
            "like_1_20": float(np.mean(first)) if first else math.nan,
            "like_21_40": float(np.mean(second)) if second else math.nan,
            "new_share": sum(r["new"] for r in results) / max(shown, 1), "users": len(results)}


def hash_name(name: str) -> int:
    return sum((i + 1) * ord(ch) for i, ch in enumerate(name)) % 997


def verdicts(rows: list[dict]) -> list[dict]:
    """Per case: the deck, the best baseline (on swipes 21-40) and the difference."""
    out = []
    for world in dict.fromkeys(r["world"] for r in rows):
        for model in dict.fromkeys(r["model"] for r in rows if r["world"] == world):
            case = [r for r in rows if r["world"] == world and r["model"] == model]
            deck = next(r for r in case if r["policy"] == "deck")
            best = max((r for r in case if r["policy"] in BASELINES),
                       key=lambda r: r["like_21_40"],
                       default={"policy": "none", "like_21_40": math.nan})  # a deck-only run
            oracle = next((r for r in case if r["policy"] == "oracle"), None)
            out.append({"case": f"{world}_{model}", "deck": deck["like_21_40"],
                        "deck_1_20": deck["like_1_20"], "best": best["policy"],
                        "best_rate": best["like_21_40"],
                        "margin": deck["like_21_40"] - best["like_21_40"],
                        "new_share": deck["new_share"],
                        "oracle": oracle["like_21_40"] if oracle else math.nan})
    return out
