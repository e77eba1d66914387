"""Feed benchmark (issue 15): `python -m bench.community_feed [--quick]`.

1. Offline evaluation with simulated users, as for the deck (bench/discovery_eval.py, whose
   warm world and user models this reuses): the warm world's 240 MiniLM-embedded characters,
   1,200 posts about them over the last 7 days, with the likes and comments of a background
   population. Each simulated user (two or three loved themes, by tags, noisy, drifting, by
   embedding cosine) first makes 20 swipes on the real deck (`Discovery.deal()`/`swipe()`), then
   reads 3 pages of 20 of one tab through `Feed.page()` and likes what their hidden model says
   (the post's character, plus a hidden appeal of the post that the background's likes reflect).
   Every tab meets the same person: the same swipes, the same coin per post. Reported: the share
   of posts shown that were liked, per tab; for_you must beat trending and new.
2. Latency of `Feed.page()` at 100,000 posts on SQLite (2,000 characters, 3,000 authors, the
   reader with interests, follows and liked posts): the first page of each tab (a ranked tab ranks
   a new snapshot every time) and the page after it, p50 and p99, against a reference measured in
   the same run: the plainest feed page there is (the newest 20 published posts, one indexed
   query through the same ORM session).
The output ends with machine-readable `name: value` lines."""
import argparse
import gc
import logging
import math
import os
import platform
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench.discovery import percentiles
from bench.discovery_eval import DeckSession, build_world, hash_name, reset_counts
from bench.discovery_world import USER_MODELS

log = logging.getLogger("bench.community_feed")
TABS = ("for_you", "trending", "new")
WARMUP_SWIPES, PAGES, PAGE = 20, 3, 20
POSTS, POST_DAYS, POST_APPEAL = 1_200, 7.0, 0.8
MODELS = ("two_theme", "three_theme", "tag", "noisy", "drift", "embedding")


# -- 1. the offline evaluation -----------------------------------------------------------------

def build_posts(world, rng: np.random.Generator) -> dict:
    """Posts about the world's characters, by their creators, with a background's engagement.
    Returns per post id: (character position, hidden appeal)."""
    import sqlalchemy as sa

    from community.models import Post
    from core.db import utcnow
    creators = dict(world.engine.connect().execute(
        sa.text("SELECT id, creator_id FROM characters")).all())
    rate = (world.likes + 1) / (world.likes + world.passes + 2)
    rate = np.where(world.likes + world.passes > 0, rate, rate.mean())
    now = utcnow()
    rows, hidden = [], []
    for _ in range(POSTS):
        pos = int(rng.integers(len(world.ids)))
        appeal = float(rng.normal())
        age_days = float(rng.uniform(0, POST_DAYS))
        exposure = rng.poisson(6 * min(age_days, 3.0) + 2)
        p = 1 / (1 + math.exp(-(math.log(rate[pos] / (1 - rate[pos])) + POST_APPEAL * appeal)))
        likes = int(rng.binomial(exposure, p))
        at = now - timedelta(days=age_days)
        character_id = int(world.ids[pos])
        rows.append({"kind": "character", "body": "", "author_kind": "user",
                     "author_id": creators[character_id], "character_id": character_id,
                     "excerpt": [], "tags": [], "content_rating": "sfw", "status": "published",
                     "like_count": likes, "comment_count": int(rng.binomial(likes, 0.15)),
                     "seeded": False, "created_at": at, "updated_at": at})
        hidden.append((pos, appeal))
    # ids in publication order, as on a real site
    paired = sorted(zip(rows, hidden), key=lambda pair: pair[0]["created_at"])
    with world.engine.begin() as conn:
        ids = [conn.execute(sa.insert(Post.__table__).values(**row)).inserted_primary_key[0]
               for row, _ in paired]
    return {int(i): h for i, (_, h) in zip(ids, paired)}


