"""Waiting for Socket.IO events from the Flask-SocketIO test client, with a bounded timeout."""
import time


def collect_until(sio, names=("chat:done", "chat:error"), timeout: float = 60.0) -> list[dict]:
    """Events received until one named in `names` arrives; later ones wait for the next call."""
    pending = sio.__dict__.setdefault("_unread_events", [])
    events, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending.extend(sio.get_received())
        while pending:
            event = pending.pop(0)
            events.append(event)
            if event["name"] in names:
                return events
        time.sleep(0.01)
    raise AssertionError(f"no {names} within {timeout}s; got {[e['name'] for e in events]}")


def payloads(events: list[dict], name: str) -> list[dict]:
    return [e["args"][0] for e in events if e["name"] == name]
