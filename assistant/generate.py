"""One call to the local model for the assistant: a system line and a user turn, rendered with the
model's chat template, queued at low priority (people's chat replies go first), streamed back.

    stream(engine, system, user, max_new_tokens) -> yields text pieces
    fit(messages, engine, budget) -> the newest messages whose lines fit in a token budget
    lines(messages) -> "[id] Name: text", one a line
"""
from typing import Iterator

from core.errors import KindredError
from inference.engine import FINISH_ERROR, GenerationParams
from inference.scheduling import PRIORITY_LOW

STOP = ["<|im_end|>", "<|im_start|>", "<|endoftext|>"]
MAX_LINE_CHARS = 400  # one message as the assistant reads it
ELLIPSIS = "..."


def stream(engine, system: str, user: str, max_new_tokens: int,
           temperature: float = 0.3) -> Iterator[str]:
    prompt = engine.render_chat([{"role": "system", "content": system},
                                 {"role": "user", "content": user}])
    job = engine.submit(prompt, GenerationParams(max_new_tokens=max_new_tokens,
                                                 temperature=temperature, top_p=0.9,
                                                 repetition_penalty=1.15, stop=STOP),
                        priority=PRIORITY_LOW)
    yield from job
    if job.finish_reason == FINISH_ERROR:
        raise KindredError("generation_failed", "The assistant's model failed while answering; "
                                                "ask again in a moment.", status=503)


def fit(messages: list[dict], engine, budget: int) -> list[dict]:
    """The newest of `messages` whose lines fit in `budget` tokens, oldest first."""
    kept: list[dict] = []
    used = 0
    for message in reversed(messages):
        cost = engine.count_tokens(line_of(message)) + 1
        if kept and used + cost > budget:
            break
        kept.append(message)
        used += cost
    return kept[::-1]


def lines(messages: list[dict]) -> str:
    return "\n".join(line_of(m) for m in messages)


def line_of(message: dict) -> str:
    content = " ".join(str(message.get("content") or "").split())
    if len(content) > MAX_LINE_CHARS:
        content = content[:MAX_LINE_CHARS] + "..."
    return f"[{message['id']}] {message.get('name') or 'someone'}: {content}"


def collect(pieces: Iterator[str], limit: int) -> str:
    return clip("".join(pieces), limit)


def clip(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
    if end > limit // 2:
        return cut[:end + 1].strip()
    return text[:limit - len(ELLIPSIS)].rstrip() + ELLIPSIS  # the mark counts in the limit
