"""The production server of `python run.py`: gunicorn, run from code, with one worker process of
`gthread` threads (Flask-SocketIO's threading mode with simple-websocket: every websocket holds
one thread while it is open). One worker because the model lives in it and Socket.IO's rooms are
in its memory; the app is made in that worker, never in the master, so the model loads once
and no torch thread is forked. The master imports only this module (not the app, nor torch).

Stopping: SIGTERM to the master (systemd, docker) and Ctrl-C (SIGINT to the whole process group)
both reach the worker, which stops the app through app.extensions["kindred.shutdown"]
(registered by app/wiring.py, app/shutdown.py: replies stopped and stored, sockets closed, the engine closed) within the
graceful timeout, then exits; the master exits 0 once it has."""
import logging
import os
import sys
import threading
import time
from typing import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.gthread import ThreadWorker

log = logging.getLogger(__name__)

EXIT_MARGIN = 2.0  # seconds of the graceful timeout left for the last connections and exiting
KEEPALIVE_SECONDS = 75
LEAVE_SECONDS = 1.0  # how long an exiting worker waits for its last non-daemon threads


class StartRefused(Exception):
    """The app cannot start (a missing model): said in one line, and `run.py` exits 1."""


def serve(factory: Callable[[], Flask], host: str, port: int, threads: int,
          graceful_timeout: int, log_level: str = "info") -> int:
    """Serve the app `factory` makes (in the worker) on host:port until stopped; the exit code."""
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": KindredWorker,
        "threads": threads,
        "graceful_timeout": graceful_timeout,
        # The worker's main loop only accepts connections; requests run on its threads. No
        # heartbeat deadline, since the first start can spend minutes converting the model.
        "timeout": 0,
        # gunicorn closes an idle kept-alive connection after `keepalive` seconds (2 by default);
        # a client that sends its next request on it at that moment gets the connection closed
        # without a response (python clients do not retry a POST). 75 s is nginx's own default:
        # idle connections wait in the worker's poller and hold no thread.
        "keepalive": KEEPALIVE_SECONDS,
        "loglevel": log_level.lower(),
        "accesslog": None,  # requests are not logged; the app logs what matters
        "errorlog": "-",
        "proc_name": "kindred",
        # X-Forwarded-* are the app's to trust (PROXY_FIX_HOPS, core/web/proxy.py), not gunicorn's.
        "forwarded_allow_ips": "",
        "control_socket_disable": True,  # no gunicornc socket in the home directory
    }
    master = os.getpid()
    try:
        KindredServer(factory, options).run()
    except SystemExit as exit_:
        if os.getpid() != master:
            raise  # the worker, forked inside run(), leaving with its own code
        code = exit_.code
        if code == Arbiter.APP_LOAD_ERROR:
            return 1
        return code if isinstance(code, int) else 0 if code is None else 1
    return 0


class KindredServer(BaseApplication):
    def __init__(self, factory: Callable[[], Flask], options: dict):
        self.factory, self.options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Called in the worker, once, before it serves."""
        try:
            return self.factory()
        except StartRefused as exc:
            print(f"kindred: cannot start: {exc}", file=sys.stderr, flush=True)
            sys.exit(Arbiter.APP_LOAD_ERROR)  # the master then stops, saying why


class KindredWorker(ThreadWorker):
    """gunicorn's gthread worker that stops the app cleanly on SIGTERM, SIGINT and SIGQUIT.

    gunicorn's own SIGINT/SIGQUIT handling exits at once; here every stop signal takes the
    graceful path: the worker stops accepting, the app's shutdown runs on a thread (a signal
    handler must return quickly), the open connections end as it closes them, and the worker
    leaves once the shutdown is done, within the graceful timeout."""

    _stopping: threading.Thread | None = None
    _deadline: float = 0.0

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)  # stop accepting, drain the connections
        self._begin_stop()

    def handle_quit(self, sig, frame) -> None:
        self.handle_exit(sig, frame)

    def run(self) -> None:
        try:
            super().run()
        finally:
            self._begin_stop()  # also when the loop ended on its own (the master went away)
            self._stop_app()  # waits for the running stop (Shutdown is idempotent)
            self._leave()

    def _begin_stop(self) -> None:
        if self._stopping is not None:
            return
        self._deadline = time.monotonic() + max(self.cfg.graceful_timeout - EXIT_MARGIN, 1.0)
        self._stopping = threading.Thread(target=self._stop_app, daemon=True,
                                          name="kindred-shutdown")
        self._stopping.start()

    def _stop_app(self) -> None:
        """The app's shutdown within what is left of the budget; nothing before the app is made
        (a stop during the model's loading: the end of run() calls this again)."""
        app = getattr(self, "wsgi", None)
        shutdown = getattr(app, "extensions", {}).get("kindred.shutdown")
        if shutdown is not None:
            shutdown(max(self._deadline - time.monotonic(), 0.5))

    def _leave(self) -> None:
        """Let the process exit: a thread that is no daemon (a websocket whose client stopped
        reading) would keep it alive until the master kills it, so such threads get
        LEAVE_SECONDS, then the process exits anyway."""
        deadline = time.monotonic() + LEAVE_SECONDS
        while time.monotonic() < deadline:
            if not _foreground_threads():
                return
            time.sleep(0.05)
        log.warning("exiting with %d threads still open", len(_foreground_threads()))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _foreground_threads() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]