def evaluate(world, posts: dict, users: int, seed: int) -> list[dict]:
    from community.feed import Feed
    from discovery.deck import Discovery
    results = []
    for model in MODELS:
        discovery = Discovery(embedder=world.embedder, refresh_seconds=3600, seed=11)
        feed = Feed(discovery, refresh_seconds=3600, stats_seconds=0, seed=5)
        shares = {tab: [] for tab in TABS}
        for u in range(users):
            rng = np.random.default_rng([seed, hash_name(model), u, 15])
            hidden = USER_MODELS[model](world.characters, world.vectors, rng)
            coins = rng.random(len(world.ids))
            post_coins = {pid: c for pid, c in zip(posts, rng.random(len(posts)))}
            reset_counts(world, discovery)
            deck = DeckSession(world, discovery, f"feed-{model[:10]}-{u}")
            warm_up(deck, hidden, coins)
            for tab in TABS:
                shares[tab].append(read_feed(world, feed, deck, tab, hidden, posts, post_coins))
            deck.close()
        for tab in TABS:
            liked = sum(s[0] for s in shares[tab])
            shown = sum(s[1] for s in shares[tab])
            results.append({"model": model, "tab": tab, "share": liked / max(shown, 1),
                            "shown": shown, "users": users})
            log.info("%s", results[-1])
    return results


def warm_up(deck, hidden, coins) -> None:
    """The user's first swipes on the real deck: what the recommender knows of them."""
    stack = deck.refill([])
    for k in range(WARMUP_SWIPES):
        if not stack:
            break
        pos = stack.pop(0)
        deck.record(pos, bool(coins[pos] < hidden.probabilities(k)[pos]))
        if len(stack) < 3:
            stack = deck.refill(stack)


def read_feed(world, feed, deck, tab, hidden, posts, post_coins) -> tuple[int, int]:
    """Three pages of one tab; every like is stored (and undone afterwards, so the next tab
    meets the same world)."""
    import sqlalchemy as sa

    from community.models import Post, PostLike
    session = deck.session
    probabilities = hidden.probabilities(WARMUP_SWIPES)
    liked_ids, shown, cursor = [], 0, None
    for _ in range(PAGES):
        page = feed.page(session, deck.user, tab, cursor, PAGE, now=deck.now)
        for post in page["posts"]:
            pos, appeal = posts[post["id"]]
            p = probabilities[pos]
            p = 1 / (1 + math.exp(-(math.log(p / (1 - p)) + POST_APPEAL * appeal)))
            shown += 1
            if post_coins[post["id"]] < p:
                liked_ids.append(post["id"])
                session.add(PostLike(user_id=deck.user.id, post_id=post["id"]))
                session.execute(sa.update(Post).where(Post.id == post["id"])
                                .values(like_count=Post.like_count + 1))
        session.commit()
        cursor = page["next_cursor"]
        if not cursor:
            break
    if liked_ids:
        session.execute(sa.delete(PostLike).where(PostLike.user_id == deck.user.id))
        session.execute(sa.update(Post).where(Post.id.in_(liked_ids))
                        .values(like_count=Post.like_count - 1))
        session.commit()
    return len(liked_ids), shown


# -- 2. latency at 100,000 posts ---------------------------------------------------------------

