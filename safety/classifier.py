"""Stage 2: a small trained head on the MiniLM sentence embeddings. One logistic regression per
category (one-vs-rest) on the 384-d vector, with a threshold per category tuned on the dev
split, and an uncertain band around each threshold where the judge (stage 3) is asked.

The head is a few KB of numpy arrays in safety/model/head.npz, trained by `python -m
safety.train`; nothing is downloaded."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEAD_FILE = Path(__file__).resolve().parent / "model" / "head.npz"
MAX_CHARS = 1000  # what the classifier reads of one text (MiniLM reads 256 word pieces anyway)


@dataclass(frozen=True)
class Head:
    categories: tuple[str, ...]
    coef: np.ndarray        # (len(categories), dim)
    intercept: np.ndarray   # (len(categories),)
    thresholds: np.ndarray  # (len(categories),) in probability
    band: float             # |p - threshold| below this is uncertain

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, len(categories)) probabilities for (n, dim) embeddings."""
        logits = np.asarray(vectors, dtype=np.float64) @ self.coef.T + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def save(self, path: Path = HEAD_FILE, **meta) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, categories=np.array(self.categories), coef=self.coef.astype(np.float32),
                 intercept=self.intercept.astype(np.float32),
                 thresholds=self.thresholds.astype(np.float32), band=np.float32(self.band),
                 **{k: np.asarray(v) for k, v in meta.items()})

    @classmethod
    def load(cls, path: Path = HEAD_FILE) -> "Head":
        with np.load(path, allow_pickle=False) as data:
            return cls(tuple(str(c) for c in data["categories"]),
                       data["coef"].astype(np.float64), data["intercept"].astype(np.float64),
                       data["thresholds"].astype(np.float64), float(data["band"]))


@dataclass(frozen=True)
class Scores:
    probabilities: dict[str, float]
    flagged: tuple[str, ...]    # at or over the threshold
    uncertain: tuple[str, ...]  # within the band of the threshold, either side


class Classifier:
    def __init__(self, embedder, head: Head, band: float | None = None):
        self.embedder, self.head = embedder, head
        self.band = head.band if band is None else band

    def score(self, text: str) -> Scores:
        vector = self.embedder.encode([prepare(text)])
        return self.scores_from(self.head.probabilities(vector)[0])

    def scores_from(self, row: np.ndarray) -> Scores:
        probs = {c: float(p) for c, p in zip(self.head.categories, row)}
        flagged, uncertain = [], []
        for category, p, threshold in zip(self.head.categories, row, self.head.thresholds):
            if p >= threshold:
                flagged.append(category)
            if abs(p - threshold) < self.band:
                uncertain.append(category)
        return Scores(probs, tuple(flagged), tuple(uncertain))


def prepare(text: str) -> str:
    """What the head reads: the text with role-play asterisks kept (they mark fiction), cut."""
    return " ".join((text or "").split())[:MAX_CHARS]
