"""Discovery benchmark (issue 4): `python -m bench.discovery [--quick] [--write]`.

1. Offline evaluation. A synthetic catalog (>= 5,000 characters over topics, 10 % of them new
   with no swipes yet) and a population of simulated users with hidden tastes who like a card with
   probability sigmoid(A * cos(taste, character) + B * appeal + C). Each user onboards (picks the
   tags of their favourite topics), then swipes 50 cards dealt 10 at a time by a policy:
   the recommender (the same `Recommender` the app runs, on synthetic embeddings), the same without
   onboarding, a popularity baseline (Bayesian like rate) and random. Reported: like-rate of the
   first 50 swipes, hit-rate@10 (the share of users whose next 10 cards hold at least one of their
   hidden top-1 % characters) and the share of impressions that went to new characters.
2. Latency of dealing 10 cards at 1,000 / 10,000 / 100,000 characters (p50, p99): the recommender
   in memory, and the whole `Discovery.deal()` on a SQLite database (queries, writes, commit).
With --write the tables replace the "## Discovery (issue 4)" section of docs/performance.md."""
import argparse
import logging
import math
import os
import platform
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from discovery.embeddings import normalise
from discovery.index import EXACT_BELOW, VectorIndex
from discovery.recommender import DAY, Catalog, Recommender, Settings, UserProfile

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
SECTION = "## Discovery (issue 4)"
DIM = 384
TOPICS = 24
NOW = time.time()
A, B, C = 7.0, 0.8, -3.2   # like probability = sigmoid(A * cos + B * appeal + C)
SWIPES, DEAL = 50, 10
log = logging.getLogger("bench.discovery")


# -- the synthetic world -----------------------------------------------------------------------

@dataclass
class World:
    centers: np.ndarray          # (TOPICS, DIM) topic directions
    latent: np.ndarray           # (n, DIM) what a character really is
    appeal: np.ndarray           # (n,) how likeable it is to everyone
    catalog: Catalog             # what the recommender sees (noisy embeddings, counts)


