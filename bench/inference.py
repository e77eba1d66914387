"""Kindred's inference engine against llama-cpp-python on the same GGUF, side by side in one run.

`python -m bench.inference` (after `make bench`'s chat latency). llama-cpp-python is installed into
bench/.venv on first use (it compiles llama.cpp: a few minutes) and runs in a subprocess there, so the
app's venv never gets it. Both engines answer the same prompts, greedy, with fixed reply lengths;
each measurement alternates between the two so background load hits both alike. The last lines are
machine-readable, one per target of issue 5.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import time
import uuid
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import psutil  # noqa: E402
import torch  # noqa: E402

from conversations.prompt import build_prompt  # noqa: E402
from inference import GenerationParams, LocalEngine, load_model  # noqa: E402
from inference.llama import Llama
from inference.loader import packaged_gguf_path  # noqa: E402
from inference.perplexity import perplexity  # noqa: E402
from inference.quant import dense_dtype  # noqa: E402
from characters.models import Character  # noqa: E402
from characters.seed_data import SEED_CHARACTERS  # noqa: E402
from app import engine_from_settings  # noqa: E402
from bench.llamacpp_env import LLAMA_CPP, ensure_llama_cpp  # noqa: E402
from config import Config  # noqa: E402

HERE = Path(__file__).resolve().parent
DECODE_TOKENS, REPLY_TOKENS, LONG_PROMPT_TOKENS = 128, 64, 2000
QUESTIONS = ["Tell me about the strangest cargo you ever flew.", "What do you serve here?",
             "Why did you choose this life?", "What scares you, honestly?",
             "Describe your home in three sentences.", "What happened last winter?",
             "Who taught you your trade?", "What would you do with a free day?"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inference")
    parser.add_argument("--runs", type=int, default=3, help="repeats of each measurement (median)")
    args = parser.parse_args()
    threads = Config.TORCH_THREADS
    print(_machine(threads))
    print(f"load average at start: {_load()}")
    llama = LlamaCpp(ensure_llama_cpp(), packaged_gguf_path(), threads)
    engine = engine_from_settings(load_model(Config.MODEL_PATH, Config.MODEL_CACHE_DIR),
                                  {**vars(Config), "TORCH_THREADS": threads})
    ours = Ours(engine)
    ours.generate("warm-up", 4)
    rss_ours = psutil.Process().memory_info().rss / 2**20
    print(f"kindred: INFERENCE_QUANT={engine.quant}, KV_CACHE_MB={engine.kv_cache_bytes >> 20}, "
          f"batch up to {engine.max_batch}; llama.cpp: {LLAMA_CPP}, n_threads={threads}")
    work = Workload(engine)
    print(f"prompts: short {work.tokens(work.short)} tokens, long {work.tokens(work.long)}, "
          f"follow-up {work.tokens(work.followup)}; llama.cpp counts "
          f"{llama.generate(work.short, 1, cold=True)['prompt_tokens']} for the short one")

    rows = {}
    both = (ours, llama)
    rows["decode"] = _median(args.runs, both, lambda e: _tps(e.generate(work.short, DECODE_TOKENS,
                                                                         cold=True)))
    rows["ttft_short"] = _median(args.runs, both, lambda e: e.generate(work.short, 1,
                                                                       cold=True)["ttft"])
    rows["ttft_long"] = _median(max(2, args.runs - 1), both,
                                lambda e: e.generate(work.long, 1, cold=True)["ttft"])
    rows["ttft_followup"] = _median(args.runs, both, lambda e: e.followup(work, 32))
    rows["ttft_turns"] = _median(1, both, lambda e: e.taking_turns(work, 32))
    for chats in (1, 4, 8):
        rows[f"aggregate{chats}"] = _median(max(2, args.runs - 1), both,
                                            lambda e: e.aggregate(work.chats[:chats], REPLY_TOKENS))
    rss_llama = llama.call(op="rss")["rss_mb"]
    rss_end = psutil.Process().memory_info().rss / 2**20
    ppl, ppl_ref = _perplexities(engine)
    print(f"load average at end: {_load()}")
    _report(rows, rss_ours, rss_end, rss_llama, ppl, ppl_ref, engine.quant)
    engine.close()
    llama.close()


class Ours:
    name = "kindred"

    def __init__(self, engine: LocalEngine):
        self.engine = engine
        engine.eos_ids = set()  # fixed-length replies, as llama.cpp's generate() gives

    def generate(self, prompt: str, max_tokens: int, cold: bool = True, key: str | None = None):
        if cold:
            self.engine.caches.forget()  # no conversation's cache to reuse any prefix from
        params = GenerationParams(max_new_tokens=max_tokens, temperature=0, repetition_penalty=1.0)
        started = time.perf_counter()
        job = self.engine.submit(prompt, params, cache_key=key or uuid.uuid4().hex)
        first = None
        for _chunk in job:
            first = first or time.perf_counter()
        return {"ttft": first - started, "tokens": job.tokens_generated,
                "decode_seconds": time.perf_counter() - first}

    def followup(self, work: "Workload", max_tokens: int) -> float:
        key = uuid.uuid4().hex
        self.generate(work.long, max_tokens, key=key)
        return self.generate(work.followup, max_tokens, cold=False, key=key)["ttft"]

    def taking_turns(self, work: "Workload", max_tokens: int) -> float:
        keys = [uuid.uuid4().hex for _ in work.conversations]
        self.engine.caches.forget()
        for key, (first, _) in zip(keys, work.conversations):
            self.generate(first, max_tokens, cold=False, key=key)
        return statistics.median(self.generate(followup, max_tokens, cold=False, key=key)["ttft"]
                                 for key, (_, followup) in zip(keys, work.conversations))

    def aggregate(self, prompts: list[str], max_tokens: int) -> float:
        """All chats at once, as the server gets them: tokens per second of wall time."""
        params = GenerationParams(max_new_tokens=max_tokens, temperature=0, repetition_penalty=1.0)
        self.engine.caches.forget()  # new conversations: only what they share with each other
        started = time.perf_counter()
        jobs = [self.engine.submit(p, params, cache_key=uuid.uuid4().hex) for p in prompts]
        for job in jobs:
            job.wait()
        return sum(j.tokens_generated for j in jobs) / (time.perf_counter() - started)


class LlamaCpp:
    name = "llama.cpp"

    def __init__(self, python: Path, gguf: Path, threads: int):
        self.process = subprocess.Popen([str(python), str(HERE / "llamacpp_worker.py")],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.load = self.call(op="load", model=str(gguf), threads=threads, n_ctx=4096)

    def call(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def generate(self, prompt: str, max_tokens: int, cold: bool = True) -> dict:
        return self.call(op="generate", prompt=prompt, max_tokens=max_tokens, cold=cold)

    def followup(self, work: "Workload", max_tokens: int) -> float:
        self.generate(work.long, max_tokens, cold=True)
        return self.generate(work.followup, max_tokens, cold=False)["ttft"]

    def taking_turns(self, work: "Workload", max_tokens: int) -> float:
        for first, _ in work.conversations:
            self.generate(first, max_tokens, cold=False)
        return statistics.median(self.generate(followup, max_tokens, cold=False)["ttft"]
                                 for _, followup in work.conversations)

    def aggregate(self, prompts: list[str], max_tokens: int) -> float:
        """The same chats one after another (llama-cpp-python serves one at a time)."""
        result = self.call(op="sequential", prompts=prompts, max_tokens=max_tokens)
        return result["tokens"] / result["seconds"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


class Workload:
    """Chat prompts as the app builds them: seed personas, a short exchange, a long conversation."""

    def __init__(self, engine: LocalEngine):
        self.engine = engine
        self.chats = [self._prompt(SEED_CHARACTERS[i % len(SEED_CHARACTERS)],
                                   [("assistant", "Evening. What can I do for you?"),
                                    ("user", QUESTIONS[i])]) for i in range(8)]
        self.short = self.chats[0]
        history = [("assistant", "Four minutes to closing, deckhand.")]
        story = (HERE / "perplexity.txt").read_text().split("\n\n")
        while True:
            history += [("user", f"Go on. {QUESTIONS[len(history) % len(QUESTIONS)]}"),
                        ("assistant", story[len(history) % len(story)])]
            self.long = self._prompt(SEED_CHARACTERS[0], history + [("user", QUESTIONS[1])])
            if self.tokens(self.long) >= LONG_PROMPT_TOKENS:
                break
        # (long prompt, its follow-up turn) for three conversations with different characters
        self.conversations = [
            (self._prompt(card, history + [("user", QUESTIONS[1])]),
             self._prompt(card, history + [
                 ("user", QUESTIONS[1]), ("assistant", "Whatever's in the kettle. Sit."),
                 ("user", "Then pour me a cup and tell me about the last storm.")]))
            for card in SEED_CHARACTERS[:3]]
        self.followup = self.conversations[0][1]

    def tokens(self, prompt: str) -> int:
        return self.engine.count_tokens(prompt)

    def _prompt(self, card: dict, turns: list[tuple[str, str]]) -> str:
        character = Character(**{k: v for k, v in card.items() if k not in ("palette", "emblem")})
        history = [type("Turn", (), {"role": role, "content": text}) for role, text in turns]
        return build_prompt(character, history, "Sam", self.engine, 8192, REPLY_TOKENS).text


def _median(runs: int, engines, measure) -> dict[str, float]:
    """Alternate the engines run by run; the median of each."""
    values = {e.name: [] for e in engines}
    for _ in range(runs):
        for engine in engines:
            values[engine.name].append(measure(engine))
    return {name: statistics.median(v) for name, v in values.items()}


def _tps(result: dict) -> float:
    return (result["tokens"] - 1) / result["decode_seconds"]


def _perplexities(engine: LocalEngine) -> tuple[float, float]:
    """(the engine's, fp32's): on the packed weights replies are sampled from; the reference from
    a fresh load, since quantised engines keep their model in bf16."""
    ids = engine.tokenizer((HERE / "perplexity.txt").read_text(), add_special_tokens=False)
    ids = ids["input_ids"]
    fp32 = load_model(Config.MODEL_PATH, Config.MODEL_CACHE_DIR).model
    return perplexity(engine.runner, ids), perplexity(Llama(fp32, "none"), ids)


def _report(rows, rss_ours, rss_end, rss_llama, ppl, ppl_ref, quant) -> None:
    lines = [("decode tok/s, one chat", "decode", "{:.1f}"),
             ("time to first token, short prompt, cold (s)", "ttft_short", "{:.3f}"),
             (f"time to first token, ~{LONG_PROMPT_TOKENS} tokens, cold (s)", "ttft_long", "{:.2f}"),
             (f"time to first token, ~{LONG_PROMPT_TOKENS} tokens, follow-up (s)", "ttft_followup",
              "{:.3f}"),
             ("time to first token, follow-up, 3 long conversations taking turns (s)",
              "ttft_turns", "{:.3f}"),
             ("aggregate tok/s, 1 chat", "aggregate1", "{:.1f}"),
             ("aggregate tok/s, 4 chats (llama.cpp: in turn)", "aggregate4", "{:.1f}"),
             ("aggregate tok/s, 8 chats (llama.cpp: in turn)", "aggregate8", "{:.1f}")]
    print(f"\n| measurement | kindred ({quant}) | llama.cpp | ratio |\n|---|---:|---:|---:|")
    for label, key, fmt in lines:
        ours, theirs = rows[key]["kindred"], rows[key]["llama.cpp"]
        print(f"| {label} | {fmt.format(ours)} | {fmt.format(theirs)} | {ours / theirs:.2f}x |")
    print(f"| resident memory after load (MB) | {rss_ours:.0f} | {rss_llama:.0f} | "
          f"{rss_ours / rss_llama:.2f}x |")
    print(f"| resident memory at the end, warm caches kept (MB) | {rss_end:.0f} | | |")
    print(f"| perplexity on bench/perplexity.txt (fp32 reference {ppl_ref:.3f}) | {ppl:.3f} | | |")
    print()
    ratio = lambda key: rows[key]["kindred"] / rows[key]["llama.cpp"]  # noqa: E731
    print(f"decode_ratio_vs_llamacpp: {ratio('decode'):.2f}x")
    print(f"aggregate8_ratio_vs_llamacpp: {ratio('aggregate8'):.2f}x")
    print(f"followup_ttft_ratio_vs_llamacpp: {ratio('ttft_followup'):.2f}x")
    print(f"cold_ttft_ratio_vs_llamacpp: {ratio('ttft_long'):.2f}x")
    print(f"perplexity_delta: {(ppl / ppl_ref - 1) * 100:+.1f}%")
    print(f"rss_mb: {rss_ours:.0f}")


def _machine(threads: int) -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                  .splitlines() if line.startswith("model name")), platform.processor())
    return (f"machine: {model}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} "
            f"GiB, {platform.machine()} ({torch.backends.cpu.get_cpu_capability()}, native bf16: "
            f"{dense_dtype('int4') == torch.bfloat16}); torch {torch.__version__}, {threads} threads")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
