"""Parsing and validating request bodies into plain values, with clear 400s."""
from flask import current_app, request

from core.errors import KindredError


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise KindredError("bad_request",
                           "Send a JSON object body with Content-Type application/json.")
    return body


def positive_int(body: dict, key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
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
    return value.strip()
