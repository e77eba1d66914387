"""Memory extraction judged by the local model after the cheap first-person filter."""
import logging
import time

import pytest

from core.db import session_scope
from inference import LocalEngine, load_model
from conversations.models import Conversation, Message
from core.users import User
from config import Config
from relationships import memory
from tests.support.chat import add_turn
from tests.support.events import collect_until, payloads


class FixedJudge:
    """A stand-in for the model's judgement where a test must force it: every statement gets the
    same answer. Renders prompts with the real engine's chat template; counts its calls."""

    def __init__(self, engine, answer: str):
        self.engine, self.answer, self.prompts = engine, answer, []

    def render_chat(self, messages):
        return self.engine.render_chat(messages)

    def score_choices(self, prompt, choices, cache_key=None, timeout=None):
        self.prompts.append(prompt)
        if self.answer == "fail":
            raise RuntimeError("simulated engine failure")
        return [-0.1, -3.0] if self.answer == "yes" else [-3.0, -0.1]


class RecordingEngine:
    """The real engine, recording what score_choices returned."""

    def __init__(self, engine):
        self.engine, self.scores = engine, []

    def render_chat(self, messages):
        return self.engine.render_chat(messages)

    def score_choices(self, *args, **kwargs):
        self.scores.append(self.engine.score_choices(*args, **kwargs))
        return self.scores[-1]


def test_the_cheap_filter_passes_only_first_person_statements():
    text = ("Tell me about your ship! *I sit down by the fire* Do I look tired? If I had a boat "
            "I would sail. My dog is called Miso; I'm tired. You are funny.")
    assert memory.first_person_statements(text) == ["My dog is called Miso", "I'm tired."]


def test_a_no_from_the_model_keeps_nothing_the_rules_would_have_kept(app, auth, inference):
    conversation = _conversation(app, auth)
    assert memory.extract_facts("My dog is called Miso.", "sam")  # the rules keep it
    judge = FixedJudge(inference, "no")
    stored = _remember(app, conversation, "My dog is called Miso.", judge)
    assert stored == [] and len(judge.prompts) == 1
    assert _memories(app, conversation) == []


def test_a_yes_from_the_model_keeps_the_fact_linked_to_its_message(app, auth, inference):
    conversation = _conversation(app, auth)
    judge = FixedJudge(inference, "yes")
    text = "I moved to Berlin last year. My dog is called Miso."  # the rules miss the first
    question = _remember(app, conversation, text, judge, return_message=True)
    assert "Statement: I moved to Berlin last year." in judge.prompts[0]
    assert [(m.content, m.source_message_id, m.source_conversation_id, m.source_excerpt)
            for m in _memories(app, conversation)] == [
        ("sam moved to Berlin last year", question, conversation["id"],
         "I moved to Berlin last year."),
        ("sam's dog is called Miso", question, conversation["id"], "My dog is called Miso."),
    ]


def test_the_real_engine_keeps_exactly_the_statements_it_scores_above_the_margin(inference):
    text = "I'm tired. My dog is called Miso. I work night shifts at the hospital."
    statements = memory.first_person_statements(text)
    engine = RecordingEngine(inference)
    kept = memory.extract_facts(text, "sam", engine)
    assert len(engine.scores) == len(statements) == 3
    assert [f.excerpt for f in kept] == [s for s, (yes, no) in zip(statements, engine.scores)
                                         if yes - no > memory.JUDGE_MARGIN]


def test_a_message_without_a_first_person_statement_never_calls_the_model(app, auth, inference):
    conversation = _conversation(app, auth)
    engine = RecordingEngine(inference)
    for text in ("Tell me about your ship.", "*I sit down next to you*", "Do I look tired?",
                 "If I had a boat I would sail.", "haha nice"):
        assert _remember(app, conversation, text, engine) == []
    assert engine.scores == []


@pytest.mark.parametrize("failure", ["fail", "busy"])
def test_an_engine_failure_or_timeout_falls_back_to_the_rules(app, auth, inference, caplog,
                                                             monkeypatch, failure):
    conversation = _conversation(app, auth)
    judge = FixedJudge(inference, "fail")
    if failure == "busy":  # the real engine, with a worker that cannot answer in time
        judge, forward = inference, inference.runner.forward
        monkeypatch.setattr(inference.runner, "forward",
                            lambda *a, **k: time.sleep(0.5) or forward(*a, **k))
        monkeypatch.setattr(memory, "MODEL_TIMEOUT_SECONDS", 0.1)
    with caplog.at_level(logging.WARNING, logger="relationships.memory"):
        stored = _remember(app, conversation, "My dog is called Miso. I'm tired.", judge)
    assert [m.content for m in stored] == ["sam's dog is called Miso"]
    assert "using rules" in caplog.text
    assert "Traceback" not in caplog.text


