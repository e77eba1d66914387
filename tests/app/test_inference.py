"""The inference engine and model loader, with the tiny random-weight Llama."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from app.inference import GenerationParams, LocalEngine, ModelLoadError, load_model
from app.inference.streaming import StopStringStreamer

ROOT = Path(__file__).resolve().parents[2]


def _text(job) -> str:
    return "".join(job)


def test_greedy_stream_matches_transformers_generate(inference):
    prompt = inference.render_chat([{"role": "user", "content": "Tell me about the sea."}])
    job = inference.submit(prompt, GenerationParams(max_new_tokens=20, temperature=0,
                                                    repetition_penalty=1.0))
    streamed = _text(job)
    ids = torch.tensor([inference.tokenizer(prompt, add_special_tokens=False)["input_ids"]])
    with torch.inference_mode():
        reference = inference.model.generate(ids, max_new_tokens=20, do_sample=False,
                                             eos_token_id=list(inference.eos_ids))
    expected = inference.tokenizer.decode(reference[0, ids.shape[1]:], skip_special_tokens=True)
    assert streamed == expected and job.finish_reason == "length"


def test_chunks_arrive_one_token_at_a_time(inference):
    job = inference.submit("Once upon a time", GenerationParams(max_new_tokens=12, seed=1))
    chunks = list(job)
    assert len(chunks) >= 6 and job.tokens_generated == 12


def test_same_seed_gives_the_same_sampled_reply(inference):
    params = GenerationParams(max_new_tokens=16, temperature=0.9, seed=42)
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
    monkeypatch.setattr(inference.model, "forward", broken)
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
    engine = LocalEngine(load_model(str(tiny_model_dir)), threads=1)
    try:
        assert engine.context_window == 8192
        assert engine.render_chat([{"role": "user", "content": "x"}]).endswith(
            "<|im_start|>assistant\n")
    finally:
        engine.close()
