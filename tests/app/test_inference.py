"""The inference engine and model loader, with the tiny random-weight Llama."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from inference import GenerationParams, LocalEngine, ModelLoadError, load_model
from inference.kvcache import CacheStore, KVCache
from inference.streaming import StopStringStreamer
from config import TestConfig

ROOT = Path(__file__).resolve().parents[2]
GREEDY = GenerationParams(max_new_tokens=20, temperature=0, repetition_penalty=1.0)


def _text(job) -> str:
    return "".join(job)


@pytest.fixture(scope="module")
def exact(tiny_model_dir):
    """quant none: fp32 throughout, Hugging Face's own arithmetic."""
    engine = LocalEngine(load_model(str(tiny_model_dir)), threads=1, quant="none")
    yield engine
    engine.close()


def test_greedy_stream_matches_transformers_generate(exact):
    prompt = exact.render_chat([{"role": "user", "content": "Tell me about the sea."}])
    job = exact.submit(prompt, GREEDY)
    streamed = _text(job)
    ids = torch.tensor([exact.tokenizer(prompt, add_special_tokens=False)["input_ids"]])
    with torch.inference_mode():
        reference = exact.model.generate(ids, max_new_tokens=20, do_sample=False,
                                         eos_token_id=list(exact.eos_ids))
    expected = exact.tokenizer.decode(reference[0, ids.shape[1]:], skip_special_tokens=True)
    assert streamed == expected and job.finish_reason == "length"


@pytest.mark.parametrize("engine_name", ["exact", "inference"])
def test_replies_decoded_together_match_replies_decoded_alone(engine_name, request):
    engine = request.getfixturevalue(engine_name)
    prompts = [engine.render_chat([{"role": "user", "content": text}])
               for text in ("Tell me about the sea.", "Hi!", "What is the capital of France?")]
    alone = [_text(engine.submit(p, GREEDY)) for p in prompts]
    together = [engine.submit(p, GREEDY) for p in prompts]
    assert [_text(job) for job in together] == alone


def test_a_follow_up_reuses_the_conversation_cache_and_answers_the_same(exact):
    history = [{"role": "user", "content": "Tell me about the sea."}]
    first = exact.submit(exact.render_chat(history), GREEDY, cache_key="conversation:1")
    history += [{"role": "assistant", "content": _text(first)},
                {"role": "user", "content": "And the mountains?"}]
    follow_up = exact.render_chat(history)
    warm = exact.submit(follow_up, GREEDY, cache_key="conversation:1")
    warm_text = _text(warm)
    exact.caches.forget()
    cold = exact.submit(follow_up, GREEDY)
    assert warm.reused_tokens > len(first.prompt_ids) - 2 and cold.reused_tokens == 0
    assert warm_text == _text(cold)


def test_a_new_conversation_with_the_same_character_reuses_its_system_prompt(exact):
    system = {"role": "system", "content": "You are Odessa Vane, a smuggler pilot. " * 8}
    first = exact.render_chat([system, {"role": "user", "content": "Hello there."}])
    _text(exact.submit(first, GREEDY, cache_key="conversation:3"))
    second = exact.render_chat([system, {"role": "user", "content": "Who are you?"}])
    shared = exact.submit(second, GREEDY, cache_key="conversation:4")
    shared_text = _text(shared)
    exact.caches.forget()
    alone = exact.submit(second, GREEDY, cache_key="conversation:5")
    assert shared.reused_tokens >= exact.count_tokens(system["content"]) and alone.reused_tokens == 0
    assert shared_text == _text(alone)


def test_a_branch_reuses_only_the_shared_part_of_the_conversation(exact):
    base = [{"role": "user", "content": "Tell me about the sea."}]
    _text(exact.submit(exact.render_chat(base + [{"role": "assistant", "content": "It is wet."},
                                                   {"role": "user", "content": "Why?"}]),
                       GREEDY, cache_key="conversation:2"))
    branch = exact.submit(exact.render_chat(base), GREEDY, cache_key="conversation:2")
    _text(branch)
    assert 0 < branch.reused_tokens < len(branch.prompt_ids)


def test_kept_caches_stay_within_the_budget_dropping_the_least_recently_used():
    def new_cache(capacity):
        return KVCache(layers=1, kv_heads=1, head_dim=8, capacity=capacity, dtype=torch.float32)
    one = new_cache(100).nbytes
    store = CacheStore(new_cache, budget_bytes=3 * one)
    for key in ("a", "b", "c"):
        cache, _ = store.take(key, [1, 2, 3], 100)
        cache.ids.extend([1, 2, 3])
        store.give_back(key, cache)
    _, reused = store.take("a", [1, 2, 3, 4], 100)  # back in use: "b" is now the least recent
    store.give_back("d", store.take("d", [5], 100)[0])  # a fourth conversation needs room
    assert reused == 3 and list(store.kept) == ["c", "d"] and store.in_use_bytes == one
    assert store.kept_bytes + store.in_use_bytes <= 3 * one


