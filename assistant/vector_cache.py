"""Passage vectors kept on disk by the SHA-256 of their text and the embedder's name, so the help
desk's index of docs/ is embedded once per machine, not once per process (536 passages take
MiniLM about 22 s on this machine's two cores; a restarted server, each test process and `make
setup`'s warm-up reuse them). A page edit re-embeds only the passages whose text changed.

One `.npz` file per embedder, written whole to a temporary file and renamed, so concurrent
processes each read a complete file (the last writer wins; a lost write costs a re-embed, never a
wrong vector). A file that cannot be read is treated as empty."""
import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MAX_ENTRIES = 8192  # past this the file keeps only the texts of the latest build


class VectorCache:
    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder is not None else None

    def encode(self, embedder, texts: list[str]) -> np.ndarray:
        """The embedder's vectors of `texts`, one row each, computing only those not on disk."""
        if not texts:
            return np.zeros((0, getattr(embedder, "dim", 0)), dtype=np.float32)
        if self.folder is None:
            return np.asarray(embedder.encode(texts), dtype=np.float32)
        path = self.folder / f"{_safe(embedder.name)}.npz"
        known = _read(path)
        keys = [_digest(text) for text in texts]
        missing = sorted({key: text for key, text in zip(keys, texts) if key not in known}.items())
        if missing:
            vectors = np.asarray(embedder.encode([text for _key, text in missing]),
                                 dtype=np.float32).reshape(len(missing), -1)
            known.update({key: vector for (key, _text), vector in zip(missing, vectors)})
            if len(known) > MAX_ENTRIES:
                known = {key: known[key] for key in keys}
            _write(path, known)
        return np.stack([known[key] for key in keys])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as stored:
            keys, vectors = stored["keys"], stored["vectors"]
        return {str(key): vector for key, vector in zip(keys, vectors)}
    except FileNotFoundError:
        return {}
    except Exception as exc:  # truncated or foreign: embed again and overwrite it
        log.warning("ignoring unreadable vector cache %s: %s", path, exc)
        return {}


def _write(path: Path, known: dict[str, np.ndarray]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
        os.replace(temporary, path)
    except OSError as exc:  # a read-only folder: the index still works, it just is not kept
        log.warning("could not keep vectors in %s: %s", path, exc)
