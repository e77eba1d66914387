"""Rank texts against a question with the shipped MiniLM embeddings (L2-normalised, so a dot
product is the cosine similarity). Small collections only: a room's history, the docs' sections.

    rank(embedder, question, texts) -> [(index, similarity)], best first
"""
import numpy as np

from discovery.embeddings import default_embedder


def embedder_or_default(embedder=None):
    return embedder if embedder is not None else default_embedder()


def similarities(embedder, question: str, vectors: np.ndarray) -> np.ndarray:
    if len(vectors) == 0:
        return np.zeros(0, dtype=np.float32)
    query = embedder.encode([question])[0]
    return vectors @ query


def rank(embedder, question: str, texts: list[str]) -> list[tuple[int, float]]:
    scores = similarities(embedder, question, embedder.encode(texts))
    order = np.argsort(-scores, kind="stable")
    return [(int(i), float(scores[i])) for i in order]
