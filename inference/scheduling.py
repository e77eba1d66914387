"""The engine's waiting line: jobs by priority, first come first served within one, with a guard
so members' priority never starves everyone else.

    PRIORITY_HIGH    plus members' replies (billing entitlements: queue_priority "high")
    PRIORITY_NORMAL  everyone else's replies and the memory extractor
    PRIORITY_LOW     background work (the safety judge, community voices, the assistant): taken
                     only once nothing above it waits

The guard: once `burst` high jobs in a row have been taken while a normal job waited, the
oldest normal job goes next. A free user's reply therefore waits for at most `burst` members'
replies that arrived after it, however many members keep arriving."""
import queue
import threading
from collections import deque

PRIORITY_HIGH, PRIORITY_NORMAL, PRIORITY_LOW = -1, 0, 1
PRIORITY_CLOSE = PRIORITY_LOW + 1  # the engine's own stop signal, after everything queued
DEFAULT_BURST = 3


class JobQueue:
    """Thread-safe; `get(block=False)` raises queue.Empty like the standard library's queues."""

    def __init__(self, burst: int = DEFAULT_BURST):
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.burst = burst
        self._levels: dict[int, deque] = {}
        self._high_streak = 0  # high jobs taken in a row while a normal one waited
        self._changed = threading.Condition()

    def put(self, priority: int, item) -> None:
        with self._changed:
            self._levels.setdefault(priority, deque()).append(item)
            self._changed.notify()

    def get(self, block: bool = True):
        with self._changed:
            while not self.qsize():
                if not block:
                    raise queue.Empty
                self._changed.wait()
            return self._levels[self._next_level()].popleft()

    def qsize(self) -> int:
        return sum(len(line) for line in self._levels.values())

    def empty(self) -> bool:
        return self.qsize() == 0

    def _next_level(self) -> int:
        waiting = sorted(level for level, line in self._levels.items() if line)
        first = waiting[0]
        normal_waits = bool(self._levels.get(PRIORITY_NORMAL))
        if first == PRIORITY_HIGH and normal_waits:
            if self._high_streak >= self.burst:
                self._high_streak = 0
                return PRIORITY_NORMAL
            self._high_streak += 1
        elif first == PRIORITY_NORMAL or not normal_waits:
            self._high_streak = 0
        return first
