"""What discovery does when other domains change: re-embed a character whose card changed."""
import logging
import threading

from sqlalchemy import Engine

from core.db import session_scope
from core.event_types import CharacterChanged, CharacterPublished
from core.events import EventBus
from discovery import embeddings

log = logging.getLogger(__name__)


def subscribe(bus: EventBus, db: Engine, embed_on_publish: bool) -> None:
    """Published characters are re-embedded in the background after a card edit, a restore or a
    publish (the first call loads the embedding model). Private drafts are never dealt, so they
    are skipped."""
    if not embed_on_publish:
        return
    one_at_a_time = threading.Lock()  # two quick edits must not both insert the same vector

    def refresh(event) -> None:
        if event.visibility == "private":
            return
        if isinstance(event, CharacterChanged) and "card" not in event.changed:
            return
        with one_at_a_time, session_scope(db) as session:
            embeddings.refresh_embedding(session, event.character_id)

    bus.subscribe(CharacterChanged, refresh, background=True, name="discovery.refresh_embedding")
    bus.subscribe(CharacterPublished, refresh, background=True,
                  name="discovery.refresh_embedding")
