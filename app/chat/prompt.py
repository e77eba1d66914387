"""Prompt building: card fields, then as much recent history as fits, in the model's chat template."""
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.chat.lorebook import LoreEntry, select_entries
from app.chat.placeholders import fill_placeholders

DEFAULT_SYSTEM_PROMPT = ("You are {{char}}. Stay in character, speak only as {{char}}, and never "
                         "write {{user}}'s lines.")
_START_MARKER = re.compile(r"^\s*<START>\s*$", re.IGNORECASE | re.MULTILINE)
LORE_SHARE = 4  # lorebook entries get at most 1/LORE_SHARE of the prompt budget


@dataclass
class Prompt:
    text: str
    messages: list[dict]
    stop: list[str]
    token_count: int
    history_dropped: int = 0
    lore_entries: list[LoreEntry] = field(default_factory=list)  # what fired, for the inspector


def build_prompt(character, history: list, user_name: str, engine, max_context: int,
                 reply_budget: int) -> Prompt:
    """`history` is the visible chat, oldest first, ending with the turn to answer.
    Oldest turns are dropped first until the prompt plus the reply budget fits the context."""
    fill = lambda text: fill_placeholders(text, character.name, user_name)  # noqa: E731
    post = fill(character.post_history_instructions or "").strip()
    turns = [{"role": m.role, "content": m.content} for m in history if m.content.strip()]
    budget = min(max_context, engine.context_window) - reply_budget
    lore = select_entries(getattr(character, "character_book", None), [t["content"] for t in turns],
                          lambda text: engine.count_tokens(fill(text)),
                          max_tokens=max(budget, 0) // LORE_SHARE)
    system = {"role": "system", "content": fill(system_text(character, lore))}

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
                  token_count=tokens, history_dropped=low, lore_entries=lore)


def system_text(character, lore: Sequence[LoreEntry] = ()) -> str:
    """Lorebook entries go before (before_char) or after (after_char) the character definition."""
    sections = [character.system_prompt.strip() or DEFAULT_SYSTEM_PROMPT]
    sections += [e.content for e in lore if e.position == "before_char"]
    for label, value in (("{{char}}'s description", character.description),
                         ("{{char}}'s personality", character.personality),
                         ("Scenario", character.scenario)):
        if value and value.strip():
            sections.append(f"{label}: {value.strip()}")
    sections += [e.content for e in lore if e.position == "after_char"]
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