def make_world(n: int, rng: np.random.Generator, new_share: float = 0.1,
               background_users: int = 400, settings: Settings = Settings()) -> World:
    centers = normalise(rng.normal(size=(TOPICS, DIM)))
    primary = rng.integers(0, TOPICS, n)
    secondary = rng.integers(0, TOPICS, n)
    latent = normalise(centers[primary] + 0.45 * centers[secondary]
                       + rng.normal(0, 0.9 / math.sqrt(DIM), (n, DIM)) * 1.0)
    observed = normalise(latent + rng.normal(0, 0.5 / math.sqrt(DIM), (n, DIM)))  # model noise
    appeal = rng.normal(0, 1, n)
    is_new = rng.random(n) < new_share
    created = np.where(is_new, NOW - rng.uniform(0, 10, n) * DAY,
                       NOW - rng.uniform(30, 700, n) * DAY)
    creators = rng.integers(0, max(n // 5, 1), n)
    # Old characters carry swipes from a background population; new ones have none yet.
    tastes = user_tastes(centers, background_users, rng)
    mean_like = like_probability(tastes, latent, appeal).mean(axis=0)
    impressions = np.where(is_new, 0, rng.poisson(25, n))
    likes = rng.binomial(impressions, mean_like)
    tags = [(f"topic{p}", f"topic{s}") if p != s else (f"topic{p}",)
            for p, s in zip(primary, secondary)]
    catalog = Catalog(ids=np.arange(1, n + 1), vectors=observed, created_at=created,
                      creator_ids=creators, names=[f"char{i}" for i in range(n)], tags=tags,
                      mature=np.zeros(n, bool), languages=["en"] * n, likes=likes,
                      passes=impressions - likes, impressions=impressions, now=NOW,
                      settings=settings)
    return World(centers, latent, appeal, catalog)


def user_tastes(centers: np.ndarray, count: int, rng: np.random.Generator,
                with_topics: bool = False):
    tastes, topics = [], []
    for _ in range(count):
        k = rng.integers(1, 4)
        chosen = rng.choice(TOPICS, k, replace=False)
        weights = rng.dirichlet(np.ones(k)) + 0.3
        tastes.append(weights @ centers[chosen] + rng.normal(0, 0.6 / math.sqrt(DIM), DIM))
        topics.append(chosen[np.argsort(-weights)])
    tastes = normalise(np.array(tastes))
    return (tastes, topics) if with_topics else tastes


def like_probability(tastes: np.ndarray, latent: np.ndarray, appeal: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(A * (tastes @ latent.T) + B * appeal + C)))


# -- policies ----------------------------------------------------------------------------------

class RecommenderPolicy:
    def __init__(self, name: str, onboarding: bool = True, settings: Settings = Settings()):
        self.name, self.onboarding = name, onboarding
        self.recommender = Recommender(settings)

    def deal(self, world, user, eligible, n, rng):
        picks = self.recommender.recommend(world.catalog, user, n, eligible, rng, NOW)
        return [p.position for p in picks]


class PopularityPolicy:
    name, onboarding = "popularity (Bayesian like rate)", False

    def deal(self, world, user, eligible, n, rng):
        order = world.catalog.popular_order()
        return list(order[eligible[order]][:n])


class RandomPolicy:
    name, onboarding = "random", False

    def deal(self, world, user, eligible, n, rng):
        return list(rng.choice(np.flatnonzero(eligible), n, replace=False))


def evaluate(world: World, policies, users: int, rng: np.random.Generator) -> list[dict]:
    tastes, topics = user_tastes(world.centers, users, rng, with_topics=True)
    probabilities = like_probability(tastes, world.latent, world.appeal)
    n = len(world.catalog)
    favourites = np.argsort(-probabilities, axis=1)[:, : max(1, n // 100)]
    rows = []
    for policy in policies:
        policy_rng = np.random.default_rng(7)  # same users, same coin flips per policy
        liked_total, shown_new, shown, hits = 0, 0, 0, 0
        for u in range(users):
            profile = UserProfile()
            if policy.onboarding:
                tags = [f"topic{t}" for t in topics[u][:2]]
                profile.interest_tags = frozenset(tags)
                profile.interest_vector = normalise(
                    world.centers[topics[u][:2]].mean(axis=0))  # the tag text's embedding
            eligible = np.ones(n, dtype=bool)
            swiped = 0
            while swiped < SWIPES:
                for pos in policy.deal(world, profile, eligible, DEAL, policy_rng)[: SWIPES - swiped]:
                    eligible[pos] = False
                    shown += 1
                    shown_new += bool(world.catalog.is_new[pos])
                    if policy_rng.random() < probabilities[u, pos]:
                        liked_total += 1
                        profile.likes.append((pos, 0.0, 1.0))
                    else:
                        profile.passes.append((pos, 0.0))
                    swiped += 1
            unseen_favourites = set(favourites[u].tolist()) - set(np.flatnonzero(~eligible).tolist())
            next_deal = policy.deal(world, profile, eligible, DEAL, policy_rng)
            hits += bool(unseen_favourites & set(int(p) for p in next_deal))
        rows.append({"policy": policy.name, "like_rate": liked_total / (users * SWIPES),
                     "hit_rate": hits / users, "new_share": shown_new / max(shown, 1)})
        log.info("%s: %s", policy.name, rows[-1])
    return rows


# -- latency -----------------------------------------------------------------------------------

def recommender_latency(n: int, runs: int, rng: np.random.Generator, hnsw: bool = False) -> dict:
    world = make_world(n, rng, background_users=50)
    started = time.perf_counter()
    world.catalog.index = VectorIndex(world.catalog.vectors, exact_below=0 if hnsw else EXACT_BELOW)
    build = time.perf_counter() - started
    profile = warm_profile(world, rng)
    eligible = np.ones(n, dtype=bool)
    recommender = Recommender()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        recommender.recommend(world.catalog, profile, DEAL, eligible, rng, NOW)
        times.append(time.perf_counter() - t)
    return {"n": n, "index": world.catalog.index.kind, "build_s": build, **percentiles(times)}


def warm_profile(world: World, rng: np.random.Generator) -> UserProfile:
    n = len(world.catalog)
    picks = rng.choice(n, 50, replace=False)
    return UserProfile(likes=[(int(p), rng.uniform(0, 30) * DAY, 1.0) for p in picks[:30]],
                       passes=[(int(p), rng.uniform(0, 30) * DAY) for p in picks[30:]],
                       interest_vector=normalise(world.centers[:2].mean(axis=0)),
                       interest_tags=frozenset({"topic0", "topic1"}))


class SyntheticEmbedder:
    """Stands in for MiniLM in the service benchmark: tags map to their topic direction."""
    name, dim = "bench-synthetic-384", DIM

    def __init__(self, centers):
        self.centers = centers

    def encode(self, texts):
        out = []
        for text in texts:
            match = re.search(r"topic(\d+)", text)
            out.append(self.centers[int(match.group(1)) % TOPICS] if match
                       else np.ones(DIM) / math.sqrt(DIM))
        return normalise(np.array(out))


def service_latency(n: int, runs: int, rng: np.random.Generator, workdir: Path) -> dict:
    """Discovery.deal() end to end on SQLite with n characters: 30 swipes of history, interests,
    every deal written (dealt cards, impression counts) and committed."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from core.db import make_engine, utcnow
    from core.users import User
    from core.migrate import upgrade_database
    from discovery.deck import Discovery
    from discovery.embeddings import to_bytes
    from discovery.models import UserInterest

    world = make_world(n, rng, background_users=50)
    url = f"sqlite:///{workdir / f'discovery-{n}.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    now = utcnow()
    embedder = SyntheticEmbedder(world.centers)
    cat = world.catalog
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (username, username_key, password_hash, created_at)"
                             " VALUES ('bench', 'bench', 'x', :now)"), {"now": now})
        step = 5_000
        for start in range(0, n, step):
            block = range(start, min(n, start + step))
            conn.execute(sa.text(
                "INSERT INTO characters (id, name, tagline, description, personality, scenario, "
                "first_mes, mes_example, creator_notes, system_prompt, post_history_instructions,"
                " alternate_greetings, tags, creator, character_version, extensions, visibility,"
                " content_rating, language, created_at, updated_at) VALUES (:id, :name, '', '', "
                "'', '', 'Hello {{user}}.', '', '', '', '', '[]', :tags, '', '', '{}', 'public', "
                "'sfw', 'en', :at, :at)"),
                [{"id": i + 1, "name": f"char{i}", "tags": _json(cat.tags[i]),
                  "at": now - timedelta(seconds=float(NOW - cat.created_at[i]))} for i in block])
            conn.execute(sa.text(
                "INSERT INTO discovery_character_embeddings (character_id, model, dim, vector, "
                "text_hash, source_updated_at, updated_at) VALUES (:id, :model, :dim, :vector, "
                "'bench', :at, :now)"),
                [{"id": i + 1, "model": embedder.name, "dim": DIM, "vector": to_bytes(cat.vectors[i]),
                  "at": now - timedelta(seconds=float(NOW - cat.created_at[i])), "now": now}
                 for i in block])
            conn.execute(sa.text(
                "INSERT INTO discovery_character_stats (character_id, impressions, likes, passes)"
                " VALUES (:id, :imp, :likes, :passes)"),
                [{"id": i + 1, "imp": int(cat.impressions[i]), "likes": int(cat.likes[i]),
                  "passes": int(cat.passes[i])} for i in block])
        conn.execute(sa.text("INSERT INTO discovery_interests (user_id, tag, created_at) VALUES "
                             "(1, 'topic0', :now), (1, 'topic1', :now)"), {"now": now})
    discovery = Discovery(embedder=embedder, refresh_seconds=3600, seed=3)
    with Session(engine, expire_on_commit=False) as session:
        user = session.get(User, 1)
        started = time.perf_counter()
        cards = discovery.deal(session, user, DEAL)  # first deal builds the catalog and index
        first = time.perf_counter() - started
        for i, card in enumerate(cards):
            discovery.swipe(session, user, card["character_id"], "right" if i % 3 else "left")
        times = []
        for i in range(runs):
            t = time.perf_counter()
            cards = discovery.deal(session, user, DEAL)
            times.append(time.perf_counter() - t)
            if i % 5 == 0:  # clear the stack now and then so deals keep picking new cards
                for card in cards:
                    discovery.swipe(session, user, card["character_id"], "left")
            else:
                session.execute(sa.text("DELETE FROM discovery_dealt_cards WHERE swipe_id IS NULL"))
                session.commit()
    engine.dispose()
    return {"n": n, "first_s": first, **percentiles(times)}


def percentiles(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {"p50_ms": statistics.median(ms), "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
            "runs": len(ms)}


def _json(tags) -> str:
    import json
    return json.dumps(list(tags))


# -- report ------------------------------------------------------------------------------------

def report(quality: list[dict], catalog_size: int, users: int, latency: list[dict],
           service: list[dict]) -> str:
    lines = [SECTION, "",
             f"`python -m bench.discovery` on {platform.machine()}, {os.cpu_count()} CPUs, "
             f"numpy {np.__version__}; synthetic 384-d embeddings, the app's `Recommender`.", "",
             f"### Offline evaluation: {catalog_size:,} characters ({TOPICS} topics, 10 % new "
             f"with no swipes), {users} simulated users", "",
             "Users like a card with probability sigmoid(7 cos(taste, character) + 0.8 appeal "
             "- 3.2); each onboards with the tags of their two main topics (policies that use "
             "onboarding), then swipes 50 cards dealt 10 at a time. hit-rate@10: share of users "
             "whose next 10 cards hold one of their hidden top-1 % characters.", "",
             "| policy | like-rate, first 50 swipes | hit-rate@10 | impressions to new characters |",
             "|---|---:|---:|---:|"]
    for row in quality:
        lines.append(f"| {row['policy']} | {row['like_rate']:.1%} | {row['hit_rate']:.1%} | "
                     f"{row['new_share']:.1%} |")
    lines += ["", "### Latency of dealing 10 cards", "",
              "Recommender in memory (taste with 30 likes, 20 passes and 2 interest tags; "
              "candidates from the index, scoring, MMR, Thompson exploration):", "",
              "| characters | index | index build | p50 | p99 | runs |",
              "|---:|---|---:|---:|---:|---:|"]
    for row in latency:
        lines.append(f"| {row['n']:,} | {row['index']} | {row['build_s']:.1f} s | "
                     f"{row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms | {row['runs']} |")
    if service:
        lines += ["", "Whole `Discovery.deal()` on SQLite (user state queries, recommender, dealt "
                      "cards and impression counts written and committed; the first deal of a "
                      "process loads the catalog and builds the index):", "",
                  "| characters | first deal (catalog load) | p50 | p99 | runs |",
                  "|---:|---:|---:|---:|---:|"]
        for row in service:
            lines.append(f"| {row['n']:,} | {row['first_s']:.1f} s | {row['p50_ms']:.1f} ms | "
                         f"{row['p99_ms']:.1f} ms | {row['runs']} |")
    exact = [row for row in latency if row["index"].startswith("exact")]
    if len(exact) >= 2:
        small, big = exact[0], exact[-1]
        lines += ["", f"From {small['n']:,} to {big['n']:,} characters ({big['n'] // small['n']}x) "
                      f"the in-memory p50 with exact search grows {big['p50_ms'] / small['p50_ms']:.1f}x "
                      "(the scan is linear; everything after it works on a few hundred "
                      "candidates). Below 200,000 characters (`EXACT_BELOW`) the app uses the "
                      "exact scan: no build, nothing to rebuild when a character is published. "
                      f"The HNSW row shows what the graph buys at {big['n']:,} (search) and "
                      "what it costs (the build)."]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace (or append) only the discovery section of docs/performance.md."""
    current = DOC.read_text() if DOC.exists() else "# Performance\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    DOC.write_text(updated.rstrip("\n") + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery")
    parser.add_argument("--quick", action="store_true", help="small run (smoke test)")
    parser.add_argument("--write", action="store_true", help=f"write into {DOC}")
    parser.add_argument("--no-service", action="store_true", help="skip the SQLite timings")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in ("discovery", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    rng = np.random.default_rng(42)
    catalog_size, users = (5_000, 40) if args.quick else (5_000, 300)
    world = make_world(catalog_size, rng)
    policies = [RecommenderPolicy("recommender (with onboarding)"),
                RecommenderPolicy("recommender, no onboarding", onboarding=False),
                PopularityPolicy(), RandomPolicy()]
    quality = evaluate(world, policies, users, rng)
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
    runs = 30 if args.quick else 200
    latency = [recommender_latency(n, runs, rng) for n in sizes]
    latency.append(recommender_latency(sizes[-1], runs, rng, hnsw=True))
    service = []
    if not args.no_service:
        with tempfile.TemporaryDirectory() as workdir:
            service = [service_latency(n, runs // 2, rng, Path(workdir)) for n in sizes]
    text = report(quality, catalog_size, users, latency, service)
    print(text)
    if args.write:
        write_section(text)
        print(f"written to {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
