"""The in-memory catalog the recommender works on, built from the database and kept per process.

It holds public characters that have an embedding from the current model. It is rebuilt when the
set of characters or embeddings changes (checked at most every `refresh_seconds`), and its
like/pass/impression counts are reloaded every `stats_seconds` (this process's own swipes are
added at once). It can be slightly stale; the deck re-checks every card against the database
before dealing it."""
import logging
import threading
import time
from typing import Optional

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from discovery.embeddings import from_bytes
from discovery.models import CharacterEmbedding, CharacterStats
from discovery.recommender import Catalog, Settings
from characters.models import Character

log = logging.getLogger(__name__)


class CatalogCache:
    def __init__(self, model_name: str, settings: Settings, refresh_seconds: float = 5.0,
                 stats_seconds: float = 60.0):
        self.model_name = model_name
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self.stats_seconds = stats_seconds
        self._catalog: Optional[Catalog] = None
        self._signature = None
        self._checked_at = 0.0
        self._stats_at = 0.0
        self._lock = threading.Lock()

    def get(self, session: Session) -> Catalog:
        with self._lock:
            now = time.monotonic()
            if self._catalog is None or now - self._checked_at >= self.refresh_seconds:
                signature = self._current_signature(session)
                self._checked_at = now
                if signature != self._signature or self._catalog is None:
                    self._catalog = self._build(session)
                    self._signature, self._stats_at = signature, now
            if now - self._stats_at >= self.stats_seconds:
                self._reload_stats(session, self._catalog)
                self._stats_at = now
            return self._catalog

    def invalidate(self) -> None:
        with self._lock:
            self._signature = None
            self._checked_at = 0.0

    def record(self, character_id: int, **deltas: float) -> None:
        """Apply this process's own deal/swipe/undo to the counts at once."""
        catalog = self._catalog
        if catalog is not None and character_id in catalog.position:
            catalog.record(catalog.position[character_id], **deltas)

    def _current_signature(self, session: Session):
        chars = session.exec(select(sa.func.count(Character.id), sa.func.max(Character.updated_at))
                             .where(Character.visibility == "public",
                                    Character.moderation_hidden.is_(False))).one()
        embs = session.exec(select(sa.func.count(CharacterEmbedding.character_id),
                                   sa.func.max(CharacterEmbedding.updated_at))).one()
        return tuple(chars), tuple(embs)

    def _build(self, session: Session) -> Catalog:
        started = time.perf_counter()
        c, e, s = Character, CharacterEmbedding, CharacterStats
        rows = session.exec(
            select(c.id, c.name, c.tags, c.content_rating, c.language, c.creator_id,
                   c.created_at, e.vector, e.dim, s.likes, s.passes, s.impressions)
            .join(e, e.character_id == c.id)
            .outerjoin(s, s.character_id == c.id)
            .where(c.visibility == "public", c.moderation_hidden.is_(False),
                   e.model == self.model_name)
            .order_by(c.id)).all()
        dim = rows[0].dim if rows else 384
        vectors = (np.stack([from_bytes(r.vector, r.dim) for r in rows]) if rows
                   else np.zeros((0, dim), np.float32))
        catalog = Catalog(
            ids=[r.id for r in rows], vectors=vectors,
            created_at=[r.created_at.timestamp() for r in rows],
            creator_ids=[r.creator_id if r.creator_id is not None else -1 for r in rows],
            names=[r.name for r in rows], tags=[list(r.tags or []) for r in rows],
            mature=[r.content_rating == "mature" for r in rows],
            languages=[r.language or "" for r in rows],
            likes=[r.likes or 0 for r in rows], passes=[r.passes or 0 for r in rows],
            impressions=[r.impressions or 0 for r in rows], settings=self.settings)
        log.info("Discovery catalog: %d characters, %s index, built in %.2f s", len(catalog),
                 catalog.index.kind, time.perf_counter() - started)
        return catalog

    def _reload_stats(self, session: Session, catalog: Catalog) -> None:
        rows = session.exec(select(CharacterStats.character_id, CharacterStats.likes,
                                   CharacterStats.passes, CharacterStats.impressions)).all()
        for character_id, likes, passes, impressions in rows:
            pos = catalog.position.get(character_id)
            if pos is not None:
                catalog.likes[pos], catalog.passes[pos] = likes, passes
                catalog.impressions[pos] = impressions
        catalog.counts_changed()
        catalog.refresh_flags()  # "new" ages out
