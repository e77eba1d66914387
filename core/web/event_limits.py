"""Rate limits on Socket.IO events, counted by Flask-Limiter's own strategy and storage (memory
in one process, Redis with REDIS_URL: every process shares the count), under a scope of their
own so they never mix with the HTTP limits."""
import math
import time

from limits import parse

from core.errors import KindredError
from core.extensions import limiter


class RateLimited(KindredError):
    """Too many of one event: code `rate_limited`, with `retry_after`, whole seconds."""
    status = 429

    def __init__(self, retry_after: int):
        super().__init__("rate_limited", "You are sending messages too fast; wait "
                                         f"{retry_after} s and send it again.")
        self.retry_after = retry_after

    def payload(self) -> dict:
        return {**super().payload(), "retry_after": self.retry_after}


def check_event_rate(rate: str, scope: str, key: str) -> None:
    """Count one event of `scope` for `key` (a user id) against `rate` (e.g. "20 per minute");
    raise RateLimited once over it (a refused event is not counted)."""
    item, strategy = parse(rate), limiter.limiter
    if strategy.hit(item, scope, key):
        return
    reset, _remaining = strategy.get_window_stats(item, scope, key)
    raise RateLimited(max(1, math.ceil(reset - time.time())))
