"""Stopping the app cleanly, once: what the production server (core/web/server.py) calls when it is
told to stop (SIGTERM, Ctrl-C). app/wiring.py registers it as app.extensions["kindred.shutdown"].

In order, within one time budget:
1. replies and room turns being written are stopped through their own stop path (reason
   "shutdown"): each is stored as stopped with its text so far and its chat:done / room:done
   goes out, as for a user's stop; no new one starts;
2. the community and events schedulers stop, and so do the watches of the replies' shared
   claims and of the rooms' locks (REDIS_URL: conversations/live.py, rooms/locks.py);
3. every Socket.IO connection is closed at the Engine.IO level (after what was queued for it),
   so its thread ends and clients reconnect by themselves once the server is back;
4. the analytics log writes what is queued, the engine closes, the database pool is disposed.
What could not be stopped in time stays `streaming` and is recovered by the next start
(recover_interrupted_replies / recover_interrupted_turns)."""
import logging
import threading
import time

from flask import Flask

from core.extensions import socketio

log = logging.getLogger(__name__)

SOCKETS_SECONDS = 2.0  # what closing the sockets, and the engine, may take at most (each)


class Shutdown:
    def __init__(self, app: Flask):
        self.app = app
        self._started = threading.Lock()
        self._done = threading.Event()
        self.clean: bool | None = None  # whether everything stopped in time (None: not run)

    def __call__(self, timeout: float = 8.0) -> bool:
        """Stop the app within about `timeout` seconds. Idempotent: a second call waits for the
        first (at most `timeout`). True if every reply and turn was stopped and stored."""
        if not self._started.acquire(blocking=False):
            self._done.wait(timeout)
            return bool(self.clean)
        try:
            self.clean = self._run(time.monotonic() + timeout)
        finally:
            self._done.set()
        return self.clean

    def _run(self, deadline: float) -> bool:
        extensions = self.app.extensions
        log.info("Kindred is shutting down: stopping the replies being written")
        # Leave the last steps their share of the budget.
        writing = max(deadline - time.monotonic() - 2 * SOCKETS_SECONDS, 0.5)
        clean = True
        for name in ("kindred.replies", "kindred.rooms"):
            if (writer := extensions.get(name)) is not None:
                clean = writer.stop_all("shutdown", timeout=writing / 2) and clean
        for name in ("kindred.community_scheduler_stop", "kindred.events_scheduler_stop",
                     "kindred.replies_watch_stop", "kindred.rooms_watch_stop"):  # the replies' claims: given back above
            if (stop := extensions.get(name)) is not None:
                stop.set()
        _bounded(close_sockets, SOCKETS_SECONDS)
        if (analytics := extensions.get("kindred.analytics")) is not None:
            analytics.flush(timeout=max(deadline - time.monotonic() - SOCKETS_SECONDS, 0.1))
        if (engine := extensions.get("kindred.inference")) is not None and hasattr(engine, "close"):
            _bounded(engine.close, SOCKETS_SECONDS)
        extensions["kindred.db"].dispose()
        log.info("Kindred stopped%s", "" if clean else
                 " (some replies were still being written: the next start marks them interrupted)")
        return clean


def close_sockets() -> None:
    """Close every Engine.IO connection of this process after what was queued for it (the last
    chat:done): a transport close, which Socket.IO clients answer by reconnecting later."""
    server = getattr(socketio, "server", None)
    if server is None:
        return
    for socket in list(server.eio.sockets.values()):
        try:
            socket.close(wait=False, reason=server.eio.reason.SERVER_DISCONNECT)
        except Exception:  # a socket that is gone already
            log.debug("could not close an Engine.IO socket", exc_info=True)


def _bounded(step, seconds: float) -> None:
    """Run `step` on a thread of its own and wait for it at most `seconds`."""
    thread = threading.Thread(target=step, daemon=True, name=f"shutdown-{step.__name__}")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        log.warning("shutdown: %s did not finish within %.1f s", step.__name__, seconds)
