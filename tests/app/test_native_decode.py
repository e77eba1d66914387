"""The C++ decode step (inference/csrc/decode.cpp) against the Python one it replaces."""
import logging

import pytest
import torch

from inference import GenerationParams, LocalEngine, load_model
from inference import native
from inference.llama import Llama
from config import Config
from tests.support import require


@pytest.fixture(scope="module")
def decode_step():
    try:
        return native.build(Config.NATIVE_BUILD_DIR)
    except native.NativeUnavailable as exc:
        require(False, str(exc))


def _prefilled(runner: Llama, lengths: list[int], capacity: int = 64):
    caches = []
    for offset, length in enumerate(lengths):
        cache = runner.new_cache(capacity)
        runner.forward([(7 * offset + i) % 90 + 3 for i in range(length)], [(cache, length)])
        caches.append(cache)
    return caches


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal but for the order fp32 sums are taken in (the matmuls are the same torch kernels)."""
    return (a.float() - b.float()).abs().max().item() <= 1e-4 * b.float().abs().max().item()


def _runners(tiny_model_dir, quant: str, decode_step) -> tuple[Llama, Llama]:
    """(Python step, C++ step), each on its own load: a Llama may convert its model to bf16."""
    return (Llama(load_model(str(tiny_model_dir)).model, quant),
            Llama(load_model(str(tiny_model_dir)).model, quant, native=decode_step))


@pytest.mark.parametrize("quant, cache_dtype", [("int4", torch.float16), ("int8", torch.float16),
                                                ("int4", torch.float32)])
def test_batched_native_steps_match_the_python_steps(tiny_model_dir, decode_step, quant,
                                                     cache_dtype):
    python, fast = _runners(tiny_model_dir, quant, decode_step)
    python.cache_dtype = fast.cache_dtype = cache_dtype  # fp16 by default; fp32 works as well
    lengths = [5, 17, 1]  # sequences at different positions, decoded together
    ours, theirs = _prefilled(fast, lengths), _prefilled(python, lengths)
    for step in range(6):
        tokens = [11 + step, 40 + step, 77 - step]
        expected = python.forward(tokens, [(cache, 1) for cache in theirs])
        got = fast.forward(tokens, [(cache, 1) for cache in ours])
        assert got.shape == expected.shape and _close(got, expected), f"step {step}"
        assert _close(fast.logits(got), python.logits(expected))
    for mine, reference, length in zip(ours, theirs, lengths):
        assert mine.ids == reference.ids and mine.length == length + 6
        assert mine.k.dtype == cache_dtype
        written = slice(0, length + 6)
        assert _close(mine.k[:, :, written], reference.k[:, :, written])
        assert _close(mine.v[:, :, written], reference.v[:, :, written])


def test_a_wrong_rotary_table_would_be_caught(tiny_model_dir, decode_step):
    """The comparison above sees a bug in the glue: here positions off by one, in the keys."""
    python, fast = _runners(tiny_model_dir, "int4", decode_step)
    ours, theirs = _prefilled(fast, [9]), _prefilled(python, [9])
    fast.cos, fast.sin = fast.cos[1:].contiguous(), fast.sin[1:].contiguous()
    fast.forward([12], [(ours[0], 1)])
    python.forward([12], [(theirs[0], 1)])
    assert not _close(ours[0].k[:, :, 9], theirs[0].k[:, :, 9])


def test_a_cache_too_small_for_the_position_is_refused_not_overrun(tiny_model_dir, decode_step):
    fast = Llama(load_model(str(tiny_model_dir)).model, "int4", native=decode_step)
    cache, = _prefilled(fast, [8], capacity=8)
    before = cache.k.clone()
    with pytest.raises(RuntimeError, match="cannot hold position 8"):
        fast.forward([5], [(cache, 1)])
    assert torch.equal(cache.k, before)


def test_the_engine_decodes_natively_by_default_and_the_prefill_stays_in_python(inference,
                                                                              decode_step):
    assert inference.runner.native is not None
    assert inference.runner.new_cache(8).k.dtype == torch.float16  # half the memory of fp32
    prompt = inference.render_chat([{"role": "user", "content": "Hi!"}])
    job = inference.submit(prompt, GenerationParams(max_new_tokens=8, temperature=0))
    job.wait(60)
    assert job.finish_reason in ("length", "stop") and job.error is None


def test_without_a_compiler_the_engine_falls_back_to_the_python_step(tiny_model_dir, tmp_path,
                                                                     monkeypatch, caplog):
    broken = tmp_path / "decode.cpp"
    broken.write_text("this is not C++\n")
    monkeypatch.setattr(native, "SOURCE", broken)
    monkeypatch.setattr(native, "MODULE_NAME", "kindred_decode_broken")  # keeps the real build's name
    with caplog.at_level(logging.WARNING):
        engine = LocalEngine(load_model(str(tiny_model_dir)), threads=1, native=True,
                             native_build_dir=tmp_path / "build")
    try:
        assert engine.runner.native is None
        assert "could not be built" in caplog.text and "Python step" in caplog.text
        prompt = engine.render_chat([{"role": "user", "content": "Hi!"}])
        job = engine.submit(prompt, GenerationParams(max_new_tokens=6, temperature=0))
        job.wait(60)
        assert job.error is None and job.tokens_generated > 0
    finally:
        engine.close()
