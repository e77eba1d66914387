"""Typed readers for the fields of an untrusted card ``data`` object.

Each reader takes the JSON object and a key, applies defaults for absent/null
values, enforces the size limits and returns a value safe to store on a Card.
Wrong types raise CardError("bad_field"); oversized text raises
CardError("field_too_long"). Free-form objects (extensions, character_book,
assets) are deep-copied verbatim, unknown keys included.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from core.errors import KindredError
from core.text import check_text

from .errors import CardError
from .limits import (MAX_EXTENSION_KEYS, MAX_EXTENSIONS_BYTES, MAX_LIST_ITEMS, MAX_LORE_ENTRIES,
                     MAX_TAG_CHARS, field_limit)


def text(obj: dict, key: str) -> str:
    """A string field; absent/null -> "", numbers are converted to their text form."""
    value = obj.get(key)
    if value is None:
        return ""
    return _as_text(value, key)


def optional_text(obj: dict, key: str) -> str | None:
    """A string field that may be absent (None)."""
    value = obj.get(key)
    return None if value is None else _as_text(value, key)


def text_list(obj: dict, key: str) -> list[str]:
    """An array of strings; absent/null -> []."""
    value = obj.get(key)
    return [] if value is None else _as_text_list(value, key)


def optional_text_list(obj: dict, key: str) -> list[str] | None:
    """An array of strings that may be absent (None)."""
    value = obj.get(key)
    return None if value is None else _as_text_list(value, key)


def text_mapping(obj: dict, key: str) -> dict[str, str] | None:
    """An object of string -> string (e.g. creator_notes_multilingual), or None."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(key, "an object of language code -> text")
    return {str(k): _as_text(v, key) for k, v in value.items()}


def mapping(obj: dict, key: str) -> dict[str, Any]:
    """A free-form object kept verbatim (e.g. extensions); absent/null -> {}."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(key, "an object")
    if len(value) > MAX_EXTENSION_KEYS:
        raise _too_many(key, len(value), MAX_EXTENSION_KEYS, "keys")
    if len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")) \
            > MAX_EXTENSIONS_BYTES:
        raise CardError("field_too_long", f"The '{key}' object is larger than the "
                                          f"{MAX_EXTENSIONS_BYTES // 1024} KB accepted for it.")
    return copy.deepcopy(value)


def number(obj: dict, key: str) -> int | float | None:
    """A number (e.g. a unix timestamp) or None; numeric strings are converted."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise _bad(key, "a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
        try:
            parsed = float(value.strip())
        except ValueError:
            parsed = float("nan")
        if parsed == parsed and parsed not in (float("inf"), float("-inf")):
            return parsed
    raise _bad(key, "a number")


def character_book(obj: dict, key: str) -> dict[str, Any] | None:
    """The lorebook object, kept verbatim; ``entries`` must be a list of objects."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(key, "a lorebook object with an 'entries' list")
    entries = value.get("entries")
    if entries is not None and (
        not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries)
    ):
        raise _bad(f"{key}.entries", "a list of lorebook entry objects")
    if entries is not None and len(entries) > MAX_LORE_ENTRIES:
        raise _too_many(f"{key}.entries", len(entries), MAX_LORE_ENTRIES, "entries")
    return copy.deepcopy(value)


def asset_list(obj: dict, key: str) -> list[dict[str, Any]] | None:
    """The V3 ``assets`` array (objects with type/uri/name/ext), kept verbatim, or None."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(a, dict) for a in value):
        raise _bad(key, "a list of asset objects")
    for asset in value:
        for part in ("type", "uri", "name", "ext"):
            if part in asset and not isinstance(asset[part], str):
                raise _bad(f"{key}[].{part}", "a string")
    return copy.deepcopy(value)


def _as_text(value: Any, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _bad(key, "a string")
    result = value if isinstance(value, str) else str(value)
    _check_storable(result, key)
    limit = field_limit(key)
    if len(result) > limit // 4 and len(result.encode("utf-8", "surrogatepass")) > limit:
        raise CardError(
            "field_too_long",
            f"The '{key}' field is longer than the {limit // 1024} KB accepted for it.",
        )
    return result


def _as_text_list(value: Any, key: str) -> list[str]:
    if not isinstance(value, list):
        raise _bad(key, "a list of strings")
    if len(value) > MAX_LIST_ITEMS:
        raise _too_many(key, len(value), MAX_LIST_ITEMS, "items")
    items = [_as_text(item, key) for item in value]
    if key == "tags" and any(len(tag) > MAX_TAG_CHARS for tag in items):
        raise CardError("field_too_long", f"Each tag is at most {MAX_TAG_CHARS} characters.")
    return items


def _check_storable(value: str, key: str) -> None:
    try:
        check_text(value, f"'{key}' field")
    except KindredError as exc:
        raise CardError(exc.code, exc.message) from None


def _too_many(key: str, count: int, limit: int, what: str) -> CardError:
    return CardError("too_many_items", f"The '{key}' field has {count} {what}; at most {limit} "
                                       "are accepted.")


def _bad(key: str, expected: str) -> CardError:
    return CardError("bad_field", f"The '{key}' field has the wrong type; it must be {expected}.")
