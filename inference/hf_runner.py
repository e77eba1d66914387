"""The engine's runner for causal LMs outside the fast path (inference/llama.py): Hugging Face's
own forward and DynamicCache, behind the same interface (new_cache, forward, logits,
top_logits), so LocalEngine's jobs, streaming, stop strings, cancelling and prefix reuse work
unchanged. Slower than the fast path (no packed weights, no C++ step, jobs of one decode step run
one after another) but correct for any model transformers runs. Weights stay as loaded (fp32):
INFERENCE_QUANT does not apply here.

Its "hidden states" are already logits: the model's own head computes them (final soft-capping
and all), so logits() passes them through."""
import copy
import logging

import torch
from transformers import DynamicCache

log = logging.getLogger(__name__)


class HFCache:
    """One sequence's DynamicCache and the ids it holds. CacheStore may shorten `ids` (a branch,
    a re-scored prompt) or copy another's prefix; the DynamicCache follows at the next forward,
    cropped where it can be, else recomputed from `ids`."""

    def __init__(self, config):
        self.config = config
        self.past: DynamicCache | None = None
        self.ids: list[int] = []
        self.capacity = 0

    @property
    def length(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        if self.past is None:
            return 0
        return sum(t.numel() * t.element_size() for layer in self.past.layers
                   for t in (getattr(layer, "keys", None), getattr(layer, "values", None))
                   if isinstance(t, torch.Tensor))

    def copy_prefix(self, other: "HFCache", tokens: int) -> None:
        self.past = copy.deepcopy(other.past) if other.past is not None else None
        self.ids = other.ids[:tokens]

    def reserve(self, tokens: int) -> None:
        self.capacity = max(self.capacity, tokens)

    def pending(self) -> list[int]:
        """Make the DynamicCache hold exactly a prefix of `ids`; return the ids it lacks (all
        of them when it has to start over)."""
        held = self.past.get_seq_length() if self.past is not None else 0
        if held > len(self.ids):
            try:
                self.past.crop(len(self.ids) - held)  # a negative count: tokens to remove
                held = self.past.get_seq_length()
            except (RuntimeError, ValueError):  # e.g. a sliding-window layer past its window
                held = -1
            if held != len(self.ids):
                self.past, held = None, 0
        if self.past is None:
            self.past, held = DynamicCache(config=self.config), 0
        return self.ids[held:]


class TransformersRunner:
    native = None  # never the C++ decode step
    quant = "none"

    def __init__(self, hf_model):
        self.model = hf_model.eval()
        self.config = hf_model.config

    def new_cache(self, capacity: int) -> HFCache:
        cache = HFCache(self.config)
        cache.reserve(capacity)
        return cache

    @torch.inference_mode()
    def forward(self, tokens: list[int], segments: list[tuple[HFCache, int]],
                all_rows: bool = False) -> torch.Tensor:
        """Append `tokens` to the caches (in segment order); logits of each segment's last row
        [len(segments), vocab], or of every new row with `all_rows`."""
        outs, row = [], 0
        for cache, count in segments:
            new = tokens[row:row + count]
            row += count
            missing = cache.pending()  # the ids the DynamicCache lacks, recomputed first
            feed = missing + new
            output = self.model(input_ids=torch.tensor([feed]), cache=cache.past, use_cache=True,
                                logits_to_keep=len(new) if all_rows else 1)  # updates cache.past
            cache.ids.extend(new)
            outs.append(output.logits[0].float())
        return torch.cat(outs)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden

    def top_logits(self, hidden: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        logits, ids = hidden.topk(k, dim=-1)
        return ids, logits
