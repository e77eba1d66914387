"""Prompt building: card fields, then as much recent history as fits, in the model's chat template."""
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Callable, Optional

from conversations.lorebook import LoreEntry, select_entries
from conversations.placeholders import fill_placeholders

DEFAULT_SYSTEM_PROMPT = ("You are {{char}}. Stay in character, speak only as {{char}}, and never "
                         "write {{user}}'s lines.")
_START_MARKER = re.compile(r"^\s*<START>\s*$", re.IGNORECASE | re.MULTILINE)
LORE_SHARE = 4  # lorebook entries get at most 1/LORE_SHARE of the prompt budget
SUMMARY_FRAME_TOKENS = 16  # the heading around a summary of dropped turns


@dataclass
class Prompt:
    text: str
    messages: list[dict]
    stop: list[str]
    token_count: int
    history_dropped: int = 0
    lore_entries: list[LoreEntry] = field(default_factory=list)  # what fired, for the inspector
    summary: str = ""  # of the dropped turns, when extras.summarize is given


@dataclass(frozen=True)
class PromptSection:
    name: str  # the provider's (conversations/sections.py)
    text: str


@dataclass
class PromptExtras:
    """What other domains add (relationships: level, memories, story chapter, summaries), already
    cut to each provider's budget (conversations/sections.py)."""
    sections: list[PromptSection] = field(default_factory=list)  # appended to the system prompt
    lore_allowed: Optional[Callable[[dict], bool]] = None  # lorebook entries this user may see
    summarize: Optional[Callable[[list[dict], int], str]] = None  # (dropped turns, token budget)
    summary_budget: int = 0


def build_prompt(character, history: list, user_name: str, engine, max_context: int,
                 reply_budget: int, extras: Optional[PromptExtras] = None) -> Prompt:
    """`history` is the visible chat, oldest first, ending with the turn to answer.
    Oldest turns are dropped first until the prompt plus the reply budget fits the context."""
    fill = lambda text: fill_placeholders(text, character.name, user_name)  # noqa: E731
    post = fill(character.post_history_instructions or "").strip()
    turns = [{"role": m.role, "content": m.content} for m in history if m.content.strip()]
    budget = min(max_context, engine.context_window) - reply_budget
    extras = extras or PromptExtras()
    lore = select_entries(_allowed_book(getattr(character, "character_book", None), extras.lore_allowed),
                          [t["content"] for t in turns],
                          lambda text: engine.count_tokens(fill(text)),
                          max_tokens=max(budget, 0) // LORE_SHARE)
    system = {"role": "system", "content": fill("\n\n".join(
        [system_text(character, lore), *[s.text for s in extras.sections if s.text.strip()]]))}

    def render(dropped: int, system=system) -> tuple[str, list[dict], int]:
        messages = [system, *turns[dropped:]]
        text = _render(engine, messages, post)
        return text, messages, engine.count_tokens(text)

    def fewest_drops(limit: int) -> int:
        low, high = 0, max(len(turns) - 1, 0)  # always keep the turn being answered
        while low < high:  # fewest dropped turns that fit; fitting is monotonic in drops
            middle = (low + high) // 2
            if render(middle)[2] <= limit:
                high = middle
            else:
                low = middle + 1
        return low

    low, summary = fewest_drops(budget), ""
    if low and extras.summarize and extras.summary_budget > 0:  # room for a summary of the rest
        low = fewest_drops(budget - extras.summary_budget)
        summary = extras.summarize(turns[:low], extras.summary_budget - SUMMARY_FRAME_TOKENS).strip()
        if summary:
            system = {"role": "system", "content": system["content"] + "\n\n" + fill(
                f"Earlier in this conversation (summary):\n{summary}")}
    text, messages, tokens = render(low, system)
    return Prompt(text=text, messages=messages, stop=stop_strings(user_name),
                  token_count=tokens, history_dropped=low, lore_entries=lore, summary=summary)


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


def _allowed_book(book, allowed):
    if allowed is None or not isinstance(book, dict) or not isinstance(book.get("entries"), list):
        return book
    return {**book, "entries": [e if not isinstance(e, dict) or allowed(e) else {**e, "enabled": False}
                                for e in book["entries"]]}  # disabled, so indexes stay put


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
