"""'Suggest a reply': a draft of what the asker could say next, from the latest messages. Only the
asker sees it (private); sending it is up to them."""
import re

from assistant.generate import fit, lines
from assistant.plan import Plan

RECENT = 20
BUDGET_TOKENS = 1000
SYSTEM = ("You help a person take part in a group chat. Write one short message they could "
          "send next, in their voice, friendly and on topic: one or two sentences, the message "
          "only, no name in front and no quotes.")


def plan(engine, conversation: list[dict], asker_name: str, request: str) -> Plan:
    recent = fit(conversation[-RECENT:], engine, BUDGET_TOKENS)
    user = (f"The chat so far:\n{lines(recent) or '(nothing yet)'}\n\n"
            f"{asker_name} asks you: {request}\nWrite {asker_name}'s next message.")
    return Plan("suggestion", recent, SYSTEM, user, max_new_tokens=80, private=True)


def tidy(text: str, asker_name: str) -> str:
    """Drop a leading "[id]", "Name:" and the quotes the model may add around the draft."""
    text = re.sub(r"^\s*\[\d+\]\s*", "", text)
    for prefix in (f"{asker_name}:", "You:"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text.strip().strip('"\u201c\u201d ').strip()
