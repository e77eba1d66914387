"""Perplexity of the engine's forward on a text: the quality guard for quantised weights."""
import math

import torch
import torch.nn.functional as F

from inference.llama import Llama
from inference.quant import DENSE_ROWS


def perplexity(model: Llama, ids: list[int], step: int = DENSE_ROWS - 1) -> float:
    """exp(mean negative log-likelihood of each token given the ones before it), computed in
    chunks of `step` (fewer than DENSE_ROWS) tokens: the packed weights, the numbers replies are
    sampled from. step=1 feeds one token at a time, as decoding does (the C++ step if the model
    has one)."""
    cache = model.new_cache(len(ids))
    logits = torch.cat([model.logits(model.forward(ids[i:i + step], [(cache, len(ids[i:i + step]))],
                                                   all_rows=True)) for i in range(0, len(ids), step)])
    return math.exp(F.cross_entropy(logits[:-1], torch.tensor(ids[1:])).item())
