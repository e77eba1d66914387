"""The vector index behind candidate generation: faiss inner product over L2-normalised vectors
(= cosine). Exact (flat) search below EXACT_BELOW vectors: measured here it takes ~10 ms for one
query over 100,000 x 384 and needs no build; HNSW above, where exact search grows linearly.

faiss' OpenMP threads slow single-query searches down badly on small machines (30 ms instead of
0.4 ms over 10,000 vectors on 2 CPUs), so searches run on one thread; an HNSW build uses all.
(OpenMP's thread count is per calling thread, so each call sets its own.)

A deal searches with one query per taste (a few). faiss answers fewer than 20 queries one by one,
each a full scan; from 2 queries on it is told to use BLAS, which reads the vectors once for all
of them."""
import os
import threading

import faiss
import numpy as np

EXACT_BELOW = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
faiss.cvar.distance_compute_blas_threshold = 2


class VectorIndex:
    """Positions 0..n-1 of the matrix it was built from; search() returns (scores, positions)."""

    def __init__(self, vectors: np.ndarray, exact_below: int = EXACT_BELOW):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.size, self.dim = vectors.shape if vectors.size else (0, vectors.shape[-1])
        self.exact = self.size < exact_below
        if self.exact:
            self._index = faiss.IndexFlatIP(self.dim)
        else:
            self._index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        if self.size:
            faiss.omp_set_num_threads(1 if self.exact else (os.cpu_count() or 1))
            try:
                self._index.add(vectors)
            finally:
                faiss.omp_set_num_threads(1)
        self._lock = threading.Lock()  # efSearch is index state

    @property
    def kind(self) -> str:
        return "exact (faiss flat)" if self.exact else f"HNSW (faiss, M={HNSW_M})"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k positions by inner product for each query row; -1 pads when k > size."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if not self.size:
            return (np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64))
        k = max(1, min(k, self.size))
        faiss.omp_set_num_threads(1)
        if self.exact:
            return self._index.search(queries, k)
        with self._lock:
            self._index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
            return self._index.search(queries, k)
