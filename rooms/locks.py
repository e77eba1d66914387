"""One generation at a time per room, and who is online in it, on one server process or many.

    build(redis_url, expiry_seconds, prefix) -> RoomCoordination
        .locks     acquire(room_id, wait) -> RoomLock | None; lock.extend(); lock.release()
                   .shared; .expired() -> [room id]: rooms whose lock's owner died, each once
        .presence  join / leave(sid) / online(room_id) / sids(room_id, user_id)
        .stops     request(room_id, message_id, reason) / requested(room_id, message_id) / clear

Without Redis (REDIS_URL unset) everything is in-process: a threading.Lock per room and dicts.
With Redis the lock is a claim of conversations/live.py's RedisClaims under the kind
"room:turn": `<prefix>:room:turn:<id>` holds "<token> <owner process>" for a lease of
`expiry_seconds` that the streaming turn renews as it goes, and `<prefix>:room:turn:leases`
(every held lock by lease end) lets a surviving process find the rooms of a process that died
mid-turn (`expired()`), so their turn is marked stopped (rooms/turns.py RoomTurns.watch).
Presence is a hash per room (`<prefix>:room:<id>:online`, socket id -> user id) that every
process reads, and a stop asked for on one process reaches the turn streaming on another
(`<prefix>:room:<id>:stop`, polled by the streaming turn).
No Flask, no database."""
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Optional, Protocol

from conversations.live import RedisClaims
from core.errors import Conflict

POLL_SECONDS = 0.05  # how often a waiting turn retries a room lock held elsewhere
PRESENCE_TTL_SECONDS = 24 * 3600  # a process that died leaves its sockets behind this long


class RoomLock(Protocol):
    def extend(self) -> None: ...
    def release(self) -> None: ...


@dataclass
class RoomCoordination:
    locks: "LocalLocks | RedisLocks"
    presence: "LocalPresence | RedisPresence"
    stops: "LocalStops | RedisStops"


def build(redis_url: Optional[str], expiry_seconds: float,
          prefix: str = "kindred") -> RoomCoordination:
    if not redis_url:
        return RoomCoordination(LocalLocks(), LocalPresence(), LocalStops())
    import redis
    client = redis.Redis.from_url(redis_url)
    return RoomCoordination(RedisLocks(client, expiry_seconds, prefix),
                            RedisPresence(client, prefix),
                            RedisStops(client, expiry_seconds, prefix))


# -- the per-room generation lock ---------------------------------------------------------

class _LocalLock:
    def __init__(self, lock: threading.Lock):
        self._lock = lock

    def extend(self) -> None:
        pass  # an in-process lock never expires

    def release(self) -> None:
        self._lock.release()


class LocalLocks:
    shared = False  # this process's turns are all there is: none can be left behind as it runs

    def __init__(self):
        self._locks: dict[int, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def acquire(self, room_id: int, wait: float = 0.0) -> Optional[_LocalLock]:
        with self._guard:
            lock = self._locks[room_id]
        got = lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)
        return _LocalLock(lock) if got else None

    def expired(self) -> list[int]:
        return []


class _RedisLock:
    def __init__(self, claims: RedisClaims, room_id: int, token: str):
        self._claims, self._room_id, self._token = claims, room_id, token

    def extend(self) -> None:
        self._claims.renew([(self._room_id, None, self._token)])  # the full lease from now

    def release(self) -> None:
        # a lapsed lock someone else holds now is not freed: the token is not ours any more
        self._claims.release(self._room_id, None, self._token)


class RedisLocks:
    shared = True

    def __init__(self, client, expiry_seconds: float, prefix: str = "kindred"):
        self.client, self.expiry = client, expiry_seconds
        self.claims = RedisClaims(client, expiry_seconds, prefix, kind="room:turn")

    def acquire(self, room_id: int, wait: float = 0.0) -> Optional[_RedisLock]:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                return _RedisLock(self.claims, room_id, self.claims.claim(room_id, None, 0))
            except Conflict:
                if time.monotonic() >= deadline:
                    return None
                time.sleep(POLL_SECONDS)

    def expired(self) -> list[int]:
        """Rooms whose lock lapsed unreleased (its process died mid-turn), each handed to one
        caller once."""
        return self.claims.expired()

    def owner_of(self, room_id: int) -> Optional[str]:
        return self.claims.owner_of(room_id)


