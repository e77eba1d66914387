"""Strict JSON decoding of untrusted card bytes, and compact encoding for export."""

from __future__ import annotations

import codecs
import json
from typing import Any

from core.errors import KindredError
from core.text import check_json

from .errors import CardError
from .limits import MAX_JSON_DEPTH


def decode_json_bytes(data: bytes, what: str = "card JSON") -> Any:
    """Parse UTF-8 JSON bytes (a leading UTF-8 BOM is tolerated).

    Raises CardError("bad_encoding") for non-UTF-8 bytes, CardError("bad_json")
    for malformed JSON or NaN/Infinity, CardError("too_deep") for nesting deeper
    than MAX_JSON_DEPTH.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CardError(
            "bad_encoding",
            f"The {what} is not valid UTF-8 (bad byte at offset {exc.start}); "
            "cards must be UTF-8 encoded JSON.",
        ) from exc
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise _too_deep(what) from exc
    except ValueError as exc:  # JSONDecodeError, huge int literals, NaN
        raise CardError(
            "bad_json", f"The {what} is not valid JSON ({exc}); expected a JSON object."
        ) from exc
    check_depth(obj, what)
    check_storable(obj, what)
    return obj


def encode_json_bytes(obj: Any, pretty: bool = False) -> bytes:
    """Serialise ``obj`` as UTF-8 JSON (non-ASCII kept as-is, like SillyTavern)."""
    options = {"indent": 2} if pretty else {"separators": (",", ":")}
    try:
        return json.dumps(obj, ensure_ascii=False, **options).encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (legal in JSON "\ud800" escapes) cannot be UTF-8
        # encoded; ASCII-escaped output keeps them and is still valid JSON.
        return json.dumps(obj, ensure_ascii=True, **options).encode("ascii")


def check_depth(obj: Any, what: str = "card JSON") -> None:
    """Raise CardError("too_deep") when containers nest deeper than MAX_JSON_DEPTH."""
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise _too_deep(what)
        stack.extend((child, depth + 1) for child in children)


def check_storable(obj: Any, what: str = "card JSON") -> None:
    """Raise CardError("bad_text") for a string (or key) no database can store: a lone
    surrogate from a "\\ud800" escape, or a NUL character."""
    try:
        check_json(obj, MAX_JSON_DEPTH, what)
    except KindredError as exc:
        raise CardError(exc.code, exc.message) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _too_deep(what: str) -> CardError:
    return CardError(
        "too_deep",
        f"The {what} nests objects/arrays too deeply; at most {MAX_JSON_DEPTH} levels are accepted.",
    )
