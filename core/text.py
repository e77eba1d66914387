"""Checks for untrusted text and JSON values before they reach the database. No Flask here.

Text the databases cannot store (a lone UTF-16 surrogate such as "\\ud800", which JSON escapes
allow but UTF-8 cannot encode, or a NUL character, which PostgreSQL refuses) is refused as
`bad_text`; containers nested deeper than a limit are refused as `too_deep`."""
from core.errors import KindredError


def check_text(value: str, what: str = "text") -> str:
    """`value` itself, or KindredError("bad_text") if a database could not store it."""
    if "\x00" in value:
        raise _bad_text(what, "a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad_text(what, "a lone surrogate (an unpaired \\ud800-\\udfff escape)") from None
    return value


def check_json(value, max_depth: int, what: str = "body") -> None:
    """Walk a parsed JSON value without recursion: every string (keys included) must be
    storable text, and containers nest at most `max_depth` levels."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            check_text(node, what)
            continue
        if isinstance(node, dict):
            children = list(node.values())
            for key in node:
                check_text(key, what)
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            raise too_deep(what, max_depth)
        stack.extend((child, depth + 1) for child in children)


def too_deep(what: str, max_depth: int) -> KindredError:
    return KindredError("too_deep", f"The {what} nests objects and arrays too deeply; at most "
                                    f"{max_depth} levels are accepted.")


def _bad_text(what: str, found: str) -> KindredError:
    return KindredError("bad_text", f"The {what} contains {found}, which cannot be stored; "
                                    "send valid Unicode text.")