# -- presence: which sockets of which people are in a room --------------------------------

class LocalPresence:
    def __init__(self):
        self._rooms: dict[int, dict[str, int]] = defaultdict(dict)
        self._guard = threading.Lock()

    def join(self, room_id: int, sid: str, user_id: int) -> None:
        with self._guard:
            self._rooms[room_id][sid] = user_id

    def leave(self, room_id: int, sid: str) -> None:
        with self._guard:
            self._rooms[room_id].pop(sid, None)

    def rooms_of(self, sid: str) -> list[int]:
        with self._guard:
            return [room_id for room_id, sids in self._rooms.items() if sid in sids]

    def online(self, room_id: int) -> list[int]:
        with self._guard:
            return sorted(set(self._rooms[room_id].values()))

    def sids(self, room_id: int, user_id: int) -> list[str]:
        with self._guard:
            return [sid for sid, uid in self._rooms[room_id].items() if uid == user_id]


class RedisPresence:
    def __init__(self, client, prefix: str = "kindred"):
        self.client, self.prefix = client, prefix
        self._mine: dict[str, set[int]] = defaultdict(set)  # this process's sockets' rooms
        self._guard = threading.Lock()

    def join(self, room_id: int, sid: str, user_id: int) -> None:
        key = self._key(room_id)
        self.client.pipeline().hset(key, sid, user_id).expire(key, PRESENCE_TTL_SECONDS).execute()
        with self._guard:
            self._mine[sid].add(room_id)

    def leave(self, room_id: int, sid: str) -> None:
        self.client.hdel(self._key(room_id), sid)
        with self._guard:
            self._mine[sid].discard(room_id)

    def rooms_of(self, sid: str) -> list[int]:
        with self._guard:
            return sorted(self._mine.get(sid, ()))

    def online(self, room_id: int) -> list[int]:
        return sorted({int(v) for v in self.client.hvals(self._key(room_id))})

    def sids(self, room_id: int, user_id: int) -> list[str]:
        return [sid.decode() if isinstance(sid, bytes) else sid
                for sid, uid in self.client.hgetall(self._key(room_id)).items()
                if int(uid) == user_id]

    def _key(self, room_id: int) -> str:
        return f"{self.prefix}:room:{room_id}:online"


# -- stops: room:stop on any process reaches the turn that streams ------------------------

class LocalStops:
    def __init__(self):
        self._asked: dict[int, tuple[int, str]] = {}

    def request(self, room_id: int, message_id: int, reason: str) -> None:
        self._asked[room_id] = (message_id, reason)

    def requested(self, room_id: int, message_id: int) -> Optional[str]:
        """The reason (user | disconnect) a stop of that message was asked for, if one was."""
        asked = self._asked.get(room_id)
        return asked[1] if asked is not None and asked[0] == message_id else None

    def clear(self, room_id: int, message_id: int) -> None:
        if self._asked.get(room_id, (None,))[0] == message_id:
            del self._asked[room_id]


class RedisStops:
    CHECK_SECONDS = 0.2  # a streaming turn looks for a stop asked elsewhere this often

    def __init__(self, client, expiry_seconds: float, prefix: str = "kindred"):
        self.client, self.expiry, self.prefix = client, expiry_seconds, prefix
        self._checked: dict[int, float] = {}

    def request(self, room_id: int, message_id: int, reason: str) -> None:
        self.client.set(self._key(room_id), f"{message_id}:{reason}", ex=max(int(self.expiry), 1))

    def requested(self, room_id: int, message_id: int) -> Optional[str]:
        now = time.monotonic()
        if now - self._checked.get(room_id, 0.0) < self.CHECK_SECONDS:
            return None
        self._checked[room_id] = now
        value = self.client.get(self._key(room_id))
        if value is None:
            return None
        asked, _, reason = (value.decode() if isinstance(value, bytes) else value).partition(":")
        return reason if asked == str(message_id) else None

    def clear(self, room_id: int, message_id: int) -> None:
        if self.requested_now(room_id, message_id):
            self.client.delete(self._key(room_id))
        self._checked.pop(room_id, None)

    def requested_now(self, room_id: int, message_id: int) -> bool:
        self._checked.pop(room_id, None)
        return self.requested(room_id, message_id) is not None

    def _key(self, room_id: int) -> str:
        return f"{self.prefix}:room:{room_id}:stop"
