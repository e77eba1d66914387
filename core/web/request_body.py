"""Request bodies: one policy for every API route, and readers that turn bodies into values.

`check_request` runs before every request. An API request that carries a body must send JSON
(multipart only to routes marked `upload_route`), at most MAX_CONTENT_LENGTH bytes (413 before
anything is read), nested at most MAX_JSON_DEPTH levels (`too_deep`), with text the databases
can store (`bad_text`). Query strings are checked for such text too. Routes then read the body
with json_body(), parsed once."""
import json
from functools import wraps

from flask import current_app, g, request

from core.db import is_id
from core.errors import KindredError
from core.text import check_json, check_text, too_deep

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_NOT_JSON = "Send a JSON object body with Content-Type application/json."


def upload_route(max_bytes):
    """Mark a view that takes a multipart file upload of at most `max_bytes(config)` bytes
    (plus room for the multipart framing) instead of a JSON body."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            request.max_content_length = max_bytes(current_app.config) + 64 * 1024
            return view(*args, **kwargs)
        wrapper.kindred_upload = True
        return wrapper
    return decorate


def check_request() -> None:
    """before_request: the body policy above, for every route at once."""
    for value in request.args.values():
        check_text(value, "query string")
    if not request.path.startswith("/api/") or request.method not in BODY_METHODS:
        return
    if not _has_body():
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "kindred_upload", False) and request.mimetype == "multipart/form-data":
        return
    if not request.is_json:
        raise KindredError("bad_request", _NOT_JSON)
    _parsed_body()


def json_body(optional: bool = False) -> dict:
    """The request's JSON object. With `optional`, no body at all reads as {}; a body that is
    there must still be a JSON object."""
    if optional and not _has_body():
        return {}
    body = _parsed_body() if request.is_json and _has_body() else None
    if not isinstance(body, dict):
        raise KindredError("bad_request", _NOT_JSON)
    return body


def positive_int(body: dict, key: str) -> int:
    value = body.get(key)
    if not is_id(value):
        raise KindredError("bad_request", f"'{key}' must be a positive integer id.")
    return value


def message_text(value) -> str:
    """A chat message: non-empty after trimming, at most MAX_MESSAGE_CHARS characters."""
    limit = current_app.config["MAX_MESSAGE_CHARS"]
    if not isinstance(value, str) or not value.strip():
        raise KindredError("empty_message", "'content' must be a non-empty string.")
    if len(value) > limit:
        raise KindredError("message_too_long",
                           f"Messages are at most {limit} characters; this one has {len(value)}.")
    return check_text(value.strip(), "message")


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", "").lower()


def _parsed_body():
    if "kindred_body" in g:
        return g.kindred_body
    max_depth = current_app.config["MAX_JSON_DEPTH"]
    raw = request.get_data(cache=True)  # 413 here if over MAX_CONTENT_LENGTH, before reading
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise too_deep("body", max_depth) from None
    except (UnicodeDecodeError, ValueError) as exc:  # also huge int literals
        raise KindredError("bad_json", f"The body is not valid JSON ({exc}).") from None
    check_json(body, max_depth)
    g.kindred_body = body
    return body


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")
