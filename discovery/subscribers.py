"""What discovery does when other domains change: re-embed a character whose card changed."""
import logging

from sqlalchemy import Engine

from core.db import session_scope
from core.event_types import CharacterChanged, CharacterPublished
from core.events import EventBus
from discovery.embeddings import refresh_embedding

log = logging.getLogger(__name__)


def subscribe(bus: EventBus, db: Engine, embed_on_publish: bool) -> None:
    """Published characters are re-embedded in the background after a card edit, a restore or a
    publish (the first call loads the embedding model). Private drafts are never dealt, so they
    are skipped."""
    if not embed_on_publish:
        return

    def refresh(event) -> None:
        if event.visibility == "private":
            return
        if isinstance(event, CharacterChanged) and "card" not in event.changed:
            return
        with session_scope(db) as session:
            refresh_embedding(session, event.character_id)

    bus.subscribe(CharacterChanged, refresh, background=True, name="discovery.refresh_embedding")
    bus.subscribe(CharacterPublished, refresh, background=True,
                  name="discovery.refresh_embedding")
