"""Memory extraction, rules only vs model-assisted, on hand-labelled chat messages
(bench/memory_cases.json) with the real SmolLM2-135M-Instruct.

A memory counts as correct when it contains every keyword of one of the message's labelled facts
(each fact counts once); any other memory is a false positive, any fact left unmatched a false
negative. Printed: precision, recall and F1 for every split (the prompt and JUDGE_MARGIN were tuned
on 'dev' only) of rules only, model-assisted (the model judges every first-person statement) and,
for comparison, rules whose facts the model may veto; the model's time per candidate statement;
and, for the facts the model kept, how often the model's own third-person rewrite passes the
grounding guard and keeps the fact (the stored text is the rule rewrite). With --verbose: every
message rules or the model got wrong, and every failed model rewrite.

    python -m bench.memory_extraction [--verbose]
"""
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402

from inference import GenerationParams, load_model  # noqa: E402
from app import engine_from_settings  # noqa: E402
from config import Config  # noqa: E402
from relationships import memory  # noqa: E402

CASES = Path(__file__).with_name("memory_cases.json")
USER = "Sam"


def main() -> None:
    verbose = "--verbose" in sys.argv
    cases = json.loads(CASES.read_text())["cases"]
    started = time.perf_counter()
    engine = engine_from_settings(load_model(Config.MODEL_PATH, Config.MODEL_CACHE_DIR),
                                  vars(Config))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, "
          f"{Config.TORCH_THREADS} threads, quant {engine.quant}, load average "
          f"{os.getloadavg()[0]:.1f}; model load {time.perf_counter() - started:.1f} s; "
          f"{len(cases)} messages ({sum(c['split'] == 'dev' for c in cases)} dev, "
          f"{sum(c['split'] == 'test' for c in cases)} test)")
    timed = _TimedScorer(engine)
    memory.judge_statements(timed, ["I'm warming up the cache."])  # the few-shot prefix, once
    cold = timed.seconds.pop()

    rules, model, vetoed, seconds = {}, {}, {}, []
    for index, case in enumerate(cases):
        rules[index] = memory.extract_facts(case["text"], USER)
        before = time.perf_counter()
        model[index] = memory.extract_facts(case["text"], USER, timed)
        seconds.append(time.perf_counter() - before)
        kept = {f.excerpt for f in model[index]}
        vetoed[index] = [f for f in rules[index] if f.excerpt in kept]
    kept_facts = [(f.excerpt, keys) for i, case in enumerate(cases)
                  for f, keys in _matches(case["facts"], model[i])]
    rewrites = [_model_rewrite(engine, excerpt, keys) for excerpt, keys in kept_facts]
    engine.close()

    statements = [memory.first_person_statements(c["text"]) for c in cases]
    print(f"\ncandidate statements after the cheap filter: {sum(map(len, statements))} in "
          f"{len(cases)} messages; {sum(not s for s in statements)} messages had none (no model "
          f"call)")
    print(f"model time per candidate: median {statistics.median(timed.seconds) * 1000:.0f} ms, "
          f"mean {statistics.mean(timed.seconds) * 1000:.0f} ms, "
          f"p90 {_quantile(timed.seconds, 0.9) * 1000:.0f} ms over {len(timed.seconds)} "
          f"(the first, computing the {timed.prefix_tokens}-token few-shot prefix: "
          f"{cold * 1000:.0f} ms); per message: mean {statistics.mean(seconds) * 1000:.0f} ms")
    print(f"judge margin: log P(yes) - log P(no) > {memory.JUDGE_MARGIN}\n")
    print(f"{'split':6} {'path':18} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>10} "
          f"{'recall':>7} {'F1':>6}")
    for split in ("all", "dev", "test"):
        chosen = [i for i, c in enumerate(cases) if split == "all" or c["split"] == split]
        for name, found in (("rules", rules), ("model-assisted", model),
                            ("rules + model veto", vetoed)):
            tp, fp, fn = _totals(cases, found, chosen)
            precision, recall, f1 = _prf(tp, fp, fn)
            print(f"{split:6} {name:18} {tp:>4} {fp:>4} {fn:>4} {precision:>10.3f} "
                  f"{recall:>7.3f} {f1:>6.3f}")

    margin, f1 = _best_dev_margin(cases, timed)
    print(f"best margin on dev (for re-tuning JUDGE_MARGIN when the model or its arithmetic "
          f"changes): > {margin:+.3f}, dev F1 {f1:.3f}")

    grounded = sum(r["grounded"] for r in rewrites)
    faithful = sum(r["grounded"] and r["keeps_fact"] for r in rewrites)
    print(f"\nrewrite of the {len(rewrites)} facts the model kept (greedy, few-shot): the model's "
          f"own rewrite passes the grounding guard {grounded}/{len(rewrites)}, passes it and keeps "
          f"the fact's keywords {faithful}/{len(rewrites)}; the rule rewrite keeps them "
          f"{len(rewrites)}/{len(rewrites)}; model rewrite time: median "
          f"{statistics.median(r['seconds'] for r in rewrites) * 1000:.0f} ms")
    if verbose:
        print("\nmessages rules or the model got wrong (expected keywords | rules | model):")
        for index, case in enumerate(cases):
            wrong = [_score(case["facts"], _contents(found[index])) for found in (rules, model)]
            if any(fp or fn for _, fp, fn in wrong):
                print(f"- {case['text']!r} {case['facts']}\n"
                      f"    rules: {_contents(rules[index])}\n"
                      f"    model: {_contents(model[index])}")
        print("\nmodel rewrites that failed the guard or lost the fact:")
        for (excerpt, _), rewrite in zip(kept_facts, rewrites):
            if not (rewrite["grounded"] and rewrite["keeps_fact"]):
                print(f"- {excerpt!r} -> {rewrite['text']!r}")


