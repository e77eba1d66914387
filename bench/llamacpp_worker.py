"""llama-cpp-python side of `python -m bench.inference`; runs in bench/.venv, never the app's venv.

One JSON command per stdin line, one JSON answer per stdout line:
  {"op": "load", "model": path, "threads": 2, "n_ctx": 4096}
  {"op": "generate", "prompt": text, "max_tokens": n, "cold": bool}  -> ttft, tokens, seconds
  {"op": "sequential", "prompts": [...], "max_tokens": n}            -> tokens, seconds
  {"op": "rss"}                                                       -> rss_mb
Generation is greedy through Llama.generate(), which reuses the longest cached prefix of the
previous prompt (llama-cpp-python's own prompt cache) unless "cold" resets it first.
"""
import json
import sys
import time

from llama_cpp import Llama

llm: Llama | None = None


def main() -> None:
    for line in sys.stdin:
        command = json.loads(line)
        answer = globals()[f"_{command.pop('op')}"](**command)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def _load(model: str, threads: int, n_ctx: int) -> dict:
    global llm
    started = time.perf_counter()
    llm = Llama(model_path=model, n_threads=threads, n_threads_batch=threads, n_ctx=n_ctx,
                verbose=False)
    return {"seconds": time.perf_counter() - started, "rss_mb": _rss_mb()}


def _generate(prompt: str, max_tokens: int, cold: bool) -> dict:
    tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    if cold:
        llm.reset()
    started = time.perf_counter()
    first, count = None, 0
    for _token in llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0):
        count += 1
        first = first or time.perf_counter()
        if count == max_tokens:
            break
    ended = time.perf_counter()
    return {"prompt_tokens": len(tokens), "ttft": first - started, "tokens": count,
            "decode_seconds": ended - first}


def _sequential(prompts: list[str], max_tokens: int) -> dict:
    started = time.perf_counter()
    total = sum(_generate(p, max_tokens, cold=False)["tokens"] for p in prompts)
    return {"tokens": total, "seconds": time.perf_counter() - started}


def _rss() -> dict:
    return {"rss_mb": _rss_mb()}


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kb / 1024


if __name__ == "__main__":
    main()
