"""One cluster (`python -m cluster up`, cluster/) for all of tests/cluster: nginx, 2 web processes
on the tiny random Llama, a redis-server of its own (the tests restart it; the machine's Redis
on 6379 is shared with the rest of the suite), a PostgreSQL database of its own (the tests make
it refuse connections), and, with CLUSTER_INFERENCE=redis, 2 inference workers.

CLUSTER_INFERENCE defaults to `redis` once app/cli.py has the `worker` command (issue 18's
Redis Streams workers), else `local` (a model in each web process); the tests that need the
workers say so (`needs_workers`)."""
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from cluster.__main__ import wait_until_serving
from cluster.settings import REPO, ClusterSettings, from_env
from config import Config
from tests.conftest import POSTGRES_ADMIN_URL
from tests.support import require
from tests.support.live_server import _native_build_dir

START_TIMEOUT = 600.0  # migrate, seed, two web processes loading on a busy 2-core machine
MAX_NEW_TOKENS = 400  # replies long enough (a few seconds) to be cut in the middle


@dataclass
class Cluster:
    settings: ClusterSettings
    env: dict
    process: subprocess.Popen
    log_path: Path
    admin: sa.Engine  # PostgreSQL, the `postgres` database, AUTOCOMMIT
    database: str

    @property
    def url(self) -> str:
        return self.settings.url

    def pid(self, name: str) -> int:
        return int(self.settings.pid_file(name).read_text())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]


def workers_available() -> bool:
    cli = REPO / "app" / "cli.py"
    return cli.exists() and re.search(r"\bdef worker\b|\"worker\"", cli.read_text()) is not None


PORTS = range(20000, 32000)  # below the kernel's ephemeral range (ip_local_port_range 32768-)


def _free_ports(count: int) -> int:
    """A port p with p..p+count-1 free on 127.0.0.1 (nginx, the web processes, Redis). Not an
    ephemeral port (bind to 0): the web processes bind theirs only after migrate and seed, and
    meanwhile any outgoing connection on the machine may take an ephemeral port as its own; and
    far from `make run` (5000) and `make cluster` (8000-8002)."""
    for _ in range(200):
        base = random.randrange(PORTS.start, PORTS.stop - count)
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


def _wait_serving(settings: ClusterSettings, process: subprocess.Popen, timeout: float) -> bool:
    """wait_until_serving, but given up as soon as `up` has exited (migrate failed, a port
    taken): its log says why, now rather than after START_TIMEOUT."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if wait_until_serving(settings, min(5.0, max(0.0, deadline - time.monotonic()))):
            return True
    return False


def _stop(settings: ClusterSettings, env: dict, process: subprocess.Popen) -> None:
    """Every process of the cluster ended, whatever state a failed test left it in: `cluster
    stop` (graceful), then SIGKILL to `up`'s group and to the group of every pid file left."""
    try:
        subprocess.run([settings.python, "-m", "cluster", "stop"], cwd=REPO, env=env,
                       timeout=120, capture_output=True)
    except subprocess.TimeoutExpired:
        pass
    for pid_file in [None] + sorted(settings.dir.glob("*.pid")):
        try:
            pid = process.pid if pid_file is None else int(pid_file.read_text().strip())
            os.killpg(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, tiny_model_dir):
    require(shutil.which("nginx") or Path("/usr/sbin/nginx").exists(),
            "nginx is not installed (Debian package nginx)")
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        admin.dispose()
        require(False, f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    folder = tmp_path_factory.mktemp("cluster")
    database = f"kindred_cluster_test_{uuid.uuid4().hex[:10]}"
    base = _free_ports(4)  # nginx, web-1, web-2, redis-server
    inference = os.environ.get("CLUSTER_INFERENCE") or ("redis" if workers_available()
                                                        else "local")
    env = {**os.environ,
           "CLUSTER_DIR": str(folder / "cluster"),
           "KINDRED_INSTANCE_DIR": str(folder / "instance"),
           "CLUSTER_PORT": str(base), "CLUSTER_WEBS": "2", "CLUSTER_WORKERS": "2",
           "CLUSTER_REDIS_PORT": str(base + 3),
           "CLUSTER_INFERENCE": inference,
           "CLUSTER_DATABASE_URL": POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}",
           "MODEL_PATH": str(tiny_model_dir), "MAX_NEW_TOKENS": str(MAX_NEW_TOKENS),
           "TORCH_THREADS": "1",
           # The engine's Python decode step: a git worktree's sources differ in path from the
           # build `make setup` made, and compiling it again took 4-5 min on the shared machine,
           # which these tests of processes and faults do not need.
           "NATIVE_DECODE": "0",
           "NATIVE_BUILD_DIR": str(_native_build_dir()),
           "HELP_INDEX_CACHE_DIR": str(Config.HELP_INDEX_CACHE_DIR or ""),
           "SAFETY_JUDGE": "0", "CHAT_MODERATE_REPLIES": "0",
           "COMMUNITY_SCHEDULER": "0", "COMMUNITY_SEED_POSTS": "0",
           "SIGNUP_RATE_LIMIT": "10000 per hour"}
    for inherited in ("SECRET_KEY", "REDIS_URL", "DATABASE_URL", "INFERENCE"):
        env.pop(inherited, None)
    settings = from_env(env)
    log_path = folder / "cluster.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([settings.python, "-m", "cluster", "up"], cwd=REPO, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    running = Cluster(settings, env, process, log_path, admin, database)
    try:
        if not _wait_serving(settings, process, START_TIMEOUT):
            pytest.fail(f"the cluster did not answer within {START_TIMEOUT:.0f} s "
                        f"(`cluster up` exit code {process.poll()}):\n{running.log()}")
        yield running
    finally:
        _stop(settings, env, process)
        with admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true'))
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def needs_workers(cluster):
    """For the tests of the Redis Streams inference workers (issue 18): skipped, or failed under
    KINDRED_REQUIRE_ALL=1, until `flask --app app.cli worker` exists and the cluster runs them."""
    require(cluster.settings.inference == "redis",
            "needs the Redis Streams inference workers (`flask --app app.cli worker`, "
            "CLUSTER_INFERENCE=redis); this cluster runs CLUSTER_INFERENCE=local")