def test_chunks_arrive_one_token_at_a_time(inference):
    job = inference.submit("Once upon a time", GenerationParams(max_new_tokens=12, seed=1))
    chunks = list(job)
    assert len(chunks) >= 6 and job.tokens_generated == 12


@pytest.mark.parametrize("top_k", [40, 0])  # 0: no top-k, sampled from the full logits
def test_same_seed_gives_the_same_sampled_reply(inference, top_k):
    params = GenerationParams(max_new_tokens=16, temperature=0.9, top_k=top_k, seed=42)
    assert _text(inference.submit("Hi", params)) == _text(inference.submit("Hi", params))


def test_cancel_stops_within_a_token_or_two(inference):
    job = inference.submit("Go on", GenerationParams(max_new_tokens=3000, seed=3))
    chunks = iter(job)
    next(chunks)
    seen = job.tokens_generated
    inference.cancel(job)
    list(chunks)
    assert job.finish_reason == "cancelled"
    assert job.tokens_generated <= seen + 2


def test_a_job_cancelled_while_queued_never_runs(inference):
    blocker = inference.submit("Busy", GenerationParams(max_new_tokens=300, seed=4))
    queued = inference.submit("Waiting", GenerationParams(max_new_tokens=300, seed=5))
    inference.cancel(queued)
    assert _text(queued) == "" and queued.finish_reason == "cancelled"
    assert queued.tokens_generated == 0
    blocker.wait(60)


def test_queued_jobs_all_finish_in_order(inference):
    jobs = [inference.submit(f"Prompt {i}", GenerationParams(max_new_tokens=8, seed=i))
            for i in range(4)]
    finished = []
    for job in jobs:
        _text(job)
        finished.append(job.finish_reason)
    assert finished == ["length"] * 4


def test_stop_strings_cut_the_reply_before_the_users_line(inference):
    tokenizer = inference.tokenizer
    streamer = StopStringStreamer(tokenizer, ["\nAlice:"])
    shown, stopped = "", False
    for token in tokenizer("Nice to meet you.\nAlice: and me?", add_special_tokens=False)["input_ids"]:
        text, stopped = streamer.push(token)
        shown += text
        if stopped:
            break
    assert stopped and shown == "Nice to meet you."


def test_text_that_only_looks_like_a_stop_string_is_released(inference):
    tokenizer = inference.tokenizer
    streamer = StopStringStreamer(tokenizer, ["\nAlice:"])
    shown = ""
    for token in tokenizer("Hello\nAlicia is here", add_special_tokens=False)["input_ids"]:
        shown += streamer.push(token)[0]
    assert shown + streamer.flush() == "Hello\nAlicia is here"


def test_multibyte_characters_are_never_split(inference):
    tokenizer = inference.tokenizer
    streamer = StopStringStreamer(tokenizer, [])
    pieces = [streamer.push(t)[0] for t in tokenizer("café 日本語 🙂", add_special_tokens=False)["input_ids"]]
    assert all("\ufffd" not in p for p in pieces)
    assert "".join(pieces) + streamer.flush() == "café 日本語 🙂"


def test_a_failing_model_reports_the_error_and_the_worker_keeps_serving(inference, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(inference.runner, "forward", broken)
    job = inference.submit("Hi", GenerationParams(max_new_tokens=5))
    assert _text(job) == "" and job.finish_reason == "error" and "boom" in str(job.error)
    monkeypatch.undo()
    assert inference.submit("Hi", GenerationParams(max_new_tokens=5)).wait(30)


def test_missing_model_path_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(ModelLoadError) as error:
        load_model(str(tmp_path / "nowhere"))
    assert str(tmp_path / "nowhere") in str(error.value) and "MODEL_PATH" in str(error.value)


def test_broken_model_folder_is_one_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError) as error:
        load_model(str(tmp_path))
    assert str(tmp_path) in str(error.value) and "MODEL_PATH" in str(error.value)


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\0" * 10)
    with pytest.raises(ModelLoadError, match="not a .gguf"):
        load_model(str(tmp_path / "model.bin"))


def test_a_truncated_gguf_is_one_clear_error(tmp_path):
    (tmp_path / "model.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    with pytest.raises(ModelLoadError, match="Could not load"):
        load_model(str(tmp_path / "model.gguf"), cache_dir=tmp_path / "cache")


def test_server_start_with_a_missing_model_exits_with_one_clear_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "MODEL_PATH": str(tmp_path / "missing-model"),
           "KINDRED_INSTANCE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "run.py"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert "cannot start" in result.stderr and str(tmp_path / "missing-model") in result.stderr
    assert "Traceback" not in result.stderr


def test_the_tiny_model_loads_through_the_same_loader_as_the_real_one(tiny_model_dir):
    engine = LocalEngine(load_model(str(tiny_model_dir)), threads=1,
                         native_build_dir=TestConfig.NATIVE_BUILD_DIR)
    try:
        assert engine.context_window == 8192
        assert engine.render_chat([{"role": "user", "content": "x"}]).endswith(
            "<|im_start|>assistant\n")
    finally:
        engine.close()
