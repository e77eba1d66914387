"""Concurrent draws for the load tests: threads, each job on its own Session, optionally in
several processes (spawned, so each has its own engine and connection pool)."""
import random
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context

from sqlmodel import Session

from core.db import make_engine
from core.errors import KindredError
import gacha.pulls


def make_jobs(user_ids, banner_id, draws, seed=0, replay_share=0.05):
    """`draws` draw requests spread over the users: 1- and 10-pulls, with some keys sent twice."""
    rng = random.Random(seed)
    jobs = []
    for i in range(draws):
        if jobs and rng.random() < replay_share:
            jobs.append(rng.choice(jobs))  # the same request again: must not be charged twice
            continue
        jobs.append((rng.choice(user_ids), banner_id, rng.choice((1, 1, 10)), f"load-{seed}-{i}"))
    rng.shuffle(jobs)
    return jobs


def run_jobs(database_url, jobs, threads=8):
    """Run the draw requests concurrently; returns (idempotency key, outcome) per job."""
    engine = make_engine(database_url)
    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda job: (job[3], _draw(engine, *job)), jobs))
    finally:
        engine.dispose()


def run_in_processes(database_url, jobs, processes=2, threads=8):
    """Split the jobs over `processes` spawned processes, each running `threads` threads."""
    chunks = [jobs[i::processes] for i in range(processes)]
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        results = pool.map(run_jobs, [database_url] * processes, chunks, [threads] * processes)
        return [outcome for chunk in results for outcome in chunk]


def _draw(engine, user_id, banner_id, count, key):
    with Session(engine, expire_on_commit=False) as session:
        try:
            outcome = gacha.pulls.draw(session, user_id, banner_id, count, key)
        except KindredError as error:
            return error.code
        return "replayed" if outcome.replayed else "drawn"