def _best_dev_margin(cases, timed) -> tuple[float, float]:
    """The margin with the best F1 on the dev split, from the margins already computed."""
    dev = [(case, [(s, timed.margins[memory.judge_prompt(timed, s)])
                   for s in memory.first_person_statements(case["text"])])
           for case in cases if case["split"] == "dev"]
    best = (memory.JUDGE_MARGIN, -1.0)
    for margin in sorted({m - 1e-6 for _, scored in dev for _, m in scored}):
        found = [memory._distinct(memory._rewrite(s, USER) for s, m in scored if m > margin)
                 for _, scored in dev]
        tp, fp, fn = (sum(_score(case["facts"], _contents(f))[k] for (case, _), f in
                          zip(dev, found)) for k in range(3))
        if (f1 := _prf(tp, fp, fn)[2]) > best[1]:
            best = (margin, f1)
    return best


REWRITE_SYSTEM = ("Rewrite the user's statement about themselves in the third person, with the "
                  "name {name}. Keep every detail and add nothing.")
REWRITE_EXAMPLES = [("My brother is called Leo.", "{name}'s brother is called Leo."),
                    ("I work as a plumber in Leeds.", "{name} works as a plumber in Leeds."),
                    ("I have two cats and a parrot.", "{name} has two cats and a parrot.")]
FUNCTION_WORDS = {"a", "an", "the", "is", "are", "was", "were", "has", "have", "had", "does",
                  "do", "did", "not", "doesn't", "isn't", "hasn't", "they", "them", "their",
                  "theirs", "themselves", "he", "she", "his", "her", "him", "it", "its", "of",
                  "to", "in", "on", "at", "for", "and", "with", "by", "as", "from", "who",
                  "that", "s", "be", "been", "would", "will"}


def _model_rewrite(engine, statement: str, keys: list[str]) -> dict:
    """The model's own third-person rewrite (greedy) and whether it passes the grounding guard:
    every content word of it appears in the statement or is the user's name or a pronoun."""
    messages = [{"role": "system", "content": REWRITE_SYSTEM.format(name=USER)}]
    for source, target in REWRITE_EXAMPLES:
        messages += [{"role": "user", "content": source},
                     {"role": "assistant", "content": target.format(name=USER)}]
    messages.append({"role": "user", "content": statement})
    started = time.perf_counter()
    job = engine.submit(engine.render_chat(messages),
                        GenerationParams(max_new_tokens=40, temperature=0, repetition_penalty=1.0,
                                         stop=["\n"]), cache_key="memory:rewrite")
    text = "".join(job).strip()
    seconds = time.perf_counter() - started
    source = {_stem(w) for w in _words(statement)}
    extra = [w for w in _words(text) if w not in FUNCTION_WORDS and w != USER.lower()
             and _stem(w) not in source]
    return {"text": text, "seconds": seconds, "grounded": bool(text) and not extra,
            "keeps_fact": all(k.lower() in text.lower() for k in keys)}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("'s ", " "))


def _stem(word: str) -> str:
    """lives -> live, studies -> study, teaches -> teach: a verb across persons."""
    word = word.removesuffix("'s")
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


class _TimedScorer:
    """The engine, timing each score_choices call (one candidate statement each)."""

    def __init__(self, engine):
        self.engine, self.seconds, self.prefix_tokens = engine, [], 0
        self.margins: dict[str, float] = {}  # prompt -> log P(yes) - log P(no)

    def render_chat(self, messages):
        if not self.prefix_tokens:
            self.prefix_tokens = self.engine.count_tokens(self.engine.render_chat(messages[:-1]))
        return self.engine.render_chat(messages)

    def score_choices(self, prompt, choices, cache_key=None, timeout=None):
        started = time.perf_counter()
        scores = self.engine.score_choices(prompt, choices, cache_key, timeout=None)
        self.seconds.append(time.perf_counter() - started)
        self.margins[prompt] = scores[0] - scores[1]
        return scores


def _totals(cases, found, indices) -> tuple[int, int, int]:
    scored = [_score(cases[i]["facts"], _contents(found[i])) for i in indices]
    return tuple(sum(s[k] for s in scored) for k in range(3))


def _contents(facts) -> list[str]:
    return [f.content for f in facts]


def _matches(facts: list[list[str]], found) -> list[tuple]:
    """(fact found, the labelled keywords it matches) for each true positive."""
    unmatched, pairs = list(facts), []
    for fact in found:
        keys = next((k for k in unmatched if all(w.lower() in fact.content.lower() for w in k)),
                    None)
        if keys is not None:
            unmatched.remove(keys)
            pairs.append((fact, keys))
    return pairs


def _score(facts: list[list[str]], contents: list[str]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of one message."""
    unmatched = list(facts)
    tp = fp = 0
    for content in contents:
        match = next((f for f in unmatched if all(k.lower() in content.lower() for k in f)), None)
        if match is None:
            fp += 1
        else:
            unmatched.remove(match)
            tp += 1
    return tp, fp, len(unmatched)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


if __name__ == "__main__":
    main()
