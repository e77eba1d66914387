"""Train the classifier head: `python -m safety.train` (deterministic; writes
safety/model/head.npz).

Reads the `train` split to fit, per category, a logistic regression on the MiniLM embedding and
one on hashed character n-grams (safety.classifier.lexical_features), and the `dev` split to
pick everything else: the two regularisations (C of each model, from C_GRID and
LEXICAL_C_GRID), per category the weight of the embedding logit in the average of the two
logits (from WEIGHTS; 1.0 is the embedding alone), and each category's threshold. Never the
`test` split: that is the benchmark's (bench/moderation.py). Thresholds are tuned for the
pipeline as shipped: a dev text counts as flagged when the shipped rules
(safety/default_rules.py) or the head flag it. Each is the highest threshold whose dev recall
reaches the category's target (0.95 for sexual_minors and self_harm) or, for the others, the
one with the best dev F1; ties go to the higher threshold (fewer false positives on role-play).
A category's weight is the one with the best dev precision at that recall (sexual_minors,
self_harm) or the best dev F1 (the others); ties go to the higher weight. The pair of Cs is the
one with the best dev macro F1 (ties: the first)."""
import argparse
import logging
import sys

import numpy as np

from safety import dataset
from safety.classifier import HEAD_FILE, Head, Lexical, lexical_features, prepare
from safety.taxonomy import CATEGORIES

log = logging.getLogger(__name__)

RECALL_TARGETS = {"sexual_minors": 0.95, "self_harm": 0.95}
C_GRID = (1.0, 4.0, 16.0)
LEXICAL_C_GRID = (4.0, 16.0, 64.0)
WEIGHTS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
BAND = 0.12
MIN_THRESHOLD, MAX_THRESHOLD = 0.2, 0.9


def train(train_examples, dev_examples, embedder, band: float = BAND,
          rules=None) -> tuple[Head, dict]:
    """A head fitted on `train_examples`, tuned on `dev_examples` together with `rules` (text ->
    the categories the rules stage flags; default the shipped lists); and its dev report."""
    from safety.rules import default_rules_matcher
    rules = rules or default_rules_matcher()
    dev_rules = [rules(e.text) for e in dev_examples]
    by_rule = np.array([[cat in hit for cat in CATEGORIES] for hit in dev_rules], dtype=bool)
    truth = np.array([[cat in e.labels for cat in CATEGORIES] for e in dev_examples], dtype=bool)
    train_texts = [prepare(e.text) for e in train_examples]
    dev_texts = [prepare(e.text) for e in dev_examples]
    x_train, x_dev = embedder.encode(train_texts), embedder.encode(dev_texts)
    l_train, l_dev = lexical_features(train_texts).tocsr(), lexical_features(dev_texts).tocsr()
    embedding = {c: _fit(x_train, x_dev, train_examples, c) for c in C_GRID}
    lexical = {c: _fit(l_train, l_dev, train_examples, c) for c in LEXICAL_C_GRID}
    best = None
    for c in C_GRID:
        coef, intercept, z_emb = embedding[c]
        for lc in LEXICAL_C_GRID:
            lex_coef, lex_intercept, z_lex = lexical[lc]
            weights, thresholds = np.zeros(len(CATEGORIES)), np.zeros(len(CATEGORIES))
            for i, cat in enumerate(CATEGORIES):
                options = []
                for w in WEIGHTS:
                    probs = _sigmoid(w * z_emb[:, i] + (1 - w) * z_lex[:, i])
                    t = _threshold(probs, truth[:, i], cat, by_rule[:, i])
                    options.append((_merit(probs >= t, truth[:, i], cat, by_rule[:, i]), w, t))
                _, weights[i], thresholds[i] = max(options)  # ties: the higher weight
            probs = _sigmoid(weights * z_emb + (1 - weights) * z_lex)
            flagged = (probs >= thresholds) | by_rule
            f1s = [_f1(flagged[:, i], truth[:, i]) for i in range(len(CATEGORIES))]
            report = {"C": c, "lexical_C": lc, "dev_macro_f1": float(np.mean(f1s)),
                      **{f"dev_f1_{cat}": float(f) for cat, f in zip(CATEGORIES, f1s)},
                      **{f"weight_{cat}": float(w) for cat, w in zip(CATEGORIES, weights)},
                      **_benign_report(flagged, dev_examples, truth)}
            log.info("C=%s lexical C=%s dev macro F1 %.3f", c, lc, report["dev_macro_f1"])
            if best is None or report["dev_macro_f1"] > best[1]["dev_macro_f1"]:
                head = Head(CATEGORIES, coef, intercept, thresholds, band,
                            Lexical(lex_coef, lex_intercept), weights)
                best = (head, report)
    return best


def _fit(x_train, x_dev, train_examples, c: float):
    """One logistic regression per category: (coef, intercept, dev logits)."""
    from sklearn.linear_model import LogisticRegression
    coef, intercept = [], []
    for category in CATEGORIES:
        y = np.array([category in e.labels for e in train_examples], dtype=int)
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, solver="lbfgs")
        model.fit(x_train, y)
        coef.append(model.coef_[0])
        intercept.append(model.intercept_[0])
    coef, intercept = np.array(coef), np.array(intercept)
    return coef, intercept, np.asarray(x_dev @ coef.T) + intercept


def _merit(predicted, truth, category, by_rule):
    predicted = predicted | by_rule
    target = RECALL_TARGETS.get(category)
    if target is not None and truth.any():
        tp = float((predicted & truth).sum())
        return (min(tp / truth.sum(), target), tp / max(predicted.sum(), 1))
    return (_f1(predicted, truth),)


def _benign_report(flagged, examples, truth) -> dict:
    i = CATEGORIES.index("self_harm")
    kinds = np.array([e.kind for e in examples])
    tp = float((flagged[:, i] & truth[:, i]).sum())
    return {"dev_precision_self_harm": tp / max(flagged[:, i].sum(), 1),
            "dev_recall_self_harm": tp / max(truth[:, i].sum(), 1),
            "dev_roleplay_flagged": float(flagged[kinds == "roleplay"].any(axis=1).mean()),
            "dev_chat_flagged": float(flagged[kinds == "chat"].any(axis=1).mean())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m safety.train")
    parser.add_argument("--out", default=str(HEAD_FILE))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from safety.embedding import default_embedder
    train_examples = dataset.load(("train",))
    dev_examples = dataset.load(("dev",))
    head, report = train(train_examples, dev_examples, default_embedder())
    head.save(_path(args.out), C=report["C"], lexical_C=report["lexical_C"],
              dev_macro_f1=report["dev_macro_f1"], train_size=len(train_examples),
              dev_size=len(dev_examples))
    for category, threshold, weight in zip(head.categories, head.thresholds, head.weights):
        print(f"{category:14s} threshold {threshold:.2f}  embedding weight {weight:.1f}  "
              f"dev F1 {report['dev_f1_' + category]:.3f}")
    print(f"C {report['C']}  lexical C {report['lexical_C']}  dev macro F1 "
          f"{report['dev_macro_f1']:.3f}  self_harm precision "
          f"{report['dev_precision_self_harm']:.3f} at recall "
          f"{report['dev_recall_self_harm']:.3f}  flagged: role-play "
          f"{report['dev_roleplay_flagged']:.1%}, chat {report['dev_chat_flagged']:.1%}  "
          f"-> {args.out}")
    return 0


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


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
