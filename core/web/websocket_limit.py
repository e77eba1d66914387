"""A size limit that WebSocket frames meet while they arrive, not after.

python-engineio checks `max_http_buffer_size` only once a whole message is in memory, and its
threading driver gives simple-websocket no limit of its own, so a client could make the server
hold a frame of any size. simple-websocket can stop reading at a limit and close the connection
with code 1009 (message too big); this hands it that limit.

Closing is made safe too: engine.io's writer thread closes the websocket when it ends, and
simple-websocket's reader thread closes the OS socket as soon as the client has gone, so the
writer's close can meet a closed file descriptor (OSError EBADF) and die with a traceback. The
connection is gone either way, which is what closing wants."""
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI


def bound_websocket_messages(server, max_bytes: int) -> None:
    """Make the engine.io `server` (socketio.server.eio) refuse WebSocket messages larger than
    `max_bytes` as they arrive."""
    class BoundedWebSocket(SimpleWebSocketWSGI):
        def __init__(self, handler, eio_server, **kwargs):
            super().__init__(handler, eio_server, **{"max_message_size": max_bytes, **kwargs})

        def close(self):
            try:
                super().close()
            except OSError:  # the reader thread closed the socket first: the client is gone
                pass

    if server._async.get("websocket") is SimpleWebSocketWSGI:
        server._async = {**server._async, "websocket": BoundedWebSocket}
