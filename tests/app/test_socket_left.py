"""A page that closes while its socket's event is being handled (chat:join arriving as the tab
navigates away) is the client leaving, not a server failure: no traceback, no error line; an
unexpected failure on a socket still connected is still logged as one (test_chat_socket.py)."""
import logging

from flask import request

from conversations import events as chat_events
from core.extensions import socketio


def test_a_socket_that_leaves_during_chat_join_is_no_server_error(app, socket_client, auth,
                                                                   monkeypatch, caplog):
    conversation = auth.start_conversation()
    real_join = chat_events.join_room

    def leaving_then_join(room):
        socketio.server.manager.disconnect(request.sid, "/")  # the tab closed meanwhile
        return real_join(room)  # raises: the sid is no longer connected

    monkeypatch.setattr(chat_events, "join_room", leaving_then_join)
    with caplog.at_level(logging.INFO, logger="conversations.events"):
        socket_client.emit("chat:join", {"conversation_id": conversation["id"]})
    assert "its socket left meanwhile" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text
