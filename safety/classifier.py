"""Stage 2: a small trained head on the MiniLM sentence embeddings and on the text's character
n-grams. Per category (one-vs-rest) two logistic regressions: one on the 384-d embedding, one
on hashed character n-grams (char_wb 2-5, 2^15 buckets, sublinear tf, l2-normalised); the
category's logit is a weighted average of the two logits (the weight per category picked on the
dev split; 1.0 is the embedding alone), with a threshold per category tuned on dev, and an
uncertain band around each threshold where the judge (stage 3) is asked.

The head is numpy arrays in safety/model/head.npz (about 1 MB, loaded without pickle), trained
by `python -m safety.train`; nothing is downloaded. The n-gram hashing is stateless (scikit-
learn's HashingVectorizer), so only the weights are stored. A head file without the lexical
arrays (the format before) is the embedding model alone."""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

HEAD_FILE = Path(__file__).resolve().parent / "model" / "head.npz"
MAX_CHARS = 1000  # what the classifier reads of one text (MiniLM reads 256 word pieces anyway)
NGRAMS = (2, 5)   # character n-grams within word boundaries (char_wb)
BUCKETS = 2 ** 15


@lru_cache(maxsize=4)
def _vectorizer(ngrams: tuple[int, int], buckets: int):
    from sklearn.feature_extraction.text import HashingVectorizer
    return HashingVectorizer(analyzer="char_wb", ngram_range=ngrams, n_features=buckets,
                             alternate_sign=False, norm=None, lowercase=True)


def lexical_features(texts: list[str], ngrams: tuple[int, int] = NGRAMS,
                     buckets: int = BUCKETS):
    """(n, buckets) sparse rows: hashed char_wb n-gram counts, 1 + log(count), l2-normalised."""
    from scipy import sparse
    counts = _vectorizer(tuple(ngrams), int(buckets)).transform(list(texts)).astype(np.float64)
    counts.data = 1.0 + np.log(counts.data)
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms) @ counts


@dataclass(frozen=True)
class Lexical:
    coef: np.ndarray        # (len(categories), buckets)
    intercept: np.ndarray   # (len(categories),)
    ngrams: tuple[int, int] = NGRAMS

    def logits(self, texts: list[str]) -> np.ndarray:
        features = lexical_features(texts, self.ngrams, self.coef.shape[1]).tocsr()
        out = np.empty((features.shape[0], self.coef.shape[0]))
        for row in range(features.shape[0]):
            start, end = features.indptr[row], features.indptr[row + 1]
            out[row] = self.coef[:, features.indices[start:end]] @ features.data[start:end]
        return out + self.intercept


@dataclass(frozen=True)
class Head:
    categories: tuple[str, ...]
    coef: np.ndarray        # (len(categories), dim): the embedding model
    intercept: np.ndarray   # (len(categories),)
    thresholds: np.ndarray  # (len(categories),) in probability
    band: float             # |p - threshold| below this is uncertain
    lexical: Lexical | None = None  # the character n-gram model (None: embedding alone)
    weights: np.ndarray | None = None  # (len(categories),) weight of the embedding logit

    def probabilities(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """(n, len(categories)) probabilities for (n, dim) embeddings of the n (prepared)
        `texts`; the texts are needed when the head has a lexical model."""
        logits = np.asarray(vectors, dtype=np.float64) @ self.coef.T + self.intercept
        if self.lexical is not None:
            if texts is None:
                raise ValueError("this head reads the texts too: pass texts=")
            logits = self.weights * logits + (1.0 - self.weights) * self.lexical.logits(texts)
        return 1.0 / (1.0 + np.exp(-logits))

    def save(self, path: Path = HEAD_FILE, **meta) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = dict(categories=np.array(self.categories), coef=self.coef.astype(np.float32),
                      intercept=self.intercept.astype(np.float32),
                      thresholds=self.thresholds.astype(np.float32), band=np.float32(self.band))
        if self.lexical is not None:
            arrays.update(lexical_coef=self.lexical.coef.astype(np.float32),
                          lexical_intercept=self.lexical.intercept.astype(np.float32),
                          lexical_ngrams=np.array(self.lexical.ngrams, dtype=np.int32),
                          lexical_analyzer=np.array("char_wb"),
                          weights=np.asarray(self.weights, dtype=np.float32))
        np.savez(path, **arrays, **{k: np.asarray(v) for k, v in meta.items()})

    @classmethod
    def load(cls, path: Path = HEAD_FILE) -> "Head":
        with np.load(path, allow_pickle=False) as data:
            lexical = weights = None
            if "lexical_coef" in data.files:
                if str(data["lexical_analyzer"]) != "char_wb":
                    raise ValueError(f"{path}: unknown lexical analyzer")
                lexical = Lexical(data["lexical_coef"].astype(np.float64),
                                  data["lexical_intercept"].astype(np.float64),
                                  tuple(int(n) for n in data["lexical_ngrams"]))
                weights = data["weights"].astype(np.float64)
            return cls(tuple(str(c) for c in data["categories"]),
                       data["coef"].astype(np.float64), data["intercept"].astype(np.float64),
                       data["thresholds"].astype(np.float64), float(data["band"]), lexical,
                       weights)


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
        prepared = prepare(text)
        vector = self.embedder.encode([prepared])
        return self.scores_from(self.head.probabilities(vector, [prepared])[0])

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
