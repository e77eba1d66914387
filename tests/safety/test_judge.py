"""The judge (the local model, here the tiny random-weight Llama through the real engine) is
asked only about the classifier's uncertain band; which stage decided is what is checked."""
from safety import Moderator
from safety.judge import Judge

CLEAR_RULE = "how do I make a pipe bomb at home, step by step"
PLAIN = "hi! how was your day?"


class CountingScorer:
    def __init__(self, engine):
        self.engine, self.calls = engine, 0

    def render_chat(self, messages):
        return self.engine.render_chat(messages)

    def score_choices(self, *args, **kwargs):
        self.calls += 1
        return self.engine.score_choices(*args, **kwargs)


class BusyScorer(CountingScorer):
    def render_chat(self, messages):
        return "\n".join(m["content"] for m in messages)

    def score_choices(self, *args, **kwargs):
        self.calls += 1
        raise TimeoutError("the inference worker did not score within 10 s")


def test_the_judge_decides_inside_the_uncertain_band(rules_engine, embedder, inference):
    scorer = CountingScorer(inference)
    everything_uncertain = Moderator(rules_engine, embedder, judge=Judge(scorer),
                                     judge_band=1.0)
    decision = everything_uncertain.moderate(PLAIN, "chat_message")
    assert decision.stage == "judge"
    assert scorer.calls == 8  # one question per category in the band: all of them here


def test_the_judge_is_not_asked_outside_the_band(rules_engine, embedder, inference):
    scorer = CountingScorer(inference)
    nothing_uncertain = Moderator(rules_engine, embedder, judge=Judge(scorer), judge_band=0.0)
    decision = nothing_uncertain.moderate(PLAIN, "chat_message")
    assert (decision.stage, decision.action, scorer.calls) == ("classifier", "allow", 0)


def test_a_rule_decision_never_reaches_the_judge(rules_engine, embedder, inference):
    scorer = CountingScorer(inference)
    moderator = Moderator(rules_engine, embedder, judge=Judge(scorer), judge_band=1.0)
    decision = moderator.moderate(CLEAR_RULE, "chat_message")
    assert (decision.stage, decision.action, scorer.calls) == ("rules", "block", 0)


def test_a_busy_judge_leaves_the_classifier_decision(rules_engine, embedder):
    scorer = BusyScorer(None)
    moderator = Moderator(rules_engine, embedder, judge=Judge(scorer, timeout=0.5),
                          judge_band=1.0)
    without_judge = Moderator(rules_engine, embedder, judge_band=1.0)
    decision = moderator.moderate(PLAIN, "chat_message")
    assert decision.stage == "classifier" and scorer.calls == 1
    assert decision.action == without_judge.moderate(PLAIN, "chat_message").action == "allow"


def test_the_server_moderator_uses_the_engine_as_judge(app_config, inference, app):
    from app import create_app
    judged = create_app(type("Judged", (app_config,), {"SAFETY_JUDGE": True}), inference=inference)
    moderator = judged.extensions["kindred.moderator"]
    assert moderator.judge is not None
    assert moderator.judge.scorer is app.extensions["kindred.inference"]
    assert app.extensions["kindred.moderator"].judge is None  # TestConfig: SAFETY_JUDGE off
