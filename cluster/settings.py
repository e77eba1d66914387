"""The cluster script's settings, from environment variables only (docs/config.md, "make cluster").
They configure the tooling (ports, folders, which Redis); the processes it starts read the app's
own settings (config.py) from the environment it passes on."""
import os
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ClusterSettings:
    dir: Path  # pid files, logs, nginx.conf, Procfile
    instance_dir: Path  # KINDRED_INSTANCE_DIR of every web process and worker (shared)
    port: int  # nginx listens on 127.0.0.1:port
    webs: int
    workers: int
    inference: str  # "local": a model in every web process; "redis": Redis Streams workers
    database_url: str
    redis_url: str
    redis_port: int  # 0: use redis_url's Redis; else start redis-server on this port
    python: str = field(default="")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def web_port(self, number: int) -> int:
        return self.port + number  # web-1 on port+1, web-2 on port+2 ...

    def pid_file(self, name: str) -> Path:
        return self.dir / f"{name}.pid"

    @property
    def names(self) -> list[str]:
        """The processes `up` starts under `keep`, each with a pid file."""
        names = ["nginx"] + (["redis"] if self.redis_port else [])
        names += [f"web-{n}" for n in range(1, self.webs + 1)]
        if self.inference == "redis":
            names += [f"worker-{n}" for n in range(1, self.workers + 1)]
        return names


def from_env(env: dict | None = None) -> ClusterSettings:
    env = os.environ if env is None else env
    redis_port = int(env.get("CLUSTER_REDIS_PORT", "0") or 0)
    inference = env.get("CLUSTER_INFERENCE", "local")
    if inference not in ("local", "redis"):
        raise SystemExit(f"CLUSTER_INFERENCE must be local or redis, not {inference!r}")
    default_python = REPO / ".venv" / "bin" / "python"
    return ClusterSettings(
        dir=Path(env.get("CLUSTER_DIR", REPO / "instance" / "cluster")).resolve(),
        instance_dir=Path(env.get("KINDRED_INSTANCE_DIR", REPO / "instance")).resolve(),
        port=int(env.get("CLUSTER_PORT", "8000")),
        webs=int(env.get("CLUSTER_WEBS", "2")),
        workers=int(env.get("CLUSTER_WORKERS", "2")),
        inference=inference,
        database_url=env.get("CLUSTER_DATABASE_URL",
                             "postgresql+psycopg://postgres@127.0.0.1:5432/kindred_cluster"),
        redis_url=(f"redis://127.0.0.1:{redis_port}/0" if redis_port
                   else env.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/0")),
        redis_port=redis_port,
        python=str(default_python if default_python.exists() else "python3"),
    )
