"""Run the real server (`python run.py`) as a subprocess on a free local port, for tests that
talk to it the way a browser or a python-socketio client does: over real HTTP and websockets.

    with live_server(tmp_path, model_path=str(tiny_model_dir), max_new_tokens=1500) as server:
        requests.get(server.url + "/login")

Each server gets its own instance folder and SQLite database, migrated and seeded with
`python -m app.setup migrate seed`, exactly as `make run` does: the two steps run once per test
process (for each `extra_env`, leaving out the settings in SERVING_ONLY) into a template instance
folder, which is copied for each server.
Servers share one copy of the machine's C++ decode step build (Config.NATIVE_BUILD_DIR, made by
`make setup`) instead of compiling their own into each instance folder.

`run.py` serves with gunicorn: `process` is its master, and the app runs in one worker process
(`worker_pid()`). Each server runs in a process group of its own, as a terminal's foreground job
does: `interrupt()` is Ctrl-C (SIGINT to the group), `_stop` ends the group, so no worker outlives
its test."""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from config import Config
from tests.support.db_templates import checkpoint_sqlite

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
REAL_MODEL_CACHE = REPO / "instance" / "models"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0  # the server's graceful timeout (10 s) and a margin for a busy machine


@dataclass
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen
    instance_dir: Path
    log_path: Path

    def log(self) -> str:
        """What the server wrote to stdout/stderr so far (for failure messages)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def worker_pid(self, timeout: float = 10.0) -> int:
        """The pid of gunicorn's one worker process (the master's child), where the app runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            children = child_pids(self.process.pid)
            if children:
                return children[0]
            time.sleep(0.05)
        raise RuntimeError(f"the server has no worker process:\n{self.log()}")

    def interrupt(self) -> None:
        """Ctrl-C in the terminal that started the server: SIGINT to its whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def assert_no_tracebacks(self) -> None:
        """Background work (streaming threads, handlers) must not have crashed unnoticed."""
        assert "Traceback (most recent call last)" not in self.log(), self.log()[-6000:]


@contextmanager
def live_server(tmp_dir: Path, model_path: str, max_new_tokens: int,
                model_cache_dir: Path | None = None, torch_threads: int = 1,
                extra_env: dict | None = None):
    """Start `run.py` with a fresh instance folder under `tmp_dir`; stop it on exit.
    `model_path` "" means the packaged SmolLM2; pass `model_cache_dir=REAL_MODEL_CACHE` then
    so the safetensors copy made by `make` is reused instead of converted again."""
    tmp_dir = Path(tmp_dir)
    instance = tmp_dir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "KINDRED_INSTANCE_DIR": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'kindred.db'}",
        "MODEL_PATH": model_path,
        "MODEL_CACHE_DIR": str(model_cache_dir or instance / "models"),
        "MAX_NEW_TOKENS": str(max_new_tokens),
        "TORCH_THREADS": str(torch_threads),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONUNBUFFERED": "1",
        "NATIVE_BUILD_DIR": str(_native_build_dir()),
        # the help desk's passage vectors, embedded once by `make setup` (never written wrong:
        # keyed by text), instead of 20 s of MiniLM in every server that is asked a question
        "HELP_INDEX_CACHE_DIR": str(Config.HELP_INDEX_CACHE_DIR or ""),
        "SAFETY_JUDGE": "0",  # the tiny random-weight model would judge at random
        # Its token soup is blocked as a reply about 1 in 8 (as in TestConfig); tests of reply
        # moderation turn it on through extra_env.
        "CHAT_MODERATE_REPLIES": "0",
        # Nor does it write the seeded cast's topic of the day, nor post their introductions:
        # a test server's feed holds what its test posts (tests/community/test_seed* turn them on).
        "COMMUNITY_SCHEDULER": "0",
        "COMMUNITY_SEED_POSTS": "0",
        **(extra_env or {}),
    }
    for inherited in ("SECRET_KEY", "REDIS_URL"):  # a generated key, in-process Socket.IO
        if inherited not in (extra_env or {}):
            env.pop(inherited, None)
    if (instance / "kindred.db").exists():  # a used folder: migrate and seed it as it is
        _setup(env)
    else:
        shutil.copytree(_seeded_instance(env, extra_env), instance, dirs_exist_ok=True)

    log_path = tmp_dir / "server.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen([str(_python()), "run.py"], cwd=REPO, env=env,
                                   stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = LiveServer(url=f"http://127.0.0.1:{port}", port=port, process=process,
                        instance_dir=instance, log_path=log_path)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        _stop(process)


# Settings `python -m app.setup migrate|seed` does not read (it reads DATABASE_URL, replaced by the
# template's own, and KINDRED_INSTANCE_DIR): servers differing only in these share one template
# instead of running the two steps again (~10 s on a busy machine). A setting not listed here
# gets a template of its own, so add one only once set-up is known to ignore it.
SERVING_ONLY = frozenset({"DATABASE_URL", "LEVEL_THRESHOLDS", "EMBED_ON_PUBLISH",
                          "SOCKETIO_MAX_MESSAGE_BYTES", "CHAT_MODERATE_REPLIES", "SAFETY_JUDGE",
                          "COMMUNITY_SCHEDULER", "SOCKETIO_MAX_QUEUED_PACKETS",
                          "CHAT_SEND_RATE_LIMIT"})
_SEEDED: dict[tuple, Path] = {}  # extra_env items set-up reads -> instance folder it made
_NATIVE: dict[str, Path] = {}
_SEEDED_LOCK = threading.Lock()


def _setup(env: dict) -> None:
    done = subprocess.run([str(_python()), "-m", "app.setup", "migrate", "seed"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"`python -m app.setup migrate seed` failed ({done.returncode}):\n"
                           f"{done.stdout}\n{done.stderr}")


def _native_build_dir() -> Path:
    """This process's servers' copy of the machine's C++ decode step build, taken on first use.
    A copy, not Config.NATIVE_BUILD_DIR itself: tests in this process also build the module
    under other names (torch numbers a rebuild of the same name in one process _v1, _v2 ...),
    which rewrites the build files there so a server using them would compile again (~20 s).
    If the build is missing or stale the first server compiles it into the copy, once."""
    with _SEEDED_LOCK:
        if "copy" not in _NATIVE:
            folder = Path(tempfile.mkdtemp(prefix="kindred-live-native-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            if Path(Config.NATIVE_BUILD_DIR).is_dir():  # not torch's "lock" of a build under way
                shutil.copytree(Config.NATIVE_BUILD_DIR, folder, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("lock"))
            _NATIVE["copy"] = folder
        return _NATIVE["copy"]


def _seeded_instance(env: dict, extra_env: dict | None) -> Path:
    """An instance folder `python -m app.setup migrate|seed` made, once per process and
    `extra_env` (SERVING_ONLY left out), its database checkpointed so that copying the folder
    copies all of it."""
    serving_only = SERVING_ONLY & set(extra_env or {})
    key = tuple(sorted((k, v) for k, v in (extra_env or {}).items() if k not in serving_only))
    with _SEEDED_LOCK:
        if key not in _SEEDED:
            folder = Path(tempfile.mkdtemp(prefix="kindred-live-template-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            instance = folder / "instance"
            instance.mkdir()
            setup_env = {k: v for k, v in env.items() if k not in serving_only}
            _setup({**setup_env, "KINDRED_INSTANCE_DIR": str(instance),
                    "DATABASE_URL": f"sqlite:///{instance / 'kindred.db'}",
                    "MODEL_CACHE_DIR": str(instance / "models")})
            checkpoint_sqlite(instance / "kindred.db")
            _SEEDED[key] = instance
        return _SEEDED[key]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _python() -> Path:
    return PYTHON if PYTHON.exists() else Path(sys.executable)


def _wait_until_serving(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.process.returncode} before "
                               f"serving:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url + "/login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.2)
    _stop(server.process)
    raise RuntimeError(f"the server did not answer GET /login within {START_TIMEOUT:.0f} s:\n"
                       f"{server.log()}")


def child_pids(pid: int) -> list[int]:
    """The pids of `pid`'s child processes (Linux /proc)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(child) for child in task.read_text().split()]
        except OSError:  # the thread or the process ended meanwhile
            pass
    return children


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the master, as systemd or docker stop it; whatever of its process group is
    left after STOP_TIMEOUT (or after it exited: an orphaned worker) is killed."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the group is the server's own (a new session)
    except ProcessLookupError:
        pass  # every process of the group has exited
    process.wait(timeout=STOP_TIMEOUT)
