"""Prompt sections from other domains: an ordered list of providers, each with its own budget.

The prompt's own parts come first: the character card (never cut) and the lorebook entries
that fire (at most 1/LORE_SHARE of the prompt budget, conversations/prompt.py). Then each
registered provider adds one section in the order it was registered (relationships: level,
memories, story chapter). A section longer than its provider's budget is cut to fit, whole lines
first. A provider may also narrow the lorebook (entries locked at the user's level) and offer a
summary of turns that no longer fit; the first provider that offers one writes it.

A provider reads the database through `ctx.session`, the producer's own session, and never
opens one of its own."""
from dataclasses import dataclass
from typing import Callable, Optional, Protocol

from conversations.prompt import PromptExtras, PromptSection

LoreFilter = Callable[[dict], bool]
Summarize = Callable[[list[dict], int], str]  # (dropped turns, token budget) -> summary


@dataclass(frozen=True)
class PromptContext:
    session: object  # the sqlmodel Session of the reply being prepared
    user_id: int
    conversation_id: int
    character: object  # characters.models.Character
    history: list  # Message rows, oldest first, ending with the turn to answer
    user_name: str
    memory_tokens: Optional[int] = None  # the user's tier's memory budget (None: the setting)


@dataclass
class Contribution:
    text: str = ""
    lore_allowed: Optional[LoreFilter] = None
    summarize: Optional[Summarize] = None
    summary_budget: int = 0
    budget: Optional[int] = None  # this reply's own budget for the section (None: the provider's)


class SectionProvider(Protocol):
    name: str
    budget: int  # tokens this provider's section may take

    def contribute(self, ctx: PromptContext) -> Contribution: ...


class PromptSections:
    """The ordered providers of one app (wired by the app factory)."""

    def __init__(self, count_tokens: Callable[[str], int]):
        self.count_tokens = count_tokens
        self.providers: list[SectionProvider] = []

    def register(self, provider: SectionProvider) -> None:
        if any(p.name == provider.name for p in self.providers):
            raise ValueError(f"a prompt section named {provider.name!r} is registered already")
        self.providers.append(provider)

    def extras(self, ctx: PromptContext) -> PromptExtras:
        sections, filters, summarize, summary_budget = [], [], None, 0
        for provider in self.providers:
            part = provider.contribute(ctx)
            budget = provider.budget if part.budget is None else part.budget
            text = fit_to_budget(part.text.strip(), budget, self.count_tokens)
            if text:
                sections.append(PromptSection(provider.name, text))
            if part.lore_allowed is not None:
                filters.append(part.lore_allowed)
            if summarize is None and part.summarize is not None and part.summary_budget > 0:
                summarize, summary_budget = part.summarize, part.summary_budget
        return PromptExtras(sections=sections, lore_allowed=_all_of(filters),
                            summarize=summarize, summary_budget=summary_budget)


def fit_to_budget(text: str, budget: int, count_tokens: Callable[[str], int]) -> str:
    """`text` if it fits in `budget` tokens; otherwise its longest prefix of whole lines that
    fits, or of whole words when even the first line does not."""
    if not text or count_tokens(text) <= budget:
        return text
    lines = text.split("\n")
    kept = _longest_fitting(lines, "\n", budget, count_tokens)
    if kept:
        return kept
    return _longest_fitting(lines[0].split(" "), " ", budget, count_tokens)


def _longest_fitting(parts: list[str], joiner: str, budget: int, count_tokens) -> str:
    low, high = 0, len(parts)  # fitting is monotonic in the number of parts kept
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens(joiner.join(parts[:middle])) <= budget:
            low = middle
        else:
            high = middle - 1
    return joiner.join(parts[:low]).strip()


def _all_of(filters: list[LoreFilter]) -> Optional[LoreFilter]:
    if not filters:
        return None
    return lambda entry: all(allowed(entry) for allowed in filters)
