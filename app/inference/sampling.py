"""Next-token sampling: repetition penalty, temperature, top-k, top-p; temperature 0 is greedy."""
import torch


def sample_next_token(logits: torch.Tensor, seen: torch.Tensor, params,
                      generator: torch.Generator | None = None) -> int:
    logits = logits.float().clone()
    if params.repetition_penalty != 1.0 and seen.numel():
        previous = logits[seen]
        logits[seen] = torch.where(previous > 0, previous / params.repetition_penalty,
                                   previous * params.repetition_penalty)
    if params.temperature <= 0:
        return int(torch.argmax(logits))
    logits /= params.temperature
    if 0 < params.top_k < logits.numel():
        kth = torch.topk(logits, params.top_k).values[-1]
        logits[logits < kth] = float("-inf")
    probs = torch.softmax(logits, dim=-1)
    if 0 < params.top_p < 1:
        sorted_probs, order = torch.sort(probs, descending=True)
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > params.top_p
        sorted_probs[outside] = 0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator))
