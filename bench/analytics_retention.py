"""Retention at 10 million events (issue 17): `python -m bench.analytics_retention
[--users 100000 --events 10000000 --days 120 --scales 0.1,0.3,1 --runs 5 --keep --quick]`.

On PostgreSQL (a scratch database, `kindred_bench_retention`, created on the server of
KINDRED_BENCH_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test and dropped at
the end), migrated to head, for each scale s (users and events both times s, so events per user
stay the same):
1. a population with the simulator's shapes (analytics/simulate.py): sign-ups growing over the
   days, a lognormal propensity per user, 15% members who return 1.6x as often and chat longer,
   the power-law churn curve propensity * 0.45 * (n + 1) ** -0.5 of day n, 1.25x at weekends;
   each active day one or two evening sessions of a session_started then swipes, messages and
   replies seconds apart (a session may run past midnight). The per-day event counts are scaled
   so that the total is the asked-for number of events;
2. COPY straight into analytics_event (its secondary indexes dropped before and rebuilt after, as
   a bulk load does; both timed), then the rollup analytics_user_day built with one
   INSERT ... SELECT DISTINCT (migration 0020's backfill, timed), then ANALYZE;
3. `retention()` over the whole range, day and week periods, both modes: `--runs` runs each, p50
   and max; and once, the reference: the query retention ran before the rollup (DISTINCT
   (user, UTC day) over the events, day period, mode "on"), whose counts must equal the new
   ones.
The output is a markdown table, then machine-readable `name: value` lines."""
import argparse
import logging
import os
import platform
import queue
import statistics
import subprocess
import threading
import time
from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

log = logging.getLogger("bench.analytics_retention")
ADMIN_URL = os.environ.get("KINDRED_BENCH_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASE = "kindred_bench_retention"
LAST_DAY = date(2026, 11, 30)
TODAY = LAST_DAY + timedelta(days=1)  # the morning after: sessions past midnight are today's
EVENT_INDEXES = (  # analytics_event's secondary indexes (migration 0012), rebuilt after the load
    ("ix_analytics_event_name", "name"),
    ("ix_analytics_event_occurred_at", "occurred_at"),
    ("ix_analytics_event_user_id_occurred_at", "user_id, occurred_at"),
)
NAMES = np.array(["session_started", "swipe_made", "message_sent", "reply_finished",
                  "conversation_started", "cards_drawn"])
CHUNK_USERS = 5_000
PG_EPOCH = date(2000, 1, 1)
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags 0, no header extension


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--scales", default="0.1,0.3,1",
                        help="fractions of --users and --events to run, smallest first")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch database (the last scale's data) to look into")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2,000 users, 200,000 events, one scale, 2 runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.quick:
        args.users, args.events, args.scales, args.runs = 2_000, 200_000, "1", 2
    scales = [float(s) for s in args.scales.split(",")]
    started = time.perf_counter()
    url = create_database()
    try:
        from core.migrate import upgrade_database
        upgrade_database(url)
        engine = sa.create_engine(url)
        results = [run_scale(engine, round(args.users * s), round(args.events * s), args.days,
                             args.runs, args.seed) for s in scales]
        engine.dispose()
    finally:
        if not args.keep:
            drop_database()
    report(results, args, time.perf_counter() - started)


def run_scale(engine, users: int, events: int, days: int, runs: int, seed: int) -> dict:
    log.info("scale: %d users, %d events over %d days", users, events, days)
    with engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE analytics_event, analytics_user_day"))
        for name, _ in EVENT_INDEXES:
            connection.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    result = {"users": users, "target": events}
    t = time.perf_counter()
    result["events"] = load_events(engine, users, events, days, np.random.default_rng(seed))
    result["copy_s"] = time.perf_counter() - t
    t = time.perf_counter()
    with engine.begin() as connection:
        for name, columns in EVENT_INDEXES:
            connection.execute(sa.text(f"CREATE INDEX {name} ON analytics_event ({columns})"))
    result["event_indexes_s"] = time.perf_counter() - t
    t = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO analytics_user_day (dataset, user_id, day) "
            "SELECT DISTINCT dataset, user_id, "
            "(CAST(timezone('UTC', occurred_at) AS DATE) - DATE '1970-01-01') "
            "FROM analytics_event WHERE user_id IS NOT NULL"))
    result["rollup_build_s"] = time.perf_counter() - t
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE analytics_event"))
        connection.execute(sa.text("VACUUM ANALYZE analytics_user_day"))
        result["user_days"] = connection.execute(sa.text(
            "SELECT count(*) FROM analytics_user_day")).scalar()
        result["event_mb"] = connection.execute(sa.text(
            "SELECT pg_total_relation_size('analytics_event')")).scalar() / 2 ** 20
        result["rollup_mb"] = connection.execute(sa.text(
            "SELECT pg_total_relation_size('analytics_user_day')")).scalar() / 2 ** 20
    result["timings"] = time_retention(engine, days, runs)
    result["old_s"], result["same_counts"] = time_old_query(engine, days)
    log.info("scale done: %s", {k: v for k, v in result.items() if k != "timings"})
    return result


