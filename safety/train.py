"""Train the classifier head: `python -m safety.train` (deterministic; writes
safety/model/head.npz).

Reads the `train` split to fit one logistic regression per category and the `dev` split to pick
the regularisation and each category's threshold. Never the `test` split: that is the
benchmark's (bench/moderation.py). Thresholds are tuned for the pipeline as shipped: a dev text
counts as flagged when the shipped rules (safety/default_rules.py) or the head flag it. Each is
the highest threshold whose dev recall reaches the category's target (0.95 for sexual_minors
and self_harm) or, for the others, the one with the best dev F1; ties go to the higher
threshold (fewer false positives on role-play)."""
import argparse
import logging
import sys

import numpy as np

from safety import dataset
from safety.classifier import HEAD_FILE, Head, prepare
from safety.taxonomy import CATEGORIES

log = logging.getLogger(__name__)

RECALL_TARGETS = {"sexual_minors": 0.95, "self_harm": 0.95}
C_GRID = (1.0, 4.0, 16.0)
BAND = 0.12
MIN_THRESHOLD, MAX_THRESHOLD = 0.2, 0.9


def train(train_examples, dev_examples, embedder, band: float = BAND,
          rules=None) -> tuple[Head, dict]:
    """A head fitted on `train_examples`, tuned on `dev_examples` together with `rules` (text ->
    the categories the rules stage flags; default the shipped lists); and its dev report."""
    from sklearn.linear_model import LogisticRegression
    from safety.rules import default_rules_matcher
    rules = rules or default_rules_matcher()
    dev_rules = [rules(e.text) for e in dev_examples]
    x_train = embedder.encode([prepare(e.text) for e in train_examples])
    x_dev = embedder.encode([prepare(e.text) for e in dev_examples])
    best = None
    for c in C_GRID:
        coef, intercept = [], []
        for category in CATEGORIES:
            y = np.array([category in e.labels for e in train_examples], dtype=int)
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000,
                                       solver="lbfgs")
            model.fit(x_train, y)
            coef.append(model.coef_[0])
            intercept.append(model.intercept_[0])
        head = Head(CATEGORIES, np.array(coef), np.array(intercept), np.zeros(len(CATEGORIES)),
                    band)
        probs = head.probabilities(x_dev)
        by_rule = {cat: np.array([cat in hit for hit in dev_rules]) for cat in CATEGORIES}
        thresholds = np.array([_threshold(probs[:, i], _truth(dev_examples, cat), cat,
                                          by_rule[cat]) for i, cat in enumerate(CATEGORIES)])
        head = Head(CATEGORIES, head.coef, head.intercept, thresholds, band)
        f1s = [_f1((probs[:, i] >= thresholds[i]) | by_rule[cat], _truth(dev_examples, cat))
               for i, cat in enumerate(CATEGORIES)]
        report = {"C": c, "dev_macro_f1": float(np.mean(f1s)),
                  **{f"dev_f1_{cat}": float(f) for cat, f in zip(CATEGORIES, f1s)}}
        log.info("C=%s dev macro F1 %.3f", c, report["dev_macro_f1"])
        if best is None or report["dev_macro_f1"] > best[1]["dev_macro_f1"]:
            best = (head, report)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m safety.train")
    parser.add_argument("--out", default=str(HEAD_FILE))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from safety.embedding import default_embedder
    train_examples = dataset.load(("train",))
    dev_examples = dataset.load(("dev",))
    head, report = train(train_examples, dev_examples, default_embedder())
    head.save(_path(args.out), C=report["C"], dev_macro_f1=report["dev_macro_f1"],
              train_size=len(train_examples), dev_size=len(dev_examples))
    for category, threshold in zip(head.categories, head.thresholds):
        print(f"{category:14s} threshold {threshold:.2f}  dev F1 {report['dev_f1_' + category]:.3f}")
    print(f"C {report['C']}  dev macro F1 {report['dev_macro_f1']:.3f}  -> {args.out}")
    return 0


def _truth(examples, category: str) -> np.ndarray:
    return np.array([category in e.labels for e in examples], dtype=bool)


def _threshold(probs: np.ndarray, truth: np.ndarray, category: str,
               by_rule: np.ndarray) -> float:
    grid = np.round(np.arange(MAX_THRESHOLD, MIN_THRESHOLD - 1e-9, -0.01), 2)
    target = RECALL_TARGETS.get(category)
    if target is not None and truth.any():
        recalls = [((probs >= t) | by_rule)[truth].mean() for t in grid]
        reachable = min(target, max(recalls))
        # from the top: the first threshold reaching the target (or the best reachable recall)
        return float(next(t for t, r in zip(grid, recalls) if r >= reachable))
    scored = [(_f1((probs >= t) | by_rule, truth), t) for t in grid]
    return float(max(scored, key=lambda s: s[0])[1])  # max keeps the first (highest) on ties


def _f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    tp = float((predicted & truth).sum())
    if tp == 0:
        return 0.0
    precision, recall = tp / predicted.sum(), tp / truth.sum()
    return 2 * precision * recall / (precision + recall)


def _path(value: str):
    from pathlib import Path
    return Path(value)


if __name__ == "__main__":
    sys.exit(main())
