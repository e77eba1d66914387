"""`python -m cluster up|stop|wait|keep` (see cluster/__init__.py)."""
import argparse
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cluster.nginx import nginx_conf
from cluster.settings import REPO, ClusterSettings, from_env

STOP_SECONDS = 25.0  # a web process's graceful timeout (10 s), a worker's jobs, and a margin
RESTART_DELAYS = (1.0, 2.0, 4.0)  # seconds before starting an exited process again


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="prepare instance/cluster and run every process (foreground)")
    sub.add_parser("stop", help="end every process `up` started")
    wait = sub.add_parser("wait", help="until the cluster answers through nginx")
    wait.add_argument("--timeout", type=float, default=180.0)
    keep = sub.add_parser("keep", help="run one process, its pid in NAME.pid, restarted on exit")
    keep.add_argument("name")
    keep.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    settings = from_env()
    if args.command == "up":
        return up(settings)
    if args.command == "stop":
        return stop(settings)
    if args.command == "wait":
        return 0 if wait_until_serving(settings, args.timeout) else 1
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    return keep_running(settings, args.name, cmd)


# -- up -----------------------------------------------------------------------------------------

def up(settings: ClusterSettings) -> int:
    """Prepare the folder, the database and the configs, then become honcho (its pid in
    honcho.pid): Ctrl-C or `make cluster-stop` end it and, through `keep`, every process."""
    if _alive(_read_pid(settings.pid_file("honcho"))):
        print(f"cluster: already running (honcho pid {_read_pid(settings.pid_file('honcho'))});"
              " `make cluster-stop` first", file=sys.stderr)
        return 1
    settings.dir.mkdir(parents=True, exist_ok=True)
    (settings.dir / "nginx" / "tmp").mkdir(parents=True, exist_ok=True)
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    env = cluster_env(settings)
    prepare_database(settings, env)
    (settings.dir / "nginx.conf").write_text(nginx_conf(settings))
    procfile = settings.dir / "Procfile"
    procfile.write_text(procfile_text(settings))
    settings.pid_file("honcho").write_text(str(os.getpid()))
    print(f"cluster: serving on {settings.url} (nginx -> "
          + ", ".join(f"web-{n} :{settings.web_port(n)}" for n in range(1, settings.webs + 1))
          + f"); pid files and logs in {settings.dir}", flush=True)
    # honcho, in this process: it runs every entry and, when stopped (SIGTERM, Ctrl-C), sends
    # them SIGTERM; its own wait before SIGKILL (5 s) is made long enough for `keep` to stop
    # its process gracefully.
    import honcho.command
    import honcho.manager
    honcho.manager.KILL_WAIT = STOP_SECONDS + 5
    os.environ.clear()
    os.environ.update(env)
    return honcho.command.main(["start", "-f", str(procfile), "-d", str(REPO)]) or 0


