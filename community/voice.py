"""A character speaking in the community: one short text in its own voice, from the local model at
low priority (people's chat replies go first), with the same card prompt its chats use
(conversations.prompt) and a line saying where it is speaking. No Flask here.

    speak(engine, settings, character, turns, listener, situation) -> str   ("" if nothing came)
    start(...) -> Speech                   the same, queued now; Speech.text() waits for it
"""
import re
from dataclasses import dataclass

from assistant.generate import clip
from characters.models import Character
from conversations.prompt import PromptExtras, PromptSection, build_prompt
from conversations.replies import generation_params
from inference.engine import FINISH_ERROR
from inference.scheduling import PRIORITY_LOW

MAX_CHARS = 600  # a comment or a post of a character, not an essay


@dataclass(frozen=True)
class Turn:
    """One line of what the character answers: `user` is the other speaker, `assistant` itself."""
    role: str
    content: str


def speak(engine, settings, character: Character, turns: list[Turn], listener: str,
          situation: str, max_chars: int = MAX_CHARS) -> str:
    """What `character` says next after `turns` (the last one is what it answers), speaking to
    `listener`; `situation` tells it where it is (a comment thread, the topic of the day).
    Raises RuntimeError if the engine failed."""
    return start(engine, settings, character, turns, listener, situation, max_chars).text()


def start(engine, settings, character: Character, turns: list[Turn], listener: str,
          situation: str, max_chars: int = MAX_CHARS) -> "Speech":
    """The same, queued now and read later: several characters started together are decoded in
    one batch by the engine, instead of one after another."""
    budget = settings["COMMUNITY_MAX_NEW_TOKENS"]
    prompt = build_prompt(character, list(turns), listener, engine,
                          settings["MAX_CONTEXT_TOKENS"], budget,
                          PromptExtras(sections=[PromptSection("community", situation)]))
    params = generation_params(settings, prompt.stop)
    params.max_new_tokens = budget
    return Speech(engine.submit(prompt.text, params, priority=PRIORITY_LOW), character.name,
                  max_chars)


@dataclass
class Speech:
    job: object  # inference.engine.Job
    name: str
    max_chars: int

    def text(self) -> str:
        """The tidied text, once the engine has finished it; "" if nothing came."""
        text = "".join(self.job)
        if self.job.finish_reason == FINISH_ERROR:
            raise RuntimeError(f"the engine failed while {self.name} was speaking") \
                from self.job.error
        return tidy(text, self.name, self.max_chars)


def tidy(text: str, name: str, max_chars: int = MAX_CHARS) -> str:
    """The text without a leading "Name:" the model may echo, cut at a sentence end."""
    return clip(re.sub(rf"^\s*{re.escape(name)}\s*:\s*", "", text.strip(), flags=re.IGNORECASE),
                max_chars)
