"""score_choices: log-probabilities of the next token after a prompt, computed by the worker."""
import math
import threading
import time

import pytest
import torch

from inference import GenerationParams
from inference.engine import PREFILL_CHUNK
from inference.quant import DENSE_ROWS

CHOICES = ["yes", "no", "maybe"]
GREEDY = GenerationParams(max_new_tokens=12, temperature=0, repetition_penalty=1.0)


def _prompt(engine, statement: str) -> str:
    return engine.render_chat([{"role": "system", "content": "Answer yes or no."},
                               {"role": "user", "content": statement}])


def _direct(engine, prompt: str, choices: list[str]) -> list[float]:
    """The same numbers computed by hand through the engine's own Llama runner."""
    ids = engine.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    firsts = [engine.tokenizer(c, add_special_tokens=False)["input_ids"][0] for c in choices]
    cache = engine.runner.new_cache(len(ids))
    with torch.inference_mode():
        logits = engine.runner.logits(engine.runner.forward(ids, [(cache, len(ids))]))[0]
    logprobs = torch.log_softmax(logits, dim=-1)
    return [logprobs[i].item() for i in firsts]


def test_scores_are_finite_log_probs_computed_on_the_worker_thread(inference, monkeypatch):
    threads, forward = [], inference.runner.forward

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return forward(*args, **kwargs)

    monkeypatch.setattr(inference.runner, "forward", spy)
    scores = inference.score_choices(_prompt(inference, "My dog is called Miso."), CHOICES)
    assert len(scores) == 3 and all(math.isfinite(s) and s < 0 for s in scores)
    assert threads == ["inference-worker"]


def test_scores_equal_a_direct_computation_through_the_same_runner(inference):
    prompt = _prompt(inference, "I work night shifts at the hospital.")
    inference.caches.forget()  # no kept prefix: one prefill of the whole prompt, as by hand
    scores = inference.score_choices(prompt, CHOICES)
    assert scores == _direct(inference, prompt, CHOICES)
    assert len(set(scores)) == 3  # three different tokens, so a mix-up would show


def test_a_prompt_sharing_a_kept_prefix_computes_only_the_rest(inference, monkeypatch):
    """...and at least DENSE_ROWS tokens, so scores come from the prefill arithmetic."""
    system = "Answer yes or no, and nothing else, to every statement that follows. " * 4
    first, second = (inference.render_chat([{"role": "system", "content": system},
                                            {"role": "user", "content": s}])
                     for s in ("I'm tired.", "I live in Lyon."))
    inference.score_choices(first, CHOICES, cache_key="judge")
    computed, forward = [], inference.runner.forward

    def spy(tokens, segments, **kwargs):
        computed.append(len(tokens))
        return forward(tokens, segments, **kwargs)

    monkeypatch.setattr(inference.runner, "forward", spy)
    warm = inference.score_choices(second, CHOICES, cache_key="judge")
    total = inference.count_tokens(second)
    assert len(computed) == 1 and DENSE_ROWS <= computed[0] < total // 2
    assert inference.caches.kept["judge"].ids == inference.tokenizer(
        second, add_special_tokens=False)["input_ids"]
    assert warm == pytest.approx(_direct(inference, second, CHOICES), abs=0.05)


def test_scoring_between_decode_steps_leaves_running_replies_unchanged(inference):
    prompt = inference.render_chat([{"role": "user", "content": "Tell me about the sea."}])
    alone = "".join(inference.submit(prompt, GREEDY))
    job = inference.submit(prompt, GREEDY)
    scores = [inference.score_choices(_prompt(inference, f"I have {n} cats."), CHOICES)
              for n in range(3)]
    assert "".join(job) == alone and job.finish_reason == "length"
    assert all(len(s) == 3 for s in scores)


def test_a_busy_worker_makes_scoring_time_out_and_still_serves_afterwards(inference, monkeypatch):
    forward = inference.runner.forward

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return forward(*args, **kwargs)

    monkeypatch.setattr(inference.runner, "forward", slow)
    with pytest.raises(TimeoutError):
        inference.score_choices(_prompt(inference, "I'm a nurse."), CHOICES, timeout=0.05)
    monkeypatch.setattr(inference.runner, "forward", forward)
    assert len(inference.score_choices(_prompt(inference, "I'm a nurse."), CHOICES,
                                       timeout=30)) == 3


def test_a_failing_forward_raises_to_the_caller_and_the_worker_keeps_serving(inference,
                                                                             monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated out-of-memory")

    monkeypatch.setattr(inference.runner, "forward", broken)
    with pytest.raises(RuntimeError, match="simulated"):
        inference.score_choices(_prompt(inference, "I'm a nurse."), CHOICES, timeout=30)
    monkeypatch.undo()
    assert len(inference.score_choices(_prompt(inference, "I'm a nurse."), CHOICES)) == 3


def test_prompts_longer_than_one_prefill_chunk_and_empty_choices_are_refused(inference):
    with pytest.raises(ValueError, match=str(PREFILL_CHUNK)):
        inference.score_choices("word " * (PREFILL_CHUNK + 10), CHOICES)
    with pytest.raises(ValueError):
        inference.score_choices("Hello", ["yes", ""])


def test_low_priority_scoring_waits_for_the_normal_requests_queued_after_it(inference,
                                                                            monkeypatch):
    """The safety judge asks at low priority: a scoring request queued later at normal priority
    (a reply's, the memory extractor's) is served first. The order is read on the worker thread
    (which prompt it computes), not from the callers' threads, whose wake-up order is the OS's."""
    from inference.scheduling import PRIORITY_LOW
    forward, busy, release, served = inference.runner.forward, threading.Event(), \
        threading.Event(), []
    statements = {"first": "I'm a nurse.", "low": "I have a cat.", "normal": "I like tea."}
    prompt_ids = {name: inference.tokenizer(_prompt(inference, text),
                                            add_special_tokens=False)["input_ids"]
                  for name, text in statements.items()}

    def held(ids, *args, **kwargs):
        # the worker computes a prompt's end only when a kept cache holds its start
        served.extend(name for name, full in prompt_ids.items() if full[-len(ids):] == list(ids))
        if not busy.is_set():  # the first request holds the worker until both others queue
            busy.set()
            release.wait(10)
        return forward(ids, *args, **kwargs)

    monkeypatch.setattr(inference.runner, "forward", held)

    def ask(name, **kwargs):
        inference.score_choices(_prompt(inference, statements[name]), CHOICES, timeout=30,
                                **kwargs)

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert busy.wait(10)
    low = threading.Thread(target=ask, args=("low",), kwargs={"priority": PRIORITY_LOW})
    low.start()
    _wait_queued(inference, 1)  # the low request is queued before the normal one
    normal = threading.Thread(target=ask, args=("normal",))
    normal.start()
    _wait_queued(inference, 2)
    release.set()
    for thread in (first, low, normal):
        thread.join(30)
    assert served == ["first", "normal", "low"]


def _wait_queued(engine, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while engine._queue.qsize() < count:
        assert time.monotonic() < deadline, f"fewer than {count} requests queued"
        time.sleep(0.01)
