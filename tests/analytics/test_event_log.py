"""The event log is fed by the domain events, off the producer's path: a sign-up and a chat
message end up in it under the user's session (a new one after 30 minutes of quiet), and a
failing write never fails the user's action and is retried, a bounded number of times."""
import time

from flask_socketio import SocketIOTestClient

from core.extensions import socketio
from tests.analytics.conftest import logged
from tests.support.events import collect_until


def test_a_sign_up_and_a_chat_message_are_logged_in_one_session(app, client, auth, event_log,
                                                                 clock):
    user_id = auth.signup().get_json()["user"]["id"]
    clock.advance(minutes=10)
    conversation = auth.start_conversation()
    sio: SocketIOTestClient = socketio.test_client(app, flask_test_client=client)
    sio.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hello!"})
    collect_until(sio)
    sio.disconnect()
    rows = _until_logged(app, event_log, "reply_finished", user_id)  # published after chat:done
    names = [row.name for row in rows]
    assert names[:4] == ["user_signed_up", "session_started", "conversation_started",
                         "message_sent"] and "reply_finished" in names
    assert len({row.session_id for row in rows}) == 1 and rows[0].session_id
    sent = rows[3]
    assert sent.occurred_at == clock.now
    assert sent.properties == {"conversation_id": conversation["id"], "character_id": 1,
                               "message_id": sent.properties["message_id"], "chars": 6}


def test_thirty_one_quiet_minutes_start_a_new_session_and_twenty_nine_do_not(app, auth,
                                                                             event_log, clock):
    user_id = auth.signup().get_json()["user"]["id"]
    clock.advance(minutes=29)
    auth.start_conversation()
    clock.advance(minutes=31)
    auth.start_conversation()
    clock.advance(minutes=5)
    auth.start_conversation()
    assert event_log.flush()

    sessions = [row.session_id for row in logged(app, user_id=user_id)]
    assert len(sessions) == 5  # signed up, session started, three conversations
    assert sessions[0] == sessions[1] == sessions[2]  # 29 minutes later: the same session
    assert sessions[3] == sessions[4] != sessions[2]  # after 31 minutes: a new one, kept


def test_a_session_carries_across_a_restart_of_the_writer(app, auth, event_log, clock):
    user_id = auth.signup().get_json()["user"]["id"]
    assert event_log.flush()
    event_log.sessions._last.clear()  # what a new process knows: nothing in memory
    clock.advance(minutes=20)
    auth.start_conversation()
    assert event_log.flush()
    assert len({row.session_id for row in logged(app, user_id=user_id)}) == 1


def test_a_failing_write_does_not_fail_the_action_and_is_retried(app, auth, event_log,
                                                                 monkeypatch):
    write, calls = event_log.write, []

    def failing_once(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        write(batch)
    monkeypatch.setattr(event_log, "write", failing_once)

    response = auth.signup()
    assert response.status_code == 201
    assert event_log.flush()
    user_id = response.get_json()["user"]["id"]
    assert [row.name for row in logged(app, user_id=user_id)] == ["user_signed_up",
                                                                  "session_started"]
    assert len(calls) >= 2 and event_log.stats.retries >= 1 and event_log.stats.lost == 0
    assert len({row.session_id for row in logged(app, user_id=user_id)}) == 1  # same on retry


def test_a_write_that_keeps_failing_is_given_up_after_its_attempts(app, auth, event_log,
                                                                   monkeypatch):
    calls = []

    def always_failing(batch):
        calls.append(len(batch))
        raise RuntimeError("disk full")
    monkeypatch.setattr(event_log, "write", always_failing)

    assert auth.signup().status_code == 201
    assert auth.start_conversation()["id"]
    assert event_log.flush()  # nothing stays queued
    assert len(calls) <= event_log.attempts * 3  # each batch tried `attempts` times at most
    assert event_log.stats.lost == 3 and event_log.stats.written == 0
    assert logged(app) == []


def test_a_full_queue_drops_events_and_never_blocks_the_action(app, auth, event_log,
                                                               monkeypatch):
    monkeypatch.setattr(event_log, "_queue", type(event_log._queue)(maxsize=1))
    monkeypatch.setattr(event_log, "_ensure_running", lambda: None)  # nothing drains it
    assert auth.signup().status_code == 201  # two events: one queued, one dropped
    assert event_log.stats.dropped == 1


def _until_logged(app, event_log, name, user_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        assert event_log.flush()
        rows = logged(app, user_id=user_id)
        if name in [row.name for row in rows] or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)