def latency(n_posts: int, runs: int, rng: np.random.Generator, workdir: Path) -> dict:
    import sqlalchemy as sa
    from sqlmodel import Session, select

    from bench.discovery import SyntheticEmbedder, make_world
    from characters.models import Character, CharacterFollow, CreatorFollow
    from community.feed import Feed
    from community.models import Post, PostLike
    from core.db import make_engine, utcnow
    from core.migrate import upgrade_database
    from core.users import User
    from discovery.deck import Discovery
    from discovery.embeddings import to_bytes
    from discovery.models import CharacterEmbedding, UserInterest

    n_chars, n_authors = 2_000, 3_000
    world = make_world(n_chars, rng, background_users=50)
    url = f"sqlite:///{workdir / 'feed-latency.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    now = utcnow()
    embedder = SyntheticEmbedder(world.centers)
    with engine.begin() as conn:
        conn.execute(sa.insert(User.__table__), [
            {"username": f"u{i}", "username_key": f"u{i}", "password_hash": "x",
             "created_at": now} for i in range(n_authors + 1)])
        conn.execute(sa.insert(Character.__table__), [
            {"id": i + 1, "name": f"char{i}", "tags": list(world.catalog.tags[i]),
             "creator_id": 2 + i % n_authors, "created_at": now - timedelta(days=60),
             "updated_at": now - timedelta(days=60)} for i in range(n_chars)])
        conn.execute(sa.insert(CharacterEmbedding.__table__), [
            {"character_id": i + 1, "model": embedder.name, "dim": 384,
             "vector": to_bytes(world.catalog.vectors[i]), "text_hash": "bench",
             "source_updated_at": now - timedelta(days=60), "updated_at": now}
            for i in range(n_chars)])
        step = 10_000
        ages = np.sort(rng.uniform(0, 60, n_posts))[::-1]
        for start in range(0, n_posts, step):
            conn.execute(sa.insert(Post.__table__), [
                {"kind": "text", "body": f"post {k}", "author_kind": "user",
                 "author_id": int(2 + rng.integers(n_authors)),
                 "character_id": int(1 + rng.integers(n_chars)), "excerpt": [],
                 "tags": [], "content_rating": "mature" if k % 20 == 0 else "sfw",
                 "status": "published" if k % 50 else "hidden",
                 "like_count": int(rng.poisson(3)), "comment_count": int(rng.poisson(1)),
                 "seeded": False, "created_at": now - timedelta(days=float(ages[k])),
                 "updated_at": now - timedelta(days=float(ages[k]))}
                for k in range(start, min(n_posts, start + step))])
        conn.execute(sa.insert(UserInterest.__table__), [
            {"user_id": 1, "tag": "topic0", "created_at": now},
            {"user_id": 1, "tag": "topic1", "created_at": now}])
        conn.execute(sa.insert(CreatorFollow.__table__), [
            {"follower_id": 1, "creator_id": int(c), "created_at": now}
            for c in rng.choice(np.arange(2, n_authors + 2), 50, replace=False)])
        conn.execute(sa.insert(CharacterFollow.__table__), [
            {"user_id": 1, "character_id": int(c), "created_at": now}
            for c in rng.choice(np.arange(1, n_chars + 1), 20, replace=False)])
        conn.execute(sa.insert(PostLike.__table__), [
            {"user_id": 1, "post_id": int(p), "created_at": now}
            for p in rng.choice(np.arange(1, n_posts + 1), 50, replace=False)])
    discovery = Discovery(embedder=embedder, refresh_seconds=3600, seed=3)
    # The counts reload off the request, as the app runs it (socketio's background task).
    feed = Feed(discovery, seed=3, spawn=lambda task, *args: threading.Thread(
        target=task, args=args, daemon=True).start())
    out = {"posts": n_posts}
    gc.freeze()  # as run.py does once the app is made: the set-up's objects leave the collector
    with Session(engine, expire_on_commit=False) as session:
        user = session.get(User, 1)
        started = time.perf_counter()
        feed.page(session, user, "for_you")  # the first call loads the post index and catalog
        out["first_call_s"] = time.perf_counter() - started
        reference = select(Post).where(Post.status == "published") \
            .order_by(Post.created_at.desc(), Post.id.desc()).limit(PAGE)
        names = ["reference"] + [f"{tab}_{which}" for tab in ("new", "following", "trending",
                                                              "for_you")
                                 for which in ("first", "next")]
        times = {name: [] for name in names}
        cpu = {name: [] for name in names}  # this thread's CPU: what other load cannot inflate

        def timed(name, call):
            wall, used = time.perf_counter(), time.thread_time()
            result = call()
            times[name].append(time.perf_counter() - wall)
            cpu[name].append(time.thread_time() - used)
            return result

        for _ in range(runs):
            timed("reference", lambda: list(session.exec(reference)))
            for tab in ("new", "following", "trending", "for_you"):
                page = timed(f"{tab}_first", lambda: feed.page(session, user, tab))
                if page["next_cursor"]:
                    timed(f"{tab}_next", lambda: feed.page(session, user, tab,
                                                           page["next_cursor"]))
            session.rollback()
    engine.dispose()
    for name in names:
        if times[name]:
            out[name] = {**percentiles(times[name]),
                         **{f"cpu_{k}": v for k, v in percentiles(cpu[name]).items()
                            if k != "runs"}}
    return out


# -- report ------------------------------------------------------------------------------------

