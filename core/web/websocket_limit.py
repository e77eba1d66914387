"""Limits on what one Socket.IO connection can make the server hold.

Incoming: python-engineio checks `max_http_buffer_size` only once a whole message is in memory,
and its threading driver gives simple-websocket no limit of its own, so a client could make the
server hold a frame of any size. simple-websocket can stop reading at a limit and close the
connection with code 1009 (message too big); `bound_websocket_messages` hands it that limit.

Outgoing: python-engineio queues every packet for a socket without bound until that socket's
writer hands it to the network, so a client that stops reading (its TCP window full) would make
the server keep every token sent to it. `bound_socket_queues` gives each socket's queue a size
limit: a packet that finds it full is dropped, and that one client is disconnected (its replies
stop as at any disconnect; one logged warning); everyone else is served as before.

Closing is made safe too: engine.io's writer thread closes the websocket when it ends, and
simple-websocket's reader thread closes the OS socket as soon as the client has gone, so the
writer's close can meet a closed file descriptor (OSError EBADF) and die with a traceback. The
connection is gone either way, which is what closing wants."""
import logging
import queue
import socket

from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

log = logging.getLogger(__name__)


def bound_websocket_messages(server, max_bytes: int) -> None:
    """Make the engine.io `server` (socketio.server.eio) refuse WebSocket messages larger than
    `max_bytes` as they arrive."""
    class BoundedWebSocket(SimpleWebSocketWSGI):
        def __init__(self, handler, eio_server, **kwargs):
            super().__init__(handler, eio_server, **{"max_message_size": max_bytes, **kwargs})
            # the engine.io socket being upgraded: an overflowing queue shuts this connection
            if (eio_socket := getattr(handler, "__self__", None)) is not None:
                eio_socket.kindred_websocket = self

        def close(self):
            try:
                super().close()
            except OSError:  # the reader thread closed the socket first: the client is gone
                pass

    if server._async.get("websocket") is SimpleWebSocketWSGI:
        server._async = {**server._async, "websocket": BoundedWebSocket}


def bound_socket_queues(server, max_packets: int) -> None:
    """Give each socket of the engine.io `server` an outgoing queue of at most `max_packets`
    packets; a client whose queue is full is disconnected."""
    if server._async.get("queue") is queue.Queue:
        server._async = {**server._async,
                         "queue": lambda *args, **kwargs: _BoundedQueue(server, max_packets)}


class _BoundedQueue(queue.Queue):
    """One socket's outgoing packets. None, the writer's stop signal, always gets in."""

    def __init__(self, server, limit: int):
        super().__init__()
        self.server, self.limit, self.overflowed = server, limit, False

    def put(self, item, block=True, timeout=None):
        if item is not None and (self.overflowed or self.qsize() >= self.limit):
            if not self.overflowed:
                self.overflowed = True
                self.server.start_background_task(_disconnect_owner, self.server, self)
            return
        super().put(item, block, timeout)


def _disconnect_owner(server, full: _BoundedQueue) -> None:
    """Disconnect the socket whose queue is `full`, and shut its connection so that a writer
    blocked sending to it wakes up (the packets it held are freed with it)."""
    owner = next((s for s in list(server.sockets.values()) if s.queue is full), None)
    if owner is None:
        return
    log.warning("socket %s: %d packets waiting, its client is not reading them; disconnecting it",
                owner.sid, full.limit)
    try:
        owner.close(wait=False, abort=True, reason=server.reason.SERVER_DISCONNECT)
    finally:
        websocket = getattr(owner, "kindred_websocket", None)
        connection = getattr(getattr(websocket, "ws", None), "sock", None)
        if connection is not None:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:  # already gone
                pass
