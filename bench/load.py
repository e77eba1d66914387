"""Load through the cluster (`make cluster`, docs/deploy.md): real python-socketio clients through
nginx, CLIENTS connected, CHATTING of them chatting at once (one turn after another), for
DURATION seconds. Prints a table and `name: value` lines: p50/p99 time to first token, tokens
per second per chat and in all, errors, lost and duplicated messages (from the database), and
the memory (RSS, a process with its children) of every process in a pid file at the start,
after the warm-up and at the end.

    python -m bench.load                           # 500 clients, 50 chatting, 180 s
    python -m bench.load --duration 60 --clients 100 --chatting 10

It uses the cluster the CLUSTER_* settings name (cluster/settings.py) when it answers; otherwise
it starts one (`python -m cluster up`, SIGNUP_RATE_LIMIT raised for its sign-ups) and stops it
at the end. `--webs`/`--workers` set the cluster it starts (e.g. 1 and 2 workers, to compare
aggregate tokens per second)."""
import argparse
import os
import secrets
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from cluster.__main__ import wait_until_serving
from cluster.settings import REPO, from_env
from tests.support.live_clients import Account, SocketClient

TURN_TIMEOUT = 120.0
CONNECT_TIMEOUT = 30.0


class Server:  # what tests.support.live_clients.Account needs of a server
    def __init__(self, url: str):
        self.url = url


class Chatter:
    """One tab: a socket; a chatter also runs turns and keeps what it saw of each."""

    def __init__(self, server: Server, account: Account):
        self.sio = SocketClient(reconnection=True, reconnection_attempts=20)
        self.account = account
        self.lock = threading.Condition()
        self.turn: dict | None = None
        self.turns: list[dict] = []
        self.sio.on("chat:message", self._on_message)
        self.sio.on("chat:token", self._on_token)
        self.sio.on("chat:done", lambda data: self._answer("done", data))
        self.sio.on("chat:error", lambda data: self._answer("error", data))
        self.sio.connect(server.url, headers={"Cookie": account.cookie_header},
                         transports=["websocket"], wait_timeout=CONNECT_TIMEOUT)

    def chat(self, conversation_id: int, until: float) -> None:
        self.sio.emit("chat:join", {"conversation_id": conversation_id})
        while time.monotonic() < until:
            turn = {"content": f"Load {secrets.token_hex(6)}: tell me about your day.",
                    "conversation_id": conversation_id, "sent": time.monotonic(),
                    "first": None, "end": None, "acked": False, "answer": None, "data": None}
            with self.lock:
                self.turn = turn
                self.turns.append(turn)
                self.sio.emit("chat:send", {"conversation_id": conversation_id,
                                            "content": turn["content"]})
                self.lock.wait_for(lambda: turn["answer"] is not None, timeout=TURN_TIMEOUT)
                self.turn = None
            if turn["answer"] == "error" and turn["data"].get("code") == "busy":
                time.sleep(0.5)

    def _on_message(self, data):
        with self.lock:
            if self.turn and data["message"]["content"] == self.turn["content"]:
                self.turn["acked"] = True

    def _on_token(self, _data):
        with self.lock:
            if self.turn and self.turn["first"] is None:
                self.turn["first"] = time.monotonic()

    def _answer(self, kind, data):
        with self.lock:
            if self.turn and self.turn["answer"] is None:
                self.turn.update(answer=kind, data=data or {}, end=time.monotonic())
                self.lock.notify_all()

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


def connected(server: Server, account: Account):
    """A connected tab, or the exception its connection failed with (counted, not fatal)."""
    try:
        return Chatter(server, account)
    except Exception as exc:  # socketio.exceptions.ConnectionError, a timeout
        return exc


def rss_mb(pid: int) -> float:
    """The process's RSS with its children's (gunicorn's master and its worker, where the app is)."""
    total = 0
    pids = [pid] + [int(c) for t in Path(f"/proc/{pid}/task").glob("*/children")
                    for c in t.read_text().split()]
    for one in pids:
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        total += int(next(line.split()[1] for line in status.splitlines()
                          if line.startswith("VmRSS:")))
    return round(total / 1024, 1)


def memory(settings) -> dict[str, float]:
    out = {}
    for path in sorted(settings.dir.glob("*.pid")):
        if path.stem == "honcho":
            continue
        try:
            out[path.stem] = rss_mb(int(path.read_text()))
        except (OSError, ValueError):
            out[path.stem] = float("nan")
    return out