def test_after_a_reply_the_setting_chooses_model_or_rules(app, auth, inference):
    conversation = _conversation(app, auth)
    hooks = app.extensions["kindred.relationships"]
    assert hooks.scorer is inference and Config.MEMORY_EXTRACTION == "model"
    judge = FixedJudge(inference, "no")
    hooks.scorer = judge
    try:
        app.config["MEMORY_EXTRACTION"] = "rules"
        _reply(app, hooks, conversation, "My sister is called Ada.")
        assert judge.prompts == []
        app.config["MEMORY_EXTRACTION"] = "model"
        _reply(app, hooks, conversation, "My brother is called Tom.")
        assert len(judge.prompts) == 1
    finally:
        hooks.scorer = inference
    assert [m.content for m in _memories(app, conversation)] == ["sam's sister is called Ada"]


def test_the_model_judges_after_chat_done_and_the_memory_keeps_its_source(app, socket_client,
                                                                          auth, inference):
    conversation = auth.start_conversation()
    hooks = app.extensions["kindred.relationships"]
    hooks.scorer = FixedJudge(inference, "yes")
    app.config["MEMORY_EXTRACTION"] = "model"
    try:
        socket_client.emit("chat:send", {"conversation_id": conversation["id"],
                                         "content": "I teach maths at a secondary school."})
        events = collect_until(socket_client, names=("memory:added",))
    finally:
        hooks.scorer = inference
    names = [e["name"] for e in events]
    assert names.index("chat:done") < names.index("memory:added")
    message = payloads(events, "chat:message")[0]["message"]
    added = payloads(events, "memory:added")[0]["memories"]
    assert [(m["content"], m["source"]) for m in added] == [
        (f"{auth.username} teaches maths at a secondary school",
         {"message_id": message["id"], "conversation_id": conversation["id"],
          "excerpt": "I teach maths at a secondary school."})]


@pytest.mark.parametrize("statement, rewrite", [
    ("I moved to Berlin last year", "Sam moved to Berlin last year"),
    ("I've been learning Japanese", "Sam has been learning Japanese"),
    ("Honestly I really teach maths at my old school", "Honestly Sam really teaches maths at "
                                                       "their old school"),
    ("I don't drink alcohol.", "Sam doesn't drink alcohol"),
    ("My best friend Rosa lives next door", "Sam's best friend Rosa lives next door"),
    ("I'm lactose intolerant", "Sam is lactose intolerant"),
    ("My dog is called Miso.", "Sam's dog is called Miso"),  # the rules' own rewrite first
])
def test_statements_the_model_keeps_are_rewritten_in_the_third_person(statement, rewrite):
    judge = FixedJudge(_TemplateOnly(), "yes")
    assert [f.content for f in memory.extract_facts(statement, "Sam", judge)] == [rewrite]


@pytest.fixture(scope="module")
def real_engine():
    engine = LocalEngine(load_model("", Config.MODEL_CACHE_DIR), threads=Config.TORCH_THREADS,
                         native_build_dir=Config.NATIVE_BUILD_DIR)
    yield engine
    engine.close()


@pytest.mark.slow
def test_the_real_model_keeps_a_lasting_fact_and_drops_remarks_the_rules_keep(real_engine):
    """As measured by bench/memory_extraction.py. The model is not perfect: it also keeps some
    passing remarks ("I'm going to grab a coffee brb" sits near the margin), so those are not
    asserted here."""
    assert [f.content for f in memory.extract_facts("My dog is called Miso.", "Sam",
                                                    real_engine)] == ["Sam's dog is called Miso"]
    for remark in ("I have a question.", "I have no idea what you're talking about.",
                   "I love that you said that"):
        assert memory.extract_facts(remark, "Sam")  # the rules would remember it
        assert memory.extract_facts(remark, "Sam", real_engine) == []


class _TemplateOnly:
    def render_chat(self, messages):
        return "\n".join(m["content"] for m in messages)


def _conversation(app, auth):
    auth.signup(username="sam")
    return auth.start_conversation()


def _remember(app, conversation, text, scorer, return_message=False):
    question, _ = add_turn(app, conversation["id"], text, "Noted.")
    with session_scope(app.extensions["kindred.db"]) as session:
        owner = session.get(Conversation, conversation["id"]).user_id
        name = session.get(User, owner).username
        stored = memory.remember_from_message(session, None, owner, conversation["character_id"],
                                              session.get(Message, question), name, scorer)
        return question if return_message else stored


def _reply(app, hooks, conversation, text):
    _, reply = add_turn(app, conversation["id"], text, "Noted, and glad you told me.")
    hooks.after_reply(conversation["id"], reply)


def _memories(app, conversation):
    with session_scope(app.extensions["kindred.db"]) as session:
        owner = session.get(Conversation, conversation["id"]).user_id
        rows = memory.list_memories(session, owner, conversation["character_id"])
        session.expunge_all()
        return sorted(rows, key=lambda m: m.id)
