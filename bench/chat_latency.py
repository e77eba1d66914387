"""Chat latency with the real model: time to first token and decode speed of Kindred's engine,
against transformers' own generate() on the same prompt in the same run (the reference)."""
import os
import platform
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from conversations.prompt import build_prompt  # noqa: E402
from inference import GenerationParams, load_model  # noqa: E402
from characters.models import Character  # noqa: E402
from characters.seed_data import SEED_CHARACTERS  # noqa: E402
from app import engine_from_settings  # noqa: E402
from config import Config  # noqa: E402

NEW_TOKENS, RUNS = 64, 3


def main() -> None:
    started = time.perf_counter()
    engine = engine_from_settings(load_model(Config.MODEL_PATH, Config.MODEL_CACHE_DIR),
                                  vars(Config))
    load_seconds = time.perf_counter() - started
    prompt = _persona_prompt(engine)
    ids = torch.tensor([engine.tokenizer(prompt, add_special_tokens=False)["input_ids"]])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, "
          f"{Config.TORCH_THREADS} threads")
    print(f"model load (cached safetensors): {load_seconds:.2f} s; prompt: {ids.shape[1]} tokens")

    ours = [_engine_run(engine, prompt) for _ in range(RUNS)]
    reference = [_generate_run(engine, ids) for _ in range(RUNS)]
    ttft = statistics.median(r[0] for r in ours)
    tps = statistics.median(r[1] for r in ours)
    ref_ttft = statistics.median(r[0] for r in reference)
    ref_tps = statistics.median(r[1] for r in reference)
    print(f"{'':28}{'ttft s':>10}{'decode tok/s':>14}")
    print(f"{'kindred engine':28}{ttft:>10.3f}{tps:>14.1f}")
    print(f"{'transformers generate()':28}{ref_ttft:>10.3f}{ref_tps:>14.1f}")
    print(f"ttft_ratio_vs_generate: {ttft / ref_ttft:.2f}x")
    print(f"decode_ratio_vs_generate: {tps / ref_tps:.2f}x")
    engine.close()


def _persona_prompt(engine) -> str:
    card = next(c for c in SEED_CHARACTERS if c["name"] == "Odessa Vane")
    character = Character(**{k: v for k, v in card.items() if k not in ("palette", "emblem")})
    turn = type("Turn", (), {})
    greeting, question = turn(), turn()
    greeting.role, greeting.content = "assistant", "Four minutes to closing, deckhand."
    question.role, question.content = "user", "Tell me about the strangest cargo you ever flew."
    return build_prompt(character, [greeting, question], "Sam", engine, 2048, NEW_TOKENS).text


def _engine_run(engine, prompt: str) -> tuple[float, float]:
    """(seconds to the first text, tokens per second after it), greedy, no stop strings."""
    params = GenerationParams(max_new_tokens=NEW_TOKENS, temperature=0, repetition_penalty=1.0)
    started = time.perf_counter()
    job = engine.submit(prompt, params)
    first = None
    for _chunk in job:
        first = first or time.perf_counter()
    ended = time.perf_counter()
    return first - started, (job.tokens_generated - 1) / (ended - first)


def _generate_run(engine, ids) -> tuple[float, float]:
    """The same measurement through model.generate(): prefill + 1 token, then the full run."""
    with torch.inference_mode():
        started = time.perf_counter()
        engine.model.generate(ids, max_new_tokens=1, do_sample=False)
        first = time.perf_counter() - started
        started = time.perf_counter()
        out = engine.model.generate(ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                    do_sample=False)
        total = time.perf_counter() - started
    produced = out.shape[1] - ids.shape[1]
    return first, (produced - 1) / (total - first)


if __name__ == "__main__":
    main()
