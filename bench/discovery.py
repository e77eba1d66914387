"""Discovery benchmark (issues 4 and 20): `python -m bench.discovery [--quick] [--write]`.

1. The deck against baselines on user models it does not share (issue 20, bench/discovery_eval.py):
   themed catalogs embedded by the packaged MiniLM, a cold one (120 characters, all new, no swipes)
   and a warm one (240, swipe history, 15 % new); users who love two or three themes, who like by
   tags, who are noisy, whose taste drifts after 20 swipes, and who like by embedding cosine (the
   old assumption); the deck through `Discovery.deal()`/`swipe()` as the /discover page calls
   them, against random, popularity, centroid, nearest neighbour and per-tag Beta-Bernoulli, and
   an oracle that knows the hidden model (a ceiling, not a baseline). Reported: like-rate of swipes
   1-20 and 21-40, the share of impressions that went to new characters.
2. Issue 4's offline evaluation on a synthetic 5,000-character world (embedding-cosine users,
   with and without onboarding).
3. Latency of dealing 10 cards at 1,000 / 10,000 / 100,000 characters (p50, p99): the recommender
   in memory, and the whole `Discovery.deal()` on a SQLite database (queries, writes, commit).
The output ends with machine-readable `name: value` lines. With --write the tables replace the
"## Discovery (issues 4 and 20)" section of docs/performance.md."""
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
SECTION = "## Discovery (issues 4 and 20)"
OLD_SECTION = "## Discovery (issue 4)"
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

def recommender_latency(n: int, runs: int, rng: np.random.Generator, index: str = "default",
                        refit: bool = False) -> dict:
    """index: "default" (what the service builds for n), "exact", "ivf" or "hnsw". refit: a new
    Recommender per deal, so the user's taste is fitted every time (as after a new swipe);
    otherwise the fit is reused between deals, as it is while the user has not swiped."""
    world = make_world(n, rng, background_users=50)
    started = time.perf_counter()
    if index == "exact":
        world.catalog.index = VectorIndex(world.catalog.vectors, exact_below=n + 1)
    elif index in ("ivf", "hnsw"):
        world.catalog.index = VectorIndex(world.catalog.vectors, exact_below=0, approx=index)
    else:
        world.catalog.index = VectorIndex(world.catalog.vectors)
    build = time.perf_counter() - started
    profile = warm_profile(world, rng)
    eligible = np.ones(n, dtype=bool)
    recommender = Recommender()
    times = []
    for _ in range(runs):
        if refit:
            recommender = Recommender()
        t = time.perf_counter()
        recommender.recommend(world.catalog, profile, DEAL, eligible, rng, NOW)
        times.append(time.perf_counter() - t)
    return {"n": n, "index": world.catalog.index.kind, "build_s": build, "refit": refit,
            **percentiles(times)}


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

