"""How the domains meet: the reply streamer and every domain event subscriber, built with the
app's settings. This is the one place that knows who reacts to what (docs/architecture.md)."""
from flask import Flask

from conversations.inspector import install as install_inspector
from conversations.replies import ReplyStreamer, recover_interrupted_replies
from core.events import EventBus
from core.extensions import socketio
from discovery import subscribers as discovery_subscribers
from relationships.hooks import install as install_relationships


def wire(app: Flask, bus: EventBus) -> None:
    db, inference = app.extensions["kindred.db"], app.extensions["kindred.inference"]

    def emit(event: str, payload: dict, room: str) -> None:
        socketio.emit(event, payload, to=room)

    replies = app.extensions["kindred.replies"] = ReplyStreamer(db, inference, emit, app.config)
    install_inspector(replies, db, inference)
    app.extensions["kindred.relationships"] = install_relationships(replies, db, app.config, emit,
                                                                    inference)
    discovery_subscribers.subscribe(bus, db, app.config.get("EMBED_ON_PUBLISH", True))
    if not app.testing:
        recover_interrupted_replies(db)
