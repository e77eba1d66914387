"""The feed's opaque cursors and the ranked tabs' snapshots.

A cursor is URL-safe base64 of a small JSON object; clients pass it back unchanged. Two shapes:

    {"v": 1, "t": "new" | "following", "at": <created_at, microseconds since the epoch>, "id": n}
        keyset: the next page holds the posts strictly older than (at, id), so a post published
        between two pages lands above the reader and never shifts the pages below
    {"v": 1, "t": "character", "c": <character id>, "at": ..., "id": n}
        the same, for the posts about one character (GET /api/characters/<id>/posts)
    {"v": 1, "t": "for_you" | "trending", "s": <snapshot id>, "o": <offset>}
        a ranked tab's pages are read from the ranking made for its first page (a `Snapshot`),
        so likes and new posts arriving while the reader scrolls move nothing they are reading

A cursor that does not decode, names another tab or character, or points at a snapshot of another
user or one that has expired is refused with 400 (`bad_cursor`, `cursor_expired`)."""
import base64
import binascii
import json
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional

from core.errors import KindredError

VERSION = 1
MAX_CURSOR_CHARS = 200
CHRONOLOGICAL = ("new", "following")
KEYSET = CHRONOLOGICAL + ("character",)  # "character": one character's posts, not a feed tab
RANKED = ("for_you", "trending")


def encode(payload: dict) -> str:
    raw = json.dumps({"v": VERSION, **payload}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(raw: str, tab: str, scope: Optional[int] = None) -> dict:
    """The cursor's fields, checked for `tab` (and, for "character", the character id `scope`).
    Raises KindredError (400 bad_cursor)."""
    if not raw or len(raw) > MAX_CURSOR_CHARS:
        raise _bad()
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad() from None
    if not isinstance(data, dict) or data.get("v") != VERSION:
        raise _bad()
    if data.get("t") != tab:
        raise KindredError("bad_cursor", f"That cursor belongs to another tab ('{data.get('t')}'"
                                         f"), not '{tab}'; pass next_cursor back with the same "
                                         "tab.")
    if data.get("c") != scope or (scope is not None and not _is_int(data["c"])):
        raise KindredError("bad_cursor", "That cursor belongs to another character's posts; pass "
                                         "next_cursor back to the same character's list.")
    keys = ("at", "id") if tab in KEYSET else ("s", "o")
    if not all(_is_int(data.get(k)) or (k == "s" and isinstance(data.get(k), str))
               for k in keys):
        raise _bad()
    if tab in KEYSET and (data["at"] < 0 or data["id"] < 1):
        raise _bad()
    if tab in RANKED and data["o"] < 0:
        raise _bad()
    return data


def keyset(tab: str, created_at: datetime, post_id: int, scope: Optional[int] = None) -> str:
    payload = {"t": tab, "at": to_micros(created_at), "id": post_id}
    if scope is not None:
        payload["c"] = scope
    return encode(payload)


def ranked(tab: str, snapshot_id: str, offset: int) -> str:
    return encode({"t": tab, "s": snapshot_id, "o": offset})


def to_micros(moment: datetime) -> int:
    delta = moment.astimezone(timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)


@dataclass
class Snapshot:
    """One reader's ranking of a ranked tab, made for its first page: post ids best first, why
    each is there, and the ids of earlier snapshots of the same scroll (a continuation made when
    this one runs out leaves them out, so nothing is shown twice)."""
    user_id: int
    tab: str
    ids: list[int]
    reasons: list[str]
    shown_before: frozenset = frozenset()
    made_at: float = field(default_factory=time.time)


class SnapshotStore:
    """Snapshots in this process, least recently used dropped first, each kept `ttl` seconds
    after its last read. One per app (app.extensions["kindred.feed"])."""

    def __init__(self, ttl: float = 3600.0, capacity: int = 5000):
        self.ttl, self.capacity = ttl, capacity
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def put(self, snapshot: Snapshot) -> str:
        key = secrets.token_urlsafe(12)
        with self._lock:
            self._items[key] = (time.monotonic(), snapshot)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return key

    def get(self, key: str, user_id: int, tab: str) -> Snapshot:
        """The snapshot, or KindredError: 400 cursor_expired (gone or someone else's)."""
        with self._lock:
            hit = self._items.get(key)
            now = time.monotonic()
            if hit is not None and now - hit[0] > self.ttl:
                del self._items[key]
                hit = None
            if hit is not None:
                self._items[key] = (now, hit[1])
                self._items.move_to_end(key)
        if hit is None or hit[1].user_id != user_id or hit[1].tab != tab:
            raise _expired()
        return hit[1]


class RedisSnapshotStore:
    """The same, in Redis (with REDIS_URL), so any process behind a balancer reads any scroll's
    snapshot; each key expires `ttl` seconds after its last read."""

    def __init__(self, client, ttl: float = 3600.0, prefix: str = "kindred:feed:snapshot:"):
        self.client, self.ttl, self.prefix = client, int(max(ttl, 1)), prefix

    def put(self, snapshot: Snapshot) -> str:
        key = secrets.token_urlsafe(12)
        value = json.dumps({"user_id": snapshot.user_id, "tab": snapshot.tab,
                            "ids": snapshot.ids, "reasons": snapshot.reasons,
                            "shown_before": sorted(snapshot.shown_before),
                            "made_at": snapshot.made_at})
        self.client.set(self.prefix + key, value, ex=self.ttl)
        return key

    def get(self, key: str, user_id: int, tab: str) -> Snapshot:
        raw = self.client.getex(self.prefix + key, ex=self.ttl) if key else None
        data = json.loads(raw) if raw else None
        if data is None or data["user_id"] != user_id or data["tab"] != tab:
            raise _expired()
        return Snapshot(data["user_id"], data["tab"], data["ids"], data["reasons"],
                        frozenset(data["shown_before"]), data["made_at"])


def _expired() -> KindredError:
    return KindredError("cursor_expired", "That page of the feed has expired; load the tab again "
                                          "from the top (no cursor).")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad() -> KindredError:
    return KindredError("bad_cursor", "'cursor' must be the next_cursor of a previous page of "
                                      "this tab, passed back unchanged.")
