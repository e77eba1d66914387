"""The vector index behind candidate generation: faiss inner product over L2-normalised vectors
(= cosine). Exact (flat) search below EXACT_BELOW vectors: it needs no build and, at 10,000 x 384,
takes about a millisecond. Above, an inverted file (IVF): k-means cells, and a search reads only
the NPROBE cells nearest the query. At 100,000 x 384 an exact scan for the few queries of a deal
took ~20 ms (p99 over 100 ms on a loaded 2-core machine) and grows linearly; the IVF search reads
~4 % of the vectors, and its build (k-means on a sample) takes seconds where HNSW's took 40 s.
HNSW stays available (`approx="hnsw"`).

faiss' OpenMP threads slow single-query searches down badly on small machines (30 ms instead of
0.4 ms over 10,000 vectors on 2 CPUs), so searches run on one thread; a build uses all.
(OpenMP's thread count is per calling thread, so each call sets its own.)

A deal searches with one query per taste (a few). faiss answers fewer than 20 queries one by one,
each a full scan; from 2 queries on it is told to use BLAS, which reads the vectors once for all
of them."""
import math
import os
import threading

import faiss
import numpy as np

EXACT_BELOW = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
IVF_NPROBE = 12            # cells read per query
IVF_TRAIN_PER_CELL = 50    # k-means sample: this many vectors per cell
faiss.cvar.distance_compute_blas_threshold = 2


class VectorIndex:
    """Positions 0..n-1 of the matrix it was built from; search() returns (scores, positions).
    Below `exact_below` vectors exact; from there `approx`: "ivf" (default) or "hnsw"."""

    def __init__(self, vectors: np.ndarray, exact_below: int = EXACT_BELOW, approx: str = "ivf"):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.size, self.dim = vectors.shape if vectors.size else (0, vectors.shape[-1])
        self.exact = self.size < exact_below
        self.approx = None if self.exact else approx
        self._nlist = 0
        faiss.omp_set_num_threads(1 if self.exact else (os.cpu_count() or 1))
        try:
            if self.exact:
                self._index = faiss.IndexFlatIP(self.dim)
            elif approx == "hnsw":
                self._index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                self._index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            elif approx == "ivf":
                self._nlist = max(1, min(4096, int(round(math.sqrt(max(self.size, 1))))))
                quantizer = faiss.IndexFlatIP(self.dim)
                self._index = faiss.IndexIVFFlat(quantizer, self.dim, self._nlist,
                                                 faiss.METRIC_INNER_PRODUCT)
                self._index.cp.niter = 10
                self._index.cp.max_points_per_centroid = IVF_TRAIN_PER_CELL
                self._quantizer = quantizer  # the IVF index does not own it
                if self.size:
                    sample = vectors
                    limit = self._nlist * IVF_TRAIN_PER_CELL
                    if len(vectors) > limit:
                        rng = np.random.default_rng(0)
                        sample = vectors[np.sort(rng.choice(len(vectors), limit, replace=False))]
                    self._index.train(sample)
                self._index.nprobe = min(IVF_NPROBE, self._nlist)
            else:
                raise ValueError(f"unknown index kind {approx!r}")
            if self.size:
                self._index.add(vectors)
        finally:
            faiss.omp_set_num_threads(1)
        self._lock = threading.Lock()  # efSearch is index state

    @property
    def kind(self) -> str:
        if self.exact:
            return "exact (faiss flat)"
        if self.approx == "hnsw":
            return f"HNSW (faiss, M={HNSW_M})"
        return f"IVF (faiss, {self._nlist} cells, {self._index.nprobe} read)"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k positions by inner product for each query row; -1 pads when k > size (or when
        the cells an IVF search reads hold fewer than k)."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if not self.size:
            return (np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64))
        k = max(1, min(k, self.size))
        faiss.omp_set_num_threads(1)
        if self.approx != "hnsw":
            return self._index.search(queries, k)
        with self._lock:
            self._index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
            return self._index.search(queries, k)
