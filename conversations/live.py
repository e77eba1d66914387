"""Which conversations have a reply being written, on one server process or on many.

    build(redis_url, lease_seconds, prefix) -> LocalClaims | RedisClaims
        .shared                      False in-process: the streamer's own dict is the truth
        .claim(conversation_id, user_id, cap) -> token   Conflict busy / too_many_replies
        .release(conversation_id, user_id, token)
        .is_busy(conversation_id)
        .renew([(conversation_id, user_id, token)])      the owner's heartbeat
        .request_stop(conversation_id, reason) -> bool   reaches the owner's process
        .stops(timeout) -> [(conversation_id, reason)]   the stops asked of this process
        .expired() -> [conversation_id]                  dead owners', each given to one caller

Without Redis (REDIS_URL unset) there is nothing to share: LocalClaims answers "free" and the
ReplyStreamer's own dict of live replies decides, as it always did. With Redis a claim is a key
set with NX under a random token and a lease (`<prefix>:reply:<conversation id>`, value
"<token> <owner process>") that the owning process renews every third of its lease while the
reply is queued or streaming. So a process killed outright frees its conversations after one
lease; `expired()` then hands each of them (once, to one process) to be marked interrupted.
The same machinery, under another `kind` of key than "reply", is the per-room turn lock of
group rooms (rooms/locks.py: kind "room:turn", no user set).
Keys: `<prefix>:reply:<id>` (the claim), `<prefix>:reply:user:<user id>` (sorted set: the
user's live conversations by lease end, for MAX_LIVE_REPLIES_PER_USER), `<prefix>:reply:leases`
(sorted set: every claim by lease end, for the sweep), and the pub/sub channel
`<prefix>:reply:stop` ("<conversation id> <reason>"). No Flask, no database."""
import logging
import os
import secrets
import socket
import threading
from typing import Optional

from core.errors import Conflict

log = logging.getLogger(__name__)


def busy() -> Conflict:
    return Conflict("busy", "A reply is still being written in this conversation; "
                            "wait for it or stop it first.")


def too_many(cap: int) -> Conflict:
    return Conflict("too_many_replies",
                    f"You already have {cap} replies being written at once (the most allowed); "
                    f"wait for one to finish or stop one, then send again. This message was not "
                    f"stored.")


def build(redis_url: Optional[str], lease_seconds: float, prefix: str = "kindred"):
    if not redis_url:
        return LocalClaims()
    import redis
    return RedisClaims(redis.Redis.from_url(redis_url), lease_seconds, prefix)


class LocalClaims:
    """One process: the ReplyStreamer's dict of live replies is the whole truth."""
    shared = False

    def claim(self, conversation_id: int, user_id, cap: int) -> str:
        return ""

    def release(self, conversation_id: int, user_id, token: str) -> None:
        pass

    def is_busy(self, conversation_id: int) -> bool:
        return False

    def renew(self, claims) -> None:
        pass

    def request_stop(self, conversation_id: int, reason: str) -> bool:
        return False

    def stops(self, timeout: float) -> list:
        return []

    def expired(self) -> list:
        return []

    def close(self) -> None:
        pass


# KEYS: claim, user's set (or "" without a user), leases. ARGV: token owner, lease ms, cap, id.
_CLAIM = """
if redis.call('exists', KEYS[1]) == 1 then return 'busy' end
local t = redis.call('time')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local until_ms = now + tonumber(ARGV[2])
if KEYS[2] ~= '' then
  redis.call('zremrangebyscore', KEYS[2], '-inf', now)
  if redis.call('zcard', KEYS[2]) >= tonumber(ARGV[3]) then return 'too_many' end
  redis.call('zadd', KEYS[2], until_ms, ARGV[4])
  redis.call('pexpire', KEYS[2], ARGV[2])
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('zadd', KEYS[3], until_ms, ARGV[4])
return 'ok'
"""
# KEYS: claim, user's set (or ""), leases. ARGV: token owner, id.
_RELEASE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
if KEYS[2] ~= '' then redis.call('zrem', KEYS[2], ARGV[2]) end
redis.call('zrem', KEYS[3], ARGV[2])
return 1
"""
# KEYS: claim, user's set (or ""), leases. ARGV: token owner, lease ms, id.
_RENEW = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('time')
local until_ms = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[2])
redis.call('pexpire', KEYS[1], ARGV[2])
if KEYS[2] ~= '' then
  redis.call('zadd', KEYS[2], 'XX', until_ms, ARGV[3])
  redis.call('pexpire', KEYS[2], ARGV[2])
end
redis.call('zadd', KEYS[3], 'XX', until_ms, ARGV[3])
return 1
"""
# KEYS: leases. ARGV: claim key prefix. The expired ids whose claim is gone, removed: each
# one is returned to exactly one caller.
_EXPIRED = """
local t = redis.call('time')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local gone = {}
for _, id in ipairs(redis.call('zrangebyscore', KEYS[1], '-inf', now, 'LIMIT', 0, 100)) do
  if redis.call('exists', ARGV[1] .. id) == 0 then
    redis.call('zrem', KEYS[1], id)
    table.insert(gone, id)
  end
end
return gone
"""


