"""Integer ids in URLs: one converter for every route, bounded to what the databases store, so
an id outside that range is a 404 like any unknown id, not an OverflowError."""
from flask import Flask
from werkzeug.routing import IntegerConverter

from core.db import MAX_ID


def _at_most(limit: int) -> str:
    """A regex for the decimal numbers 0..limit (leading zeros allowed, as `int` allows)."""
    digits = str(limit)
    shorter = rf"\d{{1,{len(digits) - 1}}}"
    same_length = [digits[:i] + f"[0-{int(d) - 1}]" + rf"\d{{{len(digits) - i - 1}}}"
                   for i, d in enumerate(digits) if d != "0"]
    return "0*(?:" + "|".join([shorter, *same_length, digits]) + ")"


class DatabaseIdConverter(IntegerConverter):
    # Bounded in the pattern itself, not in to_python: Werkzeug answers 405 instead of 404
    # when a value fails conversion on a path that other methods also route.
    regex = _at_most(MAX_ID)


def install(app: Flask) -> None:
    """Make `<int:...>` in every route this converter; call before blueprints register."""
    app.url_map.converters["int"] = DatabaseIdConverter
