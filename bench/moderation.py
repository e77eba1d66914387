"""The safety pipeline on the held-out test split of safety/data/moderation.jsonl (never used
for training or tuning): precision, recall and F1 per category, macro F1, the false-positive
rate on benign role-play, and latency per text (p50/p99) for each stage and for the whole
pipeline, with exactly the Moderator the server builds (safety.build_moderator) on a fresh
SQLite database migrated and seeded with the shipped rules.

    python -m bench.moderation [--judge] [--verbose] [--threads N] [--split dev] [--head FILE]

--split dev runs the dev split instead (for comparing heads while tuning: test stays unread
until the one final run); --head FILE uses that head instead of the shipped one;
--threads sets torch's intra-op threads for the embedder (default: torch's, one per core);
--judge also loads the chat model (MODEL_PATH) and measures the judge on the texts in the
uncertain band. The last lines are machine-readable `name: value` pairs."""
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from sqlmodel import Session  # noqa: E402

from config import Config  # noqa: E402
from core.db import make_engine  # noqa: E402
from core.migrate import upgrade_database  # noqa: E402
from safety import CATEGORIES, build_moderator, dataset, privacy  # noqa: E402
from safety.classifier import prepare  # noqa: E402
from safety.rules import seed_default_rules  # noqa: E402

TARGETS = {"recall_sexual_minors": 0.95, "recall_self_harm": 0.95, "macro_f1": 0.80,
           "benign_fpr": 0.03, "p50_ms_no_judge": 15.0}


def main(argv: list[str]) -> int:
    verbose, use_judge = "--verbose" in argv, "--judge" in argv
    if "--threads" in argv:
        import torch
        torch.set_num_threads(int(argv[argv.index("--threads") + 1]))
    settings = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    scorer = _load_scorer() if use_judge else None
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        with Session(engine) as session:
            seed_default_rules(session)
        moderator = build_moderator(engine, settings, scorer=scorer)
        if "--head" in argv:
            from safety.classifier import Classifier, Head
            moderator.classifier = Classifier(moderator.classifier.embedder,
                                              Head.load(Path(argv[argv.index("--head") + 1])),
                                              moderator.classifier.band)
        split = argv[argv.index("--split") + 1] if "--split" in argv else "test"
        examples = dataset.load((split,))
        moderator.moderate("warm-up", "chat_message")
        results, timings = [], {"rules": [], "classifier": [], "judge": [], "pipeline": [],
                                "pipeline_no_judge": []}
        for example in examples:
            start = time.perf_counter()
            decision = moderator.moderate(example.text, example.surface, {})
            elapsed = (time.perf_counter() - start) * 1000
            timings["pipeline"].append(elapsed)
            if decision.stage != "judge":
                timings["pipeline_no_judge"].append(elapsed)
            results.append((example, decision))
            _time_stages(moderator, example, timings)
        engine.dispose()
    if scorer is not None:
        scorer.close()
    return _report(results, timings, verbose, use_judge, split)


def _time_stages(moderator, example, timings) -> None:
    start = time.perf_counter()
    checked = privacy.mask(example.text).text
    moderator.rules.match(checked)
    timings["rules"].append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    scores = moderator.classifier.score(checked)
    timings["classifier"].append((time.perf_counter() - start) * 1000)
    if moderator.judge is not None and scores.uncertain:
        start = time.perf_counter()
        moderator.judge.verdicts(prepare(checked), scores.uncertain)
        timings["judge"].append((time.perf_counter() - start) * 1000)


def _report(results, timings, verbose: bool, use_judge: bool, split: str = "test") -> int:
    import torch
    print(f"Safety pipeline on the {split} split ({len(results)} texts): {platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.get_num_threads()} thread(s), judge "
          f"{'on' if use_judge else 'off'}, load average {os.getloadavg()[0]:.1f}")
    print("\n| category | precision | recall | F1 | support |\n|---|---|---|---|---|")
    values, f1s = {}, []
    for category in CATEGORIES:
        truth = [category in e.labels for e, _ in results]
        predicted = [category in d.flagged for _, d in results]
        tp = sum(t and p for t, p in zip(truth, predicted))
        precision = tp / max(sum(predicted), 1)
        recall = tp / max(sum(truth), 1)
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        f1s.append(f1)
        values[f"precision_{category}"], values[f"recall_{category}"] = precision, recall
        values[f"f1_{category}"] = f1
        print(f"| {category} | {precision:.2f} | {recall:.2f} | {f1:.2f} | {sum(truth)} |")
    values["macro_f1"] = statistics.mean(f1s)
    roleplay = [(e, d) for e, d in results if e.kind == "roleplay"]
    benign = [(e, d) for e, d in results if not e.labels]
    values["benign_fpr"] = sum(d.action != "allow" for _, d in roleplay) / max(len(roleplay), 1)
    values["benign_all_fpr"] = sum(d.action != "allow" for _, d in benign) / max(len(benign), 1)
    chat = [(e, d) for e, d in results if e.kind == "chat"]
    values["benign_chat_fpr"] = sum(d.action != "allow" for _, d in chat) / max(len(chat), 1)
    values["exact_action_ok"] = sum(_expected_ok(e, d) for e, d in results) / len(results)
    print(f"\nmacro F1 {values['macro_f1']:.3f}; benign role-play flagged (action other than "
          f"allow) {values['benign_fpr']:.1%} of {len(roleplay)}; all benign "
          f"{values['benign_all_fpr']:.1%} of {len(benign)}; everyday chat "
          f"{values['benign_chat_fpr']:.1%} of {len(chat)}")
    stages = {}
    for _, d in results:
        stages[d.stage] = stages.get(d.stage, 0) + 1
    print("decided by stage: " + ", ".join(f"{k} {v}" for k, v in sorted(stages.items())))
    print("\n| stage | p50 ms | p99 ms | texts |\n|---|---|---|---|")
    for name in ("rules", "classifier", "judge", "pipeline", "pipeline_no_judge"):
        series = timings[name]
        if not series:
            print(f"| {name} | n/a | n/a | 0 |")
            continue
        p50, p99 = _percentile(series, 50), _percentile(series, 99)
        values[f"p50_ms_{name}"], values[f"p99_ms_{name}"] = p50, p99
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {len(series)} |")
    values["p50_ms_no_judge"] = values.get("p50_ms_pipeline_no_judge", float("nan"))
    values["judge_used"] = 1.0 if use_judge else 0.0
    if verbose:
        print("\nmistakes:")
        for e, d in results:
            if set(e.labels) != set(d.flagged):
                print(f"  want {list(e.labels)} got {list(d.flagged)} ({d.action}, {d.stage}): "
                      f"{e.text}")
    print("\ntargets: " + ", ".join(
        f"{k} {'met' if _met(k, values[k]) else 'MISSED'}" for k in TARGETS))
    print()
    for name, value in values.items():
        print(f"{name}: {value:.2f}" if name.startswith(("p50", "p99")) else f"{name}: {value:.4f}")
    return 0


def _expected_ok(example, decision) -> bool:
    """Whether the action is the kind the label asks for (any non-allow for harmful texts)."""
    return (decision.action == "allow") == (not example.labels)


def _met(name: str, value: float) -> bool:
    target = TARGETS[name]
    return value <= target if name in ("benign_fpr", "p50_ms_no_judge") else value >= target


def _percentile(series, q: float) -> float:
    ordered = sorted(series)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _load_scorer():
    from app import engine_from_settings
    from inference import load_model
    return engine_from_settings(load_model(Config.MODEL_PATH, Config.MODEL_CACHE_DIR), vars(Config))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