def cluster_env(settings: ClusterSettings) -> dict:
    """The environment of every process: the app's settings (config.py) a cluster needs."""
    key_file = settings.dir / "secret_key"
    if not key_file.exists():  # one key for every web process: a session works on each
        key_file.write_text(secrets.token_hex(32))
    env = {**os.environ,
           "KINDRED_INSTANCE_DIR": str(settings.instance_dir),
           "DATABASE_URL": settings.database_url,
           "REDIS_URL": settings.redis_url,
           "SECRET_KEY": key_file.read_text().strip(),
           "HOST": "127.0.0.1",
           "PROXY_FIX_HOPS": os.environ.get("PROXY_FIX_HOPS", "1"),  # nginx is one hop
           "PYTHONUNBUFFERED": "1",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if settings.inference == "redis":
        env["INFERENCE"] = "redis"
    else:
        env.pop("INFERENCE", None)
    env.setdefault("TORCH_THREADS", str(torch_threads(settings)))
    return env


def torch_threads(settings: ClusterSettings, cores: int | None = None) -> int:
    """Each model-holding process's share of the cores. A torch (OpenMP) team larger than its
    share spin-waits for threads that other processes hold: with 2 workers of 2 threads each on
    2 cores, SmolLM2 wrote 39 tokens in 80 s; with 1 thread each, 84 tokens in 9.6 s."""
    holders = settings.workers if settings.inference == "redis" else settings.webs
    return max(1, (cores or os.cpu_count() or 1) // max(1, holders))


def prepare_database(settings: ClusterSettings, env: dict) -> None:
    """CREATE DATABASE if it is missing, then `python -m app.setup migrate seed` into it."""
    import sqlalchemy as sa  # the app's dependency; only `up` needs it

    url = sa.engine.make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                exists = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = "
                                                    ":name"), {"name": url.database}).first()
                if not exists:
                    connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
                # a test that refused connections and died meanwhile must not lock us out
                connection.execute(sa.text(f'ALTER DATABASE "{url.database}" '
                                           "WITH ALLOW_CONNECTIONS true"))
        finally:
            admin.dispose()
    done = subprocess.run([settings.python, "-m", "app.setup", "migrate", "seed"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"cluster: `python -m app.setup migrate seed` failed:\n"
                         f"{done.stdout}\n{done.stderr}")


def procfile_text(settings: ClusterSettings) -> str:
    keep = f"{shlex.quote(settings.python)} -m cluster keep"
    conf = settings.dir / "nginx.conf"
    lines = [f"nginx: {keep} nginx -- /usr/sbin/nginx -p {shlex.quote(str(settings.dir))}/nginx"
             f" -c {shlex.quote(str(conf))} -g 'daemon off;'"]
    if settings.redis_port:
        lines.append(f"redis: {keep} redis -- redis-server --bind 127.0.0.1 --port "
                     f"{settings.redis_port} --save '' --appendonly no")
    for n in range(1, settings.webs + 1):
        lines.append(f"web-{n}: PORT={settings.web_port(n)} {keep} web-{n} -- "
                     f"{shlex.quote(settings.python)} run.py")
    if settings.inference == "redis":
        flask = shlex.quote(str(Path(settings.python).parent / "flask"))
        for n in range(1, settings.workers + 1):
            lines.append(f"worker-{n}: {keep} worker-{n} -- {flask} --app app.cli worker "
                         f"--name worker-{n}")
    return "\n".join(lines) + "\n"


# -- keep ---------------------------------------------------------------------------------------

def keep_running(settings: ClusterSettings, name: str, cmd: list[str]) -> int:
    """Run `cmd` (in a session of its own, so a signal to us is ours to pass on), its pid in
    NAME.pid; when it exits, kill what is left of its group (gunicorn's orphaned worker) and
    start it again after a short delay. SIGTERM/SIGINT: SIGTERM to it, wait STOP_SECONDS, then
    SIGKILL to its group, remove the pid file, exit 0."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    pid_file = settings.pid_file(name)
    restarts = 0
    while not stopping:
        child = subprocess.Popen(cmd, cwd=REPO, start_new_session=True)
        pid_file.write_text(str(child.pid))
        started = time.monotonic()
        while child.poll() is None and not stopping:
            time.sleep(0.1)
        if stopping:
            _end(child)
            break
        _kill_group(child.pid)
        restarts = 0 if time.monotonic() - started > 30 else restarts + 1
        delay = RESTART_DELAYS[min(restarts, len(RESTART_DELAYS) - 1)]
        print(f"cluster: {name} exited ({child.returncode}); starting it again in {delay:.0f} s",
              flush=True)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    return 0


def _end(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    _kill_group(child.pid)
    child.wait(timeout=5)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# -- stop and wait ------------------------------------------------------------------------------

def stop(settings: ClusterSettings) -> int:
    """SIGTERM to honcho (it stops every `keep`, each its process); whatever still runs after
    STOP_SECONDS, or has a pid file without honcho, gets SIGTERM then SIGKILL."""
    honcho = _read_pid(settings.pid_file("honcho"))
    if _alive(honcho):
        os.kill(honcho, signal.SIGTERM)
        _wait_gone([honcho], STOP_SECONDS + 5)
    left = [pid for pid in (_read_pid(settings.pid_file(n)) for n in _pid_names(settings))
            if _alive(pid)]
    for pid in left:
        _signal_group(pid, signal.SIGTERM)
    if not _wait_gone(left, STOP_SECONDS):
        for pid in left:
            _signal_group(pid, signal.SIGKILL)
    for name in _pid_names(settings) + ["honcho"]:
        settings.pid_file(name).unlink(missing_ok=True)
    print("cluster: stopped", flush=True)
    return 0


def wait_until_serving(settings: ClusterSettings, timeout: float) -> bool:
    """True once GET /login answers 200 through nginx and on every web process's own port."""
    urls = [settings.url] + [f"http://127.0.0.1:{settings.web_port(n)}"
                             for n in range(1, settings.webs + 1)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_answers(url) for url in urls):
            return True
        time.sleep(0.5)
    return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/login", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _pid_names(settings: ClusterSettings) -> list[str]:
    return sorted({p.stem for p in settings.dir.glob("*.pid")} - {"honcho"})


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.2)
    return not any(_alive(pid) for pid in pids)


if __name__ == "__main__":
    sys.exit(main())
