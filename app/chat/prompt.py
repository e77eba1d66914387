"""Prompt building: card fields, then as much recent history as fits, in the model's chat template."""
import re
from dataclasses import dataclass

from app.chat.placeholders import fill_placeholders

DEFAULT_SYSTEM_PROMPT = ("You are {{char}}. Stay in character, speak only as {{char}}, and never "
                         "write {{user}}'s lines.")
_START_MARKER = re.compile(r"^\s*<START>\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class Prompt:
    text: str
    messages: list[dict]
    stop: list[str]
    token_count: int
    history_dropped: int = 0


def build_prompt(character, history: list, user_name: str, engine, max_context: int,
                 reply_budget: int) -> Prompt:
    """`history` is the visible chat, oldest first, ending with the turn to answer.
    Oldest turns are dropped first until the prompt plus the reply budget fits the context."""
    fill = lambda text: fill_placeholders(text, character.name, user_name)  # noqa: E731
    system = {"role": "system", "content": fill(system_text(character))}
    post = fill(character.post_history_instructions or "").strip()
    turns = [{"role": m.role, "content": m.content} for m in history if m.content.strip()]
    budget = min(max_context, engine.context_window) - reply_budget

    def render(dropped: int) -> tuple[str, list[dict], int]:
        messages = [system, *turns[dropped:]]
        text = _render(engine, messages, post)
        return text, messages, engine.count_tokens(text)

    low, high = 0, max(len(turns) - 1, 0)  # always keep the turn being answered
    while low < high:  # fewest dropped turns that fit; fitting is monotonic in drops
        middle = (low + high) // 2
        if render(middle)[2] <= budget:
            high = middle
        else:
            low = middle + 1
    text, messages, tokens = render(low)
    return Prompt(text=text, messages=messages, stop=stop_strings(user_name),
                  token_count=tokens, history_dropped=low)


def system_text(character) -> str:
    sections = [character.system_prompt.strip() or DEFAULT_SYSTEM_PROMPT]
    for label, value in (("{{char}}'s description", character.description),
                         ("{{char}}'s personality", character.personality),
                         ("Scenario", character.scenario)):
        if value and value.strip():
            sections.append(f"{label}: {value.strip()}")
    if examples := _START_MARKER.sub("", character.mes_example or "").strip():
        sections.append(f"Examples of how {{{{char}}}} talks:\n{examples}")
    return "\n\n".join(sections)


def stop_strings(user_name: str) -> list[str]:
    return [f"\n{user_name}:", "\n{{user}}:", "\nUser:", "<|im_start|>", "<|im_end|>"]


def _render(engine, messages: list[dict], post_history: str) -> str:
    if not post_history:
        return engine.render_chat(messages)
    try:
        return engine.render_chat([*messages, {"role": "system", "content": post_history}])
    except Exception:  # templates that allow only one leading system message
        *earlier, last = messages
        folded = {**last, "content": f"{last['content']}\n\n({post_history})"}
        return engine.render_chat([*earlier, folded])