def report(eval_rows: list[dict], quality: list[dict], catalog_size: int, users: int,
           latency: list[dict], service: list[dict], eval_users: int, seed: int) -> str:
    lines = [SECTION, "",
             f"`python -m bench.discovery` on {platform.machine()}, {os.cpu_count()} CPUs, "
             f"numpy {np.__version__}, seed {seed}.", ""]
    if eval_rows:
        lines += eval_report(eval_rows, eval_users)
    if quality:
        lines += [f"### Issue 4's offline evaluation: {catalog_size:,} synthetic characters "
                  f"({TOPICS} topics, 10 % new with no swipes), {users} simulated users", "",
                  "Users like a card with probability sigmoid(7 cos(taste, character) + 0.8 "
                  "appeal - 3.2) in the synthetic embedding space the recommender ranks in; each "
                  "onboards with the tags of their two main topics (policies that use "
                  "onboarding), then swipes 50 cards dealt 10 at a time. hit-rate@10: share of "
                  "users whose next 10 cards hold one of their hidden top-1 % characters.", "",
                  "| policy | like-rate, first 50 swipes | hit-rate@10 | impressions to new "
                  "characters |", "|---|---:|---:|---:|"]
        for row in quality:
            lines.append(f"| {row['policy']} | {row['like_rate']:.1%} | {row['hit_rate']:.1%} | "
                         f"{row['new_share']:.1%} |")
        lines.append("")
    if latency:
        lines += ["### Latency of dealing 10 cards", "",
                  "Recommender in memory (30 likes, 20 passes and 2 interest tags; candidates "
                  "from the index, scoring, MMR, Thompson exploration):", "",
                  "| characters | index | taste fit | index build | p50 | p99 | runs |",
                  "|---:|---|---|---:|---:|---:|---:|"]
        for row in latency:
            fit = "every deal" if row.get("refit") else "kept between deals"
            lines.append(f"| {row['n']:,} | {row['index']} | {fit} | {row['build_s']:.1f} s | "
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
    return "\n".join(lines) + "\n"


POLICY_NAMES = {"deck": "**Kindred's deck**", "random": "random", "popularity": "popularity",
                "centroid": "centroid of likes", "nearest_neighbour": "nearest neighbour",
                "tag_beta": "tag Beta-Bernoulli", "oracle": "oracle (knows the user; a ceiling)"}


def eval_report(rows: list[dict], users: int) -> list[str]:
    from bench.discovery_eval import WORLDS, verdicts
    lines = [f"### The deck against baselines, on user models it does not share ({users} users "
             "per case)", "",
             "Catalogs: " + "; ".join(f"{name} = {spec['size']} MiniLM-embedded characters in 8 "
                                      f"themes, {spec['new_share']:.0%} new"
                                      for name, spec in WORLDS.items())
             + " (warm: the others carry swipes of 300 background users). Baselines deal a "
               "random card in 10 % of the slots. Like-rate of swipes 21-40 (1-20 in brackets):",
             ""]
    models = list(dict.fromkeys(r["model"] for r in rows))
    cases = [(w, m) for w in dict.fromkeys(r["world"] for r in rows) for m in models
             if any(r["world"] == w and r["model"] == m for r in rows)]
    lines.append("| policy | " + " | ".join(f"{w} {m.replace('_', '-')}" for w, m in cases) + " |")
    lines.append("|---|" + "---:|" * len(cases))
    for policy in dict.fromkeys(r["policy"] for r in rows):
        cells = []
        for w, m in cases:
            r = next((r for r in rows if (r["world"], r["model"], r["policy"]) == (w, m, policy)),
                     None)
            cells.append(f"{r['like_21_40']:.0%} ({r['like_1_20']:.0%})" if r else "")
        lines.append(f"| {POLICY_NAMES.get(policy, policy)} | " + " | ".join(cells) + " |")
    lines += ["", "| case | deck, 21-40 | best baseline | margin | new characters' share of "
                  "the deck's impressions |", "|---|---:|---|---:|---:|"]
    for v in verdicts(rows):
        best = POLICY_NAMES.get(v["best"], v["best"])
        lines.append(f"| {v['case']} | {v['deck']:.1%} | {best} "
                     f"{v['best_rate']:.1%} | {v['margin']:+.1%} | {v['new_share']:.1%} |")
    return lines + [""]


def machine_lines(eval_rows, latency, service) -> list[str]:
    from bench.discovery_eval import verdicts
    out = []
    found = verdicts(eval_rows) if eval_rows else []
    for v in found:
        out += [f"{v['case']}_like_rate_21_40: {v['deck']:.3f}",
                f"{v['case']}_like_rate_1_20: {v['deck_1_20']:.3f}",
                f"{v['case']}_best_baseline: {v['best']}",
                f"{v['case']}_best_baseline_like_rate_21_40: {v['best_rate']:.3f}",
                f"{v['case']}_vs_best_baseline: {v['margin']:+.3f}",
                f"{v['case']}_oracle_like_rate_21_40: {v['oracle']:.3f}"]
    warm = [r for r in eval_rows if r["world"] == "warm" and r["policy"] == "deck"]
    if warm:
        out.append(f"warm_new_impressions_share: {np.mean([r['new_share'] for r in warm]):.3f}")
    if found:
        beaten = sum(v["margin"] > 0 for v in found)
        out.append(f"cases_deck_beats_best_baseline: {beaten}/{len(found)}")
    for row in latency:
        suffix = ("_hnsw" if row["index"].startswith("HNSW") else
                  "_exact" if row["n"] >= EXACT_BELOW and row["index"].startswith("exact") else "")
        suffix += "_refit" if row.get("refit") else ""
        out.append(f"deal_p99_ms_{row['n']}{suffix}: {row['p99_ms']:.1f}")
        out.append(f"deal_p50_ms_{row['n']}{suffix}: {row['p50_ms']:.1f}")
    for row in service:
        out.append(f"service_deal_p99_ms_{row['n']}: {row['p99_ms']:.1f}")
        out.append(f"service_deal_p50_ms_{row['n']}: {row['p50_ms']:.1f}")
    return out


def write_section(text: str) -> None:
    """Replace (or append) only the discovery section of docs/performance.md."""
    current = DOC.read_text() if DOC.exists() else "# Performance\n"
    for heading in (SECTION, OLD_SECTION):
        pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
        if pattern.search(current):
            DOC.write_text(pattern.sub(lambda _: text + "\n", current, count=1).rstrip("\n")
                           + "\n")
            return
    DOC.write_text(current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery")
    parser.add_argument("--quick", action="store_true", help="small run (smoke test)")
    parser.add_argument("--write", action="store_true", help=f"write into {DOC}")
    parser.add_argument("--no-service", action="store_true", help="skip the SQLite timings")
    parser.add_argument("--no-latency", action="store_true", help="skip all timings")
    parser.add_argument("--no-eval", action="store_true", help="skip the quality evaluations")
    parser.add_argument("--users", type=int, default=None, help="users per case (issue 20)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--worlds", default="cold,warm")
    parser.add_argument("--models", default=None,
                        help="comma-separated user models of issue 20 (default: all)")
    parser.add_argument("--policies", default=None,
                        help="comma-separated policies of issue 20, e.g. 'deck' to iterate on the"
                             " deck alone (default: the deck, the baselines and the oracle)")
    parser.add_argument("--no-synthetic", action="store_true",
                        help="skip issue 4's synthetic-world evaluation")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in ("discovery", "alembic", "sentence_transformers", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)
    rng = np.random.default_rng(args.seed)
    eval_users = args.users or (8 if args.quick else 60)
    eval_rows, quality = [], []
    catalog_size, users = (5_000, 40) if args.quick else (5_000, 200)
    if not args.no_eval:
        from bench.discovery_eval import MODELS, POLICIES, build_world, evaluate_world
        models = tuple(args.models.split(",")) if args.models else MODELS
        eval_policies = tuple(args.policies.split(",")) if args.policies else POLICIES
        if set(models) - set(MODELS) or set(eval_policies) - set(POLICIES):
            parser.error(f"--models takes {','.join(MODELS)}; --policies {','.join(POLICIES)}")
        from discovery.embeddings import default_embedder
        with tempfile.TemporaryDirectory() as workdir:
            for name in args.worlds.split(","):
                world = build_world(name, args.seed, Path(workdir), default_embedder())
                eval_rows += evaluate_world(world, eval_users, args.seed, models=models,
                                            policies=eval_policies)
                world.engine.dispose()
        if not args.no_synthetic:
            world = make_world(catalog_size, rng)
            policies = [RecommenderPolicy("recommender (with onboarding)"),
                        RecommenderPolicy("recommender, no onboarding", onboarding=False),
                        PopularityPolicy(), RandomPolicy()]
            quality = evaluate(world, policies, users, rng)
    latency, service = [], []
    if not args.no_latency:
        sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
        runs = 30 if args.quick else 200
        latency = [recommender_latency(n, runs, rng) for n in sizes]
        latency += [recommender_latency(n, runs, rng, refit=True) for n in sizes]
        if sizes[-1] >= EXACT_BELOW:
            latency.append(recommender_latency(sizes[-1], runs, rng, index="exact"))
        latency.append(recommender_latency(sizes[-1], runs, rng, index="hnsw"))
        if not args.no_service:
            with tempfile.TemporaryDirectory() as workdir:
                service = [service_latency(n, runs // 2, rng, Path(workdir)) for n in sizes]
    text = report(eval_rows, quality, catalog_size, users, latency, service, eval_users,
                  args.seed)
    print(text)
    if args.write:
        write_section(text)
        print(f"written to {DOC}\n")
    print("\n".join(machine_lines(eval_rows, latency, service)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
