"""Next-token sampling: repetition penalty, temperature, top-k, top-p; temperature 0 is greedy."""
import torch

CANDIDATES = 128  # tokens scored exactly when sampling needs no more (see candidates_suffice)


def candidates_suffice(params) -> bool:
    """Whether the top CANDIDATES tokens hold every token these params could pick."""
    return params.temperature <= 0 or 0 < params.top_k <= CANDIDATES


def sample_next_token(logits: torch.Tensor, seen: torch.Tensor, params,
                      generator: torch.Generator | None = None,
                      ids: torch.Tensor | None = None) -> int:
    """`logits` over the whole vocabulary, or over the tokens `ids` only (the best candidates)."""
    logits = logits.float()
    if params.repetition_penalty != 1.0 and seen.numel():
        logits = logits.clone()
        hit = seen if ids is None else torch.isin(ids, seen)
        previous = logits[hit]
        logits[hit] = torch.where(previous > 0, previous / params.repetition_penalty,
                                  previous * params.repetition_penalty)
    if params.temperature <= 0:
        choice = torch.argmax(logits)
    else:
        choice = _draw(logits / params.temperature, params, generator)
    return int(choice if ids is None else ids[choice])


def _draw(logits: torch.Tensor, params, generator: torch.Generator | None) -> torch.Tensor:
    if 0 < params.top_k < logits.numel():  # only the top k can be drawn: sort just those
        values, candidates = torch.topk(logits, params.top_k)
    else:
        values, candidates = torch.sort(logits, descending=True)
    probs = torch.softmax(values, dim=-1)
    if 0 < params.top_p < 1:
        outside = torch.cumsum(probs, dim=-1) - probs > params.top_p
        probs[outside] = 0
    return candidates[torch.multinomial(probs, 1, generator=generator)[0]]
