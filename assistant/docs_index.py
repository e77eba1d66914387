"""The help desk's index of docs/*.md: every passage embedded with the shipped MiniLM, held as
one float32 matrix (a few hundred rows: a numpy dot product searches it), beside TF-IDF weights of
its words. A passage's score is mostly the embeddings' cosine similarity, plus LEXICAL_WEIGHT of
the TF-IDF one, which finds the exact word (a setting's name, "password") the embeddings blur:
on the labelled questions it lifts top-1 from 0.80 to 0.85 and widens the gap between answerable
and off-topic questions (docs/assistant.md). Built on first use and rebuilt when a page is
added, removed or changed (its mtime), checked on every search; one index per process and
folder (`shared_index`: apps made in one process, as tests make them, share it), thread-safe.
Passage vectors are kept on disk by text (`assistant.vector_cache`), so a build embeds only
passages it has not seen on this machine."""
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from assistant.doc_sections import Passage, passages
from assistant.retrieval import embedder_or_default, similarities
from assistant.vector_cache import VectorCache

log = logging.getLogger(__name__)

LEXICAL_WEIGHT = 0.3
_SHARED: dict[tuple, "DocsIndex"] = {}
_SHARED_LOCK = threading.Lock()


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


def shared_index(docs_dir: Path, embedder=None, cache_dir: Path | None = None) -> "DocsIndex":
    """The process's index of `docs_dir` (made on first use)."""
    key = (str(Path(docs_dir).resolve()), getattr(embedder, "name", None))
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = DocsIndex(docs_dir, embedder, cache_dir)
        return _SHARED[key]


class DocsIndex:
    def __init__(self, docs_dir: Path, embedder=None, cache_dir: Path | None = None):
        """`cache_dir` None embeds every passage on every build."""
        self.docs_dir = Path(docs_dir)
        self._embedder = embedder
        self._vector_cache = VectorCache(cache_dir)
        self._lock = threading.Lock()
        self._stamp: tuple = ()
        self._passages: list[Passage] = []
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._words: TfidfVectorizer | None = None
        self._weights = None  # (passages, vocabulary) sparse TF-IDF, rows L2-normalised
        self.builds = 0  # how many times the index was (re)built

    @property
    def embedder(self):
        return embedder_or_default(self._embedder)

    def pages(self) -> list[str]:
        return [path.stem for path in self._files()]

    def page_path(self, page: str) -> Path | None:
        return next((path for path in self._files() if path.stem == page), None)

    def search(self, question: str, k: int = 5) -> list[Hit]:
        """The k passages most like the question, best first."""
        passages, vectors, words, weights = self._current()
        if not passages:
            return []
        scores = (1 - LEXICAL_WEIGHT) * similarities(self.embedder, question, vectors)
        scores += LEXICAL_WEIGHT * (words.transform([question]) @ weights.T).toarray()[0]
        order = np.argsort(-scores, kind="stable")[:k]
        return [Hit(passages[i], float(scores[i])) for i in order]

    def _current(self) -> tuple:
        with self._lock:
            stamp = self._stamp_now()
            if stamp != self._stamp:
                self._build(stamp)
            return self._passages, self._vectors, self._words, self._weights

    def _build(self, stamp: tuple) -> None:
        found = [p for path in self._files() for p in passages(path)]
        texts = [p.text for p in found]
        self._vectors = self._vector_cache.encode(self.embedder, texts)
        if found:
            self._words = TfidfVectorizer(stop_words="english", sublinear_tf=True)
            self._weights = self._words.fit_transform(texts)
        self._passages, self._stamp = found, stamp
        self.builds += 1
        log.info("help desk index: %d passages from %d pages", len(found), len(stamp))

    def _stamp_now(self) -> tuple:
        return tuple((path.name, path.stat().st_mtime_ns) for path in self._files())

    def _files(self) -> list[Path]:
        return sorted(self.docs_dir.glob("*.md"))