def report(rows: list[dict], timing: dict, users: int, seed: int) -> str:
    load = os.getloadavg()
    lines = [f"`python -m bench.community_feed` on {platform.machine()}, {os.cpu_count()} CPUs, "
             f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, seed {seed}.", ""]
    if rows:
        lines += [f"Share of posts shown that were liked ({users} users per model, "
                  f"{PAGES} pages of {PAGE} after {WARMUP_SWIPES} deck swipes):", "",
                  "| model | " + " | ".join(TABS) + " |", "|---|" + "---:|" * len(TABS)]
        for model in dict.fromkeys(r["model"] for r in rows):
            cells = [next(r for r in rows if r["model"] == model and r["tab"] == t)["share"]
                     for t in TABS]
            lines.append(f"| {model} | " + " | ".join(f"{c:.1%}" for c in cells) + " |")
        overall = overall_shares(rows)
        lines.append("| **all** | " + " | ".join(f"**{overall[t]:.1%}**" for t in TABS) + " |")
        lines.append("")
    if timing:
        ref = timing["reference"]
        lines += [f"`Feed.page()` at {timing['posts']:,} posts on SQLite (first call, loading the "
                  f"post index and the catalog: {timing['first_call_s']:.2f} s):", "",
                  "| page | p50 | p99 | p99 / reference p99 | CPU p50 | CPU p99 | runs |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, row in timing.items():
            if isinstance(row, dict):
                lines.append(f"| {name} | {row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms | "
                             f"{row['p99_ms'] / ref['p99_ms']:.1f}x | {row['cpu_p50_ms']:.1f} ms"
                             f" | {row['cpu_p99_ms']:.1f} ms | {row['runs']} |")
    return "\n".join(lines) + "\n"


def overall_shares(rows: list[dict]) -> dict:
    return {t: sum(r["share"] * r["shown"] for r in rows if r["tab"] == t)
            / max(sum(r["shown"] for r in rows if r["tab"] == t), 1) for t in TABS}


def machine_lines(rows: list[dict], timing: dict) -> list[str]:
    out = []
    if rows:
        overall = overall_shares(rows)
        for tab in TABS:
            out.append(f"{tab}_like_share: {overall[tab]:.3f}")
        out.append(f"for_you_vs_trending: {overall['for_you'] / max(overall['trending'], 1e-9):.2f}")
        out.append(f"for_you_vs_new: {overall['for_you'] / max(overall['new'], 1e-9):.2f}")
        models = list(dict.fromkeys(r["model"] for r in rows))
        wins = sum(all(_share(rows, m, "for_you") > _share(rows, m, t) for t in ("trending", "new"))
                   for m in models)
        out.append(f"models_for_you_beats_trending_and_new: {wins}/{len(models)}")
        out.append("for_you_beats_trending_and_new: "
                   f"{'yes' if overall['for_you'] > max(overall['trending'], overall['new']) else 'no'}")
    if timing:
        for name, row in timing.items():
            if isinstance(row, dict):
                out.append(f"feed_{name}_p50_ms: {row['p50_ms']:.1f}")
                out.append(f"feed_{name}_p99_ms: {row['p99_ms']:.1f}")
                out.append(f"feed_{name}_cpu_p99_ms: {row['cpu_p99_ms']:.1f}")
        ref = timing["reference"]["p99_ms"]
        worst = max(row["p99_ms"] for name, row in timing.items()
                    if isinstance(row, dict) and name != "reference")
        out.append(f"feed_worst_p99_ms: {worst:.1f}")
        out.append("feed_worst_cpu_p99_ms: " + format(max(
            row["cpu_p99_ms"] for name, row in timing.items()
            if isinstance(row, dict) and name != "reference"), ".1f"))
        out.append(f"feed_worst_p99_vs_reference: {worst / ref:.1f}")
        out.append(f"load_average_1m: {os.getloadavg()[0]:.2f}")
    return out


def _share(rows, model, tab) -> float:
    return next(r["share"] for r in rows if r["model"] == model and r["tab"] == tab)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.community_feed")
    parser.add_argument("--quick", action="store_true", help="small run (smoke test)")
    parser.add_argument("--users", type=int, default=None, help="simulated users per model")
    parser.add_argument("--posts", type=int, default=100_000, help="posts for the latency run")
    parser.add_argument("--no-eval", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in ("discovery", "alembic", "sentence_transformers", "httpx", "bench.discovery"):
        logging.getLogger(name).setLevel(logging.WARNING)
    users = args.users or (4 if args.quick else 20)
    rows, timing = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        if not args.no_eval:
            from discovery.embeddings import default_embedder
            world = build_world("warm", args.seed, Path(workdir), default_embedder())
            posts = build_posts(world, np.random.default_rng([args.seed, 15]))
            rows = evaluate(world, posts, users, args.seed)
            world.engine.dispose()
        if not args.no_latency:
            runs = 30 if args.quick else 200
            timing = latency(args.posts, runs, np.random.default_rng(args.seed), Path(workdir))
    print(report(rows, timing, users, args.seed))
    print("\n".join(machine_lines(rows, timing)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