def percentile(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[p - 1]


def parallel(work, items, workers=16):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, items))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--chatting", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=0.2, help="share of the run")
    parser.add_argument("--webs", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.webs:
        env["CLUSTER_WEBS"] = str(args.webs)
    if args.workers:
        env["CLUSTER_WORKERS"] = str(args.workers)
    settings = from_env(env)
    started = None
    if not wait_until_serving(settings, 1):
        env.setdefault("SIGNUP_RATE_LIMIT", "100000 per hour")
        # Every open websocket holds one of its web process's WEB_THREADS threads (200 by
        # default): 500 tabs over 2 processes need more, or the 401st waits and times out.
        env.setdefault("WEB_THREADS", str(max(200, args.clients // settings.webs + 100)))
        print(f"bench.load: starting a cluster on {settings.url}", flush=True)
        log = open(settings.dir.parent / "bench-load-cluster.log", "wb") \
            if settings.dir.parent.exists() else subprocess.DEVNULL
        started = subprocess.Popen([settings.python, "-m", "cluster", "up"], cwd=REPO, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_until_serving(settings, 600):
            raise SystemExit("bench.load: the cluster did not answer within 600 s")
    try:
        return run(args, settings)
    finally:
        if started is not None:
            subprocess.run([settings.python, "-m", "cluster", "stop"], cwd=REPO, env=env,
                           timeout=120)


def run(args, settings) -> int:
    server = Server(settings.url)
    mem = {"start": memory(settings)}
    workers = len(list(settings.dir.glob("worker-*.pid")))
    accounts = parallel(lambda _i: Account.signed_up(server, prefix="bench"),
                        range(args.chatting), workers=8)
    conversations = parallel(lambda a: a.start_conversation(), accounts, workers=8)
    tabs = accounts + [accounts[i % len(accounts)] for i in range(args.clients - args.chatting)]
    began = time.monotonic()
    clients = parallel(lambda a: connected(server, a), tabs, workers=32)
    connect_s = time.monotonic() - began
    refused = sum(1 for c in clients if isinstance(c, Exception))
    chatters = [(c, conversation) for c, conversation in zip(clients[:args.chatting],
                                                               conversations)
                if not isinstance(c, Exception)]
    clients = [c for c in clients if not isinstance(c, Exception)]
    until = time.monotonic() + args.duration
    warm = threading.Timer(args.duration * args.warmup, lambda: mem.update(warm=memory(settings)))
    warm.start()
    chat_began = time.monotonic()
    parallel(lambda pair: pair[0].chat(pair[1]["id"], until),
             chatters, workers=args.chatting)
    chat_s = time.monotonic() - chat_began
    mem["end"] = memory(settings)
    parallel(lambda c: c.close(), clients, workers=32)

    turns = [t for c, _ in chatters for t in c.turns]
    done = [t for t in turns if t["answer"] == "done"]
    errors = [t for t in turns if t["answer"] == "error"]
    unanswered = [t for t in turns if t["answer"] is None]
    ttft = [t["first"] - t["sent"] for t in turns if t["first"] is not None]
    rates = [t["data"].get("tokens", 0) / (t["end"] - t["first"]) for t in done
             if t["first"] is not None and t["end"] > t["first"]]
    tokens = sum(t["data"].get("tokens", 0) or 0 for t in done)
    stored, streaming = stored_messages(settings.database_url, [c["id"] for c in conversations])
    lost = sum(1 for t in turns if t["acked"] and stored.get((t["conversation_id"],
                                                               t["content"]), 0) == 0)
    duplicated = sum(1 for t in turns if stored.get((t["conversation_id"], t["content"]), 0) > 1)
    error_codes = sorted({t["data"].get("code", "?") for t in errors})

    print(f"\n{'process':<10} {'start MB':>9} {'warm MB':>9} {'end MB':>9} {'growth':>8}")
    growths = {}
    for name in mem["end"]:
        start, warm_mb, end = (mem["start"].get(name, float("nan")),
                               mem.get("warm", {}).get(name, float("nan")), mem["end"][name])
        growths[name] = (end - warm_mb) / warm_mb * 100 if warm_mb else float("nan")
        print(f"{name:<10} {start:>9.1f} {warm_mb:>9.1f} {end:>9.1f} {growths[name]:>7.1f}%")
    lines = {
        "clients": args.clients, "chatting": args.chatting, "duration_s": round(chat_s, 1),
        "connect_s": round(connect_s, 1), "turns": len(turns), "done": len(done),
        "connect_errors": refused,
        "errors": len(errors), "error_codes": ",".join(error_codes) or "-",
        "unanswered": len(unanswered), "lost_messages": lost, "duplicated_messages": duplicated,
        "stuck_streaming": streaming,
        "ttft_p50_s": round(percentile(ttft, 50), 3), "ttft_p99_s": round(percentile(ttft, 99), 3),
        "tokens_per_s_per_chat_p50": round(percentile(rates, 50), 1),
        "tokens_per_s_aggregate": round(tokens / chat_s, 1) if chat_s else 0,
        # what is running (its pid files), which may be a cluster started with other settings
        "webs": len(list(settings.dir.glob("web-*.pid"))),
        "inference": "redis" if workers else "local",
        "workers": workers,
        "max_memory_growth_after_warmup_pct": round(max(growths.values(), default=0), 1),
    }
    print()
    for name, value in lines.items():
        print(f"{name}: {value}")
    return 0


def stored_messages(database_url: str, conversation_ids: list[int]) -> tuple[dict, int]:
    """(conversation id, content) -> stored user messages; and how many replies are 'streaming'."""
    engine = sa.create_engine(database_url)
    ids = ",".join(str(int(i)) for i in conversation_ids) or "0"
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT conversation_id, content, count(*) FROM messages WHERE role = 'user' AND "
                f"conversation_id IN ({ids}) GROUP BY conversation_id, content")).all()
            streaming = connection.execute(sa.text(
                "SELECT count(*) FROM messages WHERE status = 'streaming' AND "
                f"conversation_id IN ({ids})")).scalar()
    finally:
        engine.dispose()
    return {(r[0], r[1]): r[2] for r in rows}, int(streaming)


if __name__ == "__main__":
    raise SystemExit(main())
