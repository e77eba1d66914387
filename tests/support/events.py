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


def wait_for(sio, name: str, matches=lambda payload: True, timeout: float = 60.0) -> dict:
    """The first `name` event whose payload `matches`, from the Flask-SocketIO test client;
    the events passed over on the way wait for the next call, in order."""
    pending = sio.__dict__.setdefault("_unread_events", [])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending.extend(sio.get_received())
        for index, event in enumerate(pending):
            if event["name"] == name and matches(event["args"][0]):
                return pending.pop(index)["args"][0]
        time.sleep(0.01)
    raise AssertionError(f"no {name} matching within {timeout}s; "
                         f"got {[e['name'] for e in pending][-20:]}")
