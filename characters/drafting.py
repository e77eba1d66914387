""""Describe your character in one line": the local model drafts the description, personality,
scenario, greeting and an example dialogue, one field at a time, each from a structured prompt
that also shows the fields drafted so far (so they agree). No Flask here.

    draft_fields(engine, line, on_token, cancelled) -> {field: text}
"""
import logging
from typing import Callable, Optional

from core.errors import KindredError
from inference.engine import FINISH_ERROR, GenerationParams

log = logging.getLogger(__name__)

MAX_LINE_CHARS = 300
# (field, label, instruction, token budget)
FIELDS = (
    ("description", "Description",
     "Write a vivid description of the character in the third person: who they are, how they "
     "look, their background. Two or three sentences. Refer to the character as {{char}}.", 120),
    ("personality", "Personality",
     "List the character's personality traits as a short comma-separated list.", 48),
    ("scenario", "Scenario",
     "Describe in one or two sentences the situation where {{user}} meets {{char}}.", 80),
    ("first_mes", "First message",
     "Write {{char}}'s first message to {{user}}, in character, with *actions in asterisks* and "
     "spoken words. Two to four sentences.", 120),
    ("mes_example", "Example dialogue",
     "Write a short example exchange: two lines starting '{{user}}:' and two starting "
     "'{{char}}:', alternating.", 140),
)
SYSTEM = ("You help people write character cards for a role-play chat app. Answer with the "
          "requested text only: no heading, no preamble, no notes.")


def clean_line(line) -> str:
    if not isinstance(line, str) or not line.strip():
        raise KindredError("empty_line", "Describe your character in one line first, e.g. "
                                         "'a grumpy lighthouse keeper who secretly writes poems'.")
    line = " ".join(line.split())
    if len(line) > MAX_LINE_CHARS:
        raise KindredError("line_too_long", f"Keep the description to one line of at most "
                                            f"{MAX_LINE_CHARS} characters.")
    return line


def field_prompt(engine, line: str, field: str, drafted: dict) -> str:
    label, instruction = next((lab, ins) for f, lab, ins, _ in FIELDS if f == field)
    context = "".join(f"{lab}: {drafted[f]}\n" for f, lab, _, _ in FIELDS if drafted.get(f))
    user = (f"Character concept: {line}\n{context}\nNow write the {label}.\n{instruction}")
    return engine.render_chat([{"role": "system", "content": SYSTEM},
                               {"role": "user", "content": user}])


def draft_fields(engine, line: str, on_token: Callable[[str, str], None],
                 cancelled: Optional[Callable[[], bool]] = None,
                 temperature: float = 0.8) -> dict:
    """Generate each field in turn, calling on_token(field, text) for every chunk streamed.
    Returns the fields drafted (trimmed). Stops early when `cancelled()` turns true."""
    line = clean_line(line)
    drafted: dict[str, str] = {}
    for field, _label, _instruction, budget in FIELDS:
        if cancelled and cancelled():
            break
        job = engine.submit(field_prompt(engine, line, field, drafted),
                            GenerationParams(max_new_tokens=budget, temperature=temperature,
                                             stop=["<|im_end|>", "<|im_start|>", "\n\n\n"]))
        parts = []
        for chunk in job:
            if cancelled and cancelled():
                engine.cancel(job)
            parts.append(chunk)
            on_token(field, chunk)
        if job.finish_reason == FINISH_ERROR:
            raise KindredError("generation_failed", "The model failed while drafting; try again.")
        drafted[field] = "".join(parts).strip()
    return drafted