# -- 1. the population -------------------------------------------------------------------------

def load_events(engine, users: int, events: int, days: int, rng: np.random.Generator) -> int:
    """Generate the events a chunk of users at a time (in a thread, one chunk ahead) and COPY
    each chunk in PostgreSQL's binary format (built by numpy, no Python loop per row); returns
    how many were written. The scale of the per-day counts is corrected after every chunk, so
    that the total lands on `events`."""
    chunks: "queue.Queue" = queue.Queue(maxsize=2)
    producer = threading.Thread(target=_generate, args=(chunks, users, events, days, rng),
                                daemon=True)
    producer.start()
    written = 0
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            while (chunk := chunks.get()) is not None:
                if isinstance(chunk, BaseException):
                    raise chunk
                with cursor.copy("COPY analytics_event (user_id, name, occurred_at, session_id, "
                                 "properties, dataset) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.write(chunk[0])
                written += chunk[1]
        raw.commit()
    finally:
        raw.close()
        while producer.is_alive():  # let it finish, should the COPY have failed
            try:
                chunks.get(timeout=0.1)
            except queue.Empty:
                pass
    return written


def _generate(chunks: "queue.Queue", users: int, events: int, days: int,
              rng: np.random.Generator) -> None:
    try:
        first_day = LAST_DAY - timedelta(days=days - 1)
        weekend = np.array([(first_day + timedelta(days=d)).weekday() >= 5
                            for d in range(days)])
        scale = _events_scale(events, users, days, weekend, rng)
        written, raw_total, session_base = 0, 0.0, 0
        for start in range(0, users, CHUNK_USERS):
            ids = np.arange(start + 1, min(users, start + CHUNK_USERS) + 1)
            data, count, raw_sum, session_base = _chunk(ids, days, first_day, weekend, scale,
                                                        session_base, rng)
            chunks.put((data, count))
            written, raw_total, left = written + count, raw_total + raw_sum, users - ids[-1]
            if left:  # aim the users left at the events still to write
                scale = max(events - written, left) / (raw_total / ids[-1] * left)
        chunks.put(None)
    except BaseException as exc:  # handed to the loader, which raises it
        chunks.put(exc)


def _active(ids: np.ndarray, days: int, weekend: np.ndarray, rng: np.random.Generator):
    """(active user x day matrix, member flags): the simulator's churn curve."""
    n_users = len(ids)
    signup = _signup_days(n_users, days, rng)
    member = rng.random(n_users) < 0.15
    community = rng.random(n_users) < np.where(member, 0.6, 0.3)
    propensity = rng.lognormal(0, 0.5, n_users)
    n = np.arange(days)[None, :] - signup[:, None]
    chance = propensity[:, None] * 0.45 * np.maximum(n + 1, 1) ** -0.5
    chance = chance * np.where(weekend, 1.25, 0.95)[None, :]
    chance *= (np.where(member, 1.6, 1.0) * np.where(community, 1.35, 1.0))[:, None]
    active = (n == 0) | ((n > 0) & (rng.random((n_users, days)) < np.minimum(chance, 0.95)))
    return active, member


def _signup_days(n_users: int, days: int, rng: np.random.Generator) -> np.ndarray:
    """Days 0..days-1, weight 1 + day / days (a growing instance), by inverse transform."""
    u = rng.random(n_users)
    # CDF of density (1 + x) / 1.5 on [0, 1): (x + x^2 / 2) / 1.5 = u  ->  x = -1 + sqrt(1 + 3u)
    return np.minimum((np.sqrt(1 + 3 * u) - 1) * days, days - 1).astype(np.int64)


def _raw_counts(member: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Events of one active user-day before scaling: sessions of a start, swipes, a chat."""
    sessions = 1 + (rng.random(len(member)) < np.where(member, 0.5, 0.2))
    messages = np.maximum(1, np.round(rng.exponential(np.where(member, 10, 5))))
    return sessions * (2 + 2 * messages + (rng.random(len(member)) < 0.3) * 3)


def _events_scale(events, users, days, weekend, rng) -> float:
    """The factor that turns the shape's event counts into `events` in all (from a sample)."""
    sample = np.arange(1, min(users, 5_000) + 1)
    active, member = _active(sample, days, weekend, rng)
    raw = _raw_counts(np.repeat(member, active.sum(axis=1)), rng).sum()
    return events / (raw * users / len(sample))


def _chunk(ids, days, first_day, weekend, scale, session_base, rng):
    """(COPY BINARY data, rows, unscaled event count, next session number) for the users
    `ids`."""
    active, member = _active(ids, days, weekend, rng)
    user_idx, day = np.nonzero(active)
    raw = _raw_counts(member[user_idx], rng)
    counts = np.maximum(1, rng.poisson(raw * scale)).astype(np.int64)
    starts = np.cumsum(counts) - counts
    group = np.repeat(np.arange(len(counts)), counts)  # the user-day of each event
    position = np.arange(len(group)) - starts[group]
    hour = np.clip(rng.normal(19, 4.5, len(counts)) % 24, 0, 23.99)
    offset = np.cumsum(np.where(position == 0, 0.0, rng.uniform(3, 120, len(group))))
    offset -= offset[starts][group]  # seconds since the session began
    day_start = (first_day - PG_EPOCH).days + day  # days since 2000-01-01, PostgreSQL's epoch
    micros = ((day_start[group] * 86400 + hour[group] * 3600 + offset) * 1e6).astype(np.int64)
    kind = np.where(position == 0, 0, np.where(position % 2 == 1, 2, 3))
    kind = np.where((position > 0) & (rng.random(len(group)) < 0.1), 1, kind)
    kind = np.where((position == 1) & (rng.random(len(group)) < 0.5), 4, kind)
    kind = np.where((position > 0) & (rng.random(len(group)) < 0.005), 5, kind)
    session_ids = np.array([f"{session_base + g:032x}".encode() for g in range(len(counts))])
    character = rng.integers(1, 10, len(group))
    parts = [COPY_HEADER]
    for k, name in enumerate(NAMES):  # one fixed-width record type per event name
        rows = np.nonzero(kind == k)[0]
        props = b"{}" if k == 0 else b'{"character_id": 0}'
        record = np.zeros(len(rows), dtype=_record_type(len(name), len(props)))
        record["fields"] = 6
        for field, width in (("user", 4), ("name", len(name)), ("at", 8), ("session", 32),
                             ("props", len(props)), ("dataset", 4)):
            record[f"{field}_len"] = width
        record["user"] = ids[user_idx][group[rows]]
        record["name"] = name.encode()
        record["at"] = micros[rows]
        record["session"] = session_ids[group[rows]]
        if k == 0:
            record["props"] = props
        else:  # the digit of '{"character_id": N}'
            chars = np.frombuffer(props, dtype=np.uint8).copy()
            view = np.tile(chars, (len(rows), 1))
            view[:, -2] = ord("0") + character[rows]
            record["props"] = view.view(f"S{len(props)}").ravel()
        record["dataset"] = b"live"
        parts.append(record.tobytes())
    parts.append(b"\xff\xff")  # the trailer: -1 as int16
    return b"".join(parts), len(group), float(raw.sum()), session_base + len(counts)


def _record_type(name_len: int, props_len: int) -> np.dtype:
    return np.dtype([("fields", ">i2"), ("user_len", ">i4"), ("user", ">i4"),
                     ("name_len", ">i4"), ("name", f"S{name_len}"), ("at_len", ">i4"),
                     ("at", ">i8"), ("session_len", ">i4"), ("session", "S32"),
                     ("props_len", ">i4"), ("props", f"S{props_len}"), ("dataset_len", ">i4"),
                     ("dataset", "S4")])


# -- 3. the timings ----------------------------------------------------------------------------

def time_retention(engine, days: int, runs: int) -> dict:
    from analytics.retention import retention
    first = LAST_DAY - timedelta(days=days - 1)
    timings = {}
    for period in ("day", "week"):
        for mode in ("on", "on_or_after"):
            seconds = []
            for _ in range(runs):
                with Session(engine) as session:
                    t = time.perf_counter()
                    retention(session, period, mode, first, LAST_DAY, TODAY)
                    seconds.append(time.perf_counter() - t)
            timings[f"{period}_{mode}"] = seconds
            log.info("retention %s %s: p50 %.3f s, max %.3f s", period, mode,
                     statistics.median(seconds), max(seconds))
    return timings


def time_old_query(engine, days: int) -> tuple[float, bool]:
    """The reference, once: retention's counts as computed before the rollup, from the events."""
    from analytics import retention as module
    from analytics.models import AnalyticsEvent
    first = LAST_DAY - timedelta(days=days - 1)
    lo, hi = module.bucket_of("day", first), module.bucket_of("day", LAST_DAY)
    event = AnalyticsEvent.__table__.c
    activity = (sa.select(event.user_id, module.utc_day(event.occurred_at).label("bucket"))
                .where(event.user_id.is_not(None), event.dataset == "live")
                .distinct().cte("activity"))
    users = (sa.select(activity.c.user_id, sa.func.min(activity.c.bucket).label("cohort"))
             .group_by(activity.c.user_id).cte("users"))
    n = (activity.c.bucket - users.c.cohort).label("n")
    query = (sa.select(users.c.cohort, n, sa.func.count())
             .select_from(users.join(activity, activity.c.user_id == users.c.user_id))
             .where(users.c.cohort.between(lo, hi)).group_by(users.c.cohort, n))
    with Session(engine) as session:
        t = time.perf_counter()
        old = {}
        for cohort, offset, count in session.execute(query):
            old.setdefault(int(cohort), {})[int(offset)] = int(count)
        seconds = time.perf_counter() - t
        new = module._counts(session, "day", "on", lo, hi, "live")
    log.info("old query: %.2f s (counts equal: %s)", seconds, old == new)
    return seconds, old == new


# -- set-up and report -------------------------------------------------------------------------

def create_database() -> str:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"


def drop_database() -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    admin.dispose()


def report(results: list[dict], args, total_s: float) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    load = os.getloadavg()
    print(f"\n## Retention on PostgreSQL ({platform.machine()}, {os.cpu_count()} cores, "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, commit {commit}, "
          f"{args.days} days, {args.runs} runs)\n")
    print("| users | events | user-days | COPY s | event indexes s | rollup build s "
          "| day/on p50 (max) s | day/on_or_after | week/on | week/on_or_after "
          "| old query s | old / new (day/on p50) | same counts |")
    print("|" + "---|" * 13)
    for r in results:
        cells = [f"{statistics.median(v):.3f} ({max(v):.3f})" for v in r["timings"].values()]
        ratio = r["old_s"] / statistics.median(r["timings"]["day_on"])
        print(f"| {r['users']:,} | {r['events']:,} | {r['user_days']:,} | {r['copy_s']:.1f} "
              f"| {r['event_indexes_s']:.1f} | {r['rollup_build_s']:.1f} | "
              + " | ".join(cells) + f" | {r['old_s']:.2f} | {ratio:.0f}x "
              f"| {'yes' if r['same_counts'] else 'NO'} |")
    print()
    for r in results:
        target = r["target"]
        tag = f"{target // 1000}k" if target < 1_000_000 else f"{target / 1e6:g}m".replace(".", "_")
        print(f"events_{tag}: {r['events']}")
        print(f"users_{tag}: {r['users']}")
        print(f"user_days_{tag}: {r['user_days']}")
        print(f"event_table_mb_{tag}: {r['event_mb']:.0f}")
        print(f"rollup_table_mb_{tag}: {r['rollup_mb']:.1f}")
        print(f"copy_s_{tag}: {r['copy_s']:.2f}")
        print(f"rollup_build_s_{tag}: {r['rollup_build_s']:.2f}")
        for name, seconds in r["timings"].items():
            print(f"retention_{name}_p50_s_{tag}: {statistics.median(seconds):.4f}")
            print(f"retention_{name}_max_s_{tag}: {max(seconds):.4f}")
        print(f"old_query_s_{tag}: {r['old_s']:.3f}")
        print(f"old_over_new_{tag}: {r['old_s'] / statistics.median(r['timings']['day_on']):.1f}")
        print(f"same_counts_{tag}: {r['same_counts']}")
    print(f"load_average_1m: {load[0]:.2f}")
    print(f"total_s: {total_s:.1f}")


if __name__ == "__main__":
    main()