class RedisClaims:
    """Claims shared by every process through one Redis (see the module docstring)."""
    shared = True

    def __init__(self, client, lease_seconds: float, prefix: str = "kindred",
                 kind: str = "reply"):
        self.client, self.prefix, self.kind = client, prefix, kind
        self.lease_ms = max(int(lease_seconds * 1000), 100)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.channel = f"{prefix}:{kind}:stop"
        self._claim, self._release = client.register_script(_CLAIM), client.register_script(_RELEASE)
        self._renew, self._expired = client.register_script(_RENEW), client.register_script(_EXPIRED)
        self._pubsub = None
        self._pubsub_lock = threading.Lock()

    def claim(self, conversation_id: int, user_id, cap: int) -> str:
        token = f"{secrets.token_hex(8)} {self.owner}"
        answer = self._claim(keys=self._keys(conversation_id, user_id),
                             args=[token, self.lease_ms, cap, conversation_id])
        answer = answer.decode() if isinstance(answer, bytes) else answer
        if answer == "busy":
            raise busy()
        if answer == "too_many":
            raise too_many(cap)
        return token

    def release(self, conversation_id: int, user_id, token: str) -> None:
        self._release(keys=self._keys(conversation_id, user_id), args=[token, conversation_id])

    def is_busy(self, conversation_id: int) -> bool:
        return bool(self.client.exists(self.claim_key(conversation_id)))

    def owner_of(self, conversation_id: int) -> Optional[str]:
        """The process holding the conversation's claim (host:pid:nonce), if any."""
        value = self.client.get(self.claim_key(conversation_id))
        return value.decode().split(" ", 1)[1] if value else None

    def renew(self, claims) -> None:
        """Push back the lease of each (conversation id, user id, token) this process holds."""
        for conversation_id, user_id, token in claims:
            if not self._renew(keys=self._keys(conversation_id, user_id),
                               args=[token, self.lease_ms, conversation_id]):
                log.warning("the %s claim of %s lapsed while it was held (this process "
                            "stalled past its lease)", self.kind, conversation_id)

    def request_stop(self, conversation_id: int, reason: str) -> bool:
        """Ask the process writing the conversation's reply to stop it; False if none is."""
        if not self.is_busy(conversation_id):
            return False
        self.client.publish(self.channel, f"{conversation_id} {reason}")
        return True

    def stops(self, timeout: float) -> list[tuple[int, str]]:
        """The stops asked (of any process) within `timeout` seconds: [(conversation id, reason)]."""
        with self._pubsub_lock:
            if self._pubsub is None:
                self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(self.channel)
            pubsub = self._pubsub
        asked, message = [], pubsub.get_message(timeout=timeout)
        while message is not None:
            conversation_id, _, reason = message["data"].decode().partition(" ")
            if conversation_id.isdigit():
                asked.append((int(conversation_id), reason or "user"))
            message = pubsub.get_message(timeout=0)
        return asked

    def expired(self) -> list[int]:
        return [int(i) for i in self._expired(keys=[self.leases_key],
                                              args=[f"{self.prefix}:{self.kind}:"])]

    def close(self) -> None:
        with self._pubsub_lock:
            if self._pubsub is not None:
                self._pubsub.close()
                self._pubsub = None

    def claim_key(self, conversation_id: int) -> str:
        return f"{self.prefix}:{self.kind}:{conversation_id}"

    @property
    def leases_key(self) -> str:
        return f"{self.prefix}:{self.kind}:leases"

    def _keys(self, conversation_id: int, user_id) -> list[str]:
        user_key = f"{self.prefix}:{self.kind}:user:{user_id}" if user_id is not None else ""
        return [self.claim_key(conversation_id), user_key, self.leases_key]
