"""`@assistant` in a room: the entry point rooms/turns.py calls. People first, AI on call.

    respond(engine, request, messages, asker_id, last_read_id, names) ->
        {"kind": "catch_up" | "answer" | "suggestion", "text", "message_ids", "private"}
    respond_stream(...) yields the text in pieces, then that dict (its last item)

The request text decides the kind: "catch me up" (and "what did I miss", "recap", "summary")
summarises what the asker missed since `last_read_id`; "suggest a reply" (and "what should I
say", "help me reply", "draft") drafts a message only the asker sees (`private`); anything else
is a question about the room's history, answered from the messages retrieved for it, whose ids
are `message_ids` (the links). `messages` are the room's history as plain dicts (see
assistant/messages.py); generation runs on the engine at low priority."""
import re
from typing import Iterator

from assistant import catch_up, history_qa, suggest
from assistant.generate import clip, stream
from assistant.messages import conversation, person_name, strip_mention
from assistant.plan import Plan
from assistant.retrieval import embedder_or_default

KINDS = ("catch_up", "answer", "suggestion")
MAX_TEXT_CHARS = 800
SUGGESTION = re.compile(r"\bsuggest|\bdraft\b|\bwhat (?:should|could|do|can) i (?:say|reply|answer|"
                        r"write|respond)|\bhelp me (?:reply|answer|respond|write|say)|\bhow "
                        r"(?:should|do|could|can) i (?:reply|respond|answer)", re.IGNORECASE)
CATCH_UP = re.compile(r"\bcatch\s*(?:me\s*|us\s*)?up\b|\bcatchup\b|\brecap\b|\btl;?dr\b|"
                      r"\bwhat (?:did|have) i miss(?:ed)?\b|\bwhat i missed\b|"
                      r"\bsummar(?:y|ise|ize)\b|\bwhat(?:'s| is| has) (?:been )?happen",
                      re.IGNORECASE)


def kind_of(request: str) -> str:
    text = strip_mention(request)
    if SUGGESTION.search(text):
        return "suggestion"
    return "catch_up" if not text or CATCH_UP.search(text) else "answer"


def respond(engine, request: str, messages: list, asker_id: int, last_read_id: int | None,
            names: dict, embedder=None) -> dict:
    *_, result = respond_stream(engine, request, messages, asker_id, last_read_id, names,
                                embedder)
    return result


def respond_stream(engine, request: str, messages: list, asker_id: int,
                   last_read_id: int | None, names: dict, embedder=None) -> Iterator:
    """Text pieces as the model writes them, then the result dict."""
    plan = plan_for(engine, request, messages, asker_id, last_read_id, names, embedder)
    if plan.text is not None:
        yield plan.text
        yield result_of(plan, plan.text)
        return
    parts: list[str] = []
    for piece in stream(engine, plan.system, plan.user, plan.max_new_tokens, plan.temperature):
        if len("".join(parts)) >= MAX_TEXT_CHARS:
            break
        parts.append(piece)
        yield piece
    text = clip("".join(parts), MAX_TEXT_CHARS)
    if plan.kind == "suggestion":
        text = suggest.tidy(text, asker_name(names, asker_id))
    yield result_of(plan, text or "(The assistant had nothing to say; ask again.)")


def plan_for(engine, request: str, messages: list, asker_id: int, last_read_id: int | None,
             names: dict, embedder=None) -> Plan:
    names = names or {}
    readable = conversation(messages, names, asker_id)
    name = asker_name(names, asker_id)
    kind = kind_of(request)
    if kind == "catch_up":
        return catch_up.plan(engine, readable, asker_id, last_read_id, name)
    if kind == "suggestion":
        return suggest.plan(engine, readable, name, strip_mention(request))
    return history_qa.plan(embedder_or_default(embedder), strip_mention(request), readable, name)


def result_of(plan: Plan, text: str) -> dict:
    return {"kind": plan.kind, "text": text, "message_ids": plan.message_ids,
            "private": plan.private}


def asker_name(names: dict, asker_id: int) -> str:
    return person_name(names or {}, asker_id) or "the person asking"
