"""KV caches: one per conversation, kept warm between turns within a memory budget (LRU)."""
from collections import OrderedDict
from typing import Callable

import torch


class KVCache:
    """Keys and values of one sequence for every layer: [layers, kv_heads, capacity, head_dim]."""

    def __init__(self, layers: int, kv_heads: int, head_dim: int, capacity: int, dtype: torch.dtype):
        self.k = torch.empty(layers, kv_heads, capacity, head_dim, dtype=dtype)
        self.v = torch.empty_like(self.k)
        self.ids: list[int] = []  # the tokens whose keys and values are stored, in order
        self._layer_views()

    def _layer_views(self) -> None:
        """Per layer [1, kv_heads, capacity, head_dim], the shape attention takes (saves
        indexing on every layer of every step)."""
        self.layer_k, self.layer_v = self.k[:, None].unbind(0), self.v[:, None].unbind(0)

    @property
    def length(self) -> int:
        return len(self.ids)

    @property
    def capacity(self) -> int:
        return self.k.shape[2]

    @property
    def nbytes(self) -> int:
        return 2 * self.k.numel() * self.k.element_size()

    def copy_prefix(self, other: "KVCache", tokens: int) -> None:
        """Start as `other`'s first `tokens` positions (the same model computed them)."""
        self.k[:, :, :tokens] = other.k[:, :, :tokens]
        self.v[:, :, :tokens] = other.v[:, :, :tokens]
        self.ids = other.ids[:tokens]

    def reserve(self, tokens: int) -> None:
        """Make room for `tokens` positions, keeping what is stored."""
        if tokens <= self.capacity:
            return
        for name in ("k", "v"):
            old = getattr(self, name)
            new = old.new_empty(old.shape[0], old.shape[1], tokens, old.shape[3])
            new[:, :, :self.length] = old[:, :, :self.length]
            setattr(self, name, new)
        self._layer_views()


class CacheStore:
    """Hands out a cache per job, starting it with the longest prefix of the prompt already
    computed anywhere: the conversation's own warm cache (`key`, continued in place), or any other
    cache, kept or in use, whose prefix is copied (another chat with the same character shares
    the whole system prompt). Caches given back are kept under their key until the total (kept +
    in use) passes `budget_bytes`; then the least recently used kept ones go."""

    def __init__(self, new_cache: Callable[[int], KVCache], budget_bytes: int):
        self.new_cache = new_cache
        self.budget_bytes = budget_bytes
        self.kept: OrderedDict[str, KVCache] = OrderedDict()  # least recently used first
        self.in_use: list[KVCache] = []

    def take(self, key: str | None, prompt: list[int], capacity: int) -> tuple[KVCache, int]:
        """(cache, number of prompt tokens already in it); at least one token is left to compute."""
        own = self.kept.pop(key, None) if key is not None else None
        others = [c for c in (own, *self.kept.values(), *self.in_use) if c is not None]
        best, shared = max(((c, common_prefix(c.ids, prompt)) for c in others),
                           key=lambda pair: pair[1], default=(None, 0))  # own first: wins ties
        shared = min(shared, len(prompt) - 1)
        if own is not None and best is own and shared > 0:
            cache = own
            del cache.ids[shared:]
            cache.reserve(capacity)
        else:
            cache = self.new_cache(capacity)
            if shared > 0:
                cache.copy_prefix(best, shared)
        self.in_use.append(cache)
        self._evict()
        return cache, shared

    def give_back(self, key: str | None, cache: KVCache, keep: bool = True) -> None:
        self.in_use = [c for c in self.in_use if c is not cache]
        if key is not None and keep:
            self.kept[key] = cache
            self.kept.move_to_end(key)
        self._evict()

    def forget(self) -> None:
        """Drop every kept cache (benchmarks use it to measure cold starts)."""
        self.kept.clear()

    @property
    def kept_bytes(self) -> int:
        return sum(c.nbytes for c in self.kept.values())

    @property
    def in_use_bytes(self) -> int:
        return sum(c.nbytes for c in self.in_use)

    def _evict(self) -> None:
        while self.kept and self.kept_bytes + self.in_use_bytes > self.budget_bytes:
            self.kept.popitem(last=False)


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    if n == 0 or a[0] != b[0]:
        return 0
    return next((i for i in range(n) if a[i] != b[i]), n)
