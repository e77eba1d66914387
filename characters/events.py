"""Socket.IO for the studio: `studio:draft {line}` -> `studio:draft_token {field, text}` ... then
`studio:draft_done {fields}`, or `studio:error {code, message}`. One draft at a time per
connection; `studio:draft_stop` or a disconnect cancels it (the chat's own disconnect handler
owns that event, so the draft notices the closed connection itself). Registered from create_app() before socketio.init_app."""
import logging
import threading
from functools import wraps

from flask import current_app, request
from flask_socketio import emit

from core.errors import KindredError
from core.extensions import socketio
from characters.drafting import clean_line, draft_fields

log = logging.getLogger(__name__)

_running: dict[str, threading.Event] = {}  # sid -> cancel flag
_lock = threading.Lock()


def studio_event(handler):
    """The studio's handlers answer every problem in one shape, `studio:error {code, message}`:
    a domain error with its own code, an unexpected failure with `internal` (logged)."""
    @wraps(handler)
    def wrapper(payload=None):
        try:
            return handler(payload)
        except KindredError as exc:
            emit("studio:error", exc.payload())
        except Exception:
            log.exception("%s failed for socket %s", handler.__name__, request.sid)
            emit("studio:error", {"code": "internal", "message": "Something went wrong on the "
                                  "server; nothing was drafted. Try again."})
    return wrapper


@socketio.on("studio:draft")
@studio_event
def on_draft(payload=None):
    sid = request.sid
    line = clean_line(payload.get("line") if isinstance(payload, dict) else None)
    with _lock:
        if sid in _running:
            raise KindredError("busy", "A draft is already being written; wait for it.")
        cancel = _running[sid] = threading.Event()
    try:
        engine = current_app.extensions["kindred.inference"]
        socketio.start_background_task(_draft, engine, line, sid, cancel)
    except BaseException:
        with _lock:
            _running.pop(sid, None)
        raise


@socketio.on("studio:draft_stop")
@studio_event
def on_draft_stop(_payload=None):
    cancel_for_sid(request.sid)


def cancel_for_sid(sid: str) -> None:
    with _lock:
        if (cancel := _running.get(sid)) is not None:
            cancel.set()


def _connected(sid: str) -> bool:
    try:
        return socketio.server.manager.is_connected(sid, "/")
    except Exception:
        return True


def _draft(engine, line: str, sid: str, cancel: threading.Event) -> None:
    def on_token(field: str, text: str) -> None:
        socketio.emit("studio:draft_token", {"field": field, "text": text}, to=sid)

    try:
        fields = draft_fields(engine, line, on_token,
                              lambda: cancel.is_set() or not _connected(sid))
        socketio.emit("studio:draft_done", {"fields": fields, "stopped": cancel.is_set()}, to=sid)
    except KindredError as exc:
        socketio.emit("studio:error", exc.payload(), to=sid)
    except Exception:
        log.exception("studio draft failed")
        socketio.emit("studio:error", {"code": "generation_failed",
                                       "message": "The model failed while drafting; try again."},
                      to=sid)
    finally:
        with _lock:
            _running.pop(sid, None)
