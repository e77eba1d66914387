"""Moderation's reaction to other domains' events: the safety pipeline's ContentFlagged fills
the queue and escalates conversations (moderation.queue.FlagSubscriber). Settings, all
optional (defaults in brackets): MODERATION_ESCALATE_BLOCKS [3] blocked attempts, or
MODERATION_ESCALATE_MINOR_SCORE [1.5] summed sexual_minors scores, within
MODERATION_ESCALATE_MINUTES [60] in one conversation."""
from core.event_types import ContentFlagged
from core.events import EventBus
from moderation.queue import FlagSubscriber


def subscribe(bus: EventBus, db, settings) -> None:
    # Inline: it opens its own session after the producer's commit, and flags are rare.
    bus.subscribe(ContentFlagged, FlagSubscriber(db, settings), name="moderation.queue")
