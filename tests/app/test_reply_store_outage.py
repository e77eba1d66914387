"""A reply that ends while PostgreSQL refuses connections (an outage, a failover): its final
store is tried again until the database is back, or, past REPLY_STORE_RETRY_SECONDS, the room
gets chat:error store_failed and the reply is marked interrupted afterwards; never a reply
left `streaming` with the client told nothing. Real PostgreSQL, a database of each test's own
(made to refuse connections as tests/cluster does); the Flask-SocketIO test client."""
import contextlib
import logging
import time

import pytest
import sqlalchemy as sa

from tests.conftest import _postgres_admin
from tests.support.events import wait_for

pytestmark = pytest.mark.postgresql_only
WAIT = 60.0  # seconds, bound of every wait


@contextlib.contextmanager
def database_refusing_connections(database_url: str):
    """The app's database refuses new connections and its open ones are cut, until the end."""
    name = sa.make_url(database_url).database
    admin = _postgres_admin()
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            try:
                connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM "
                                           "pg_stat_activity WHERE datname = :name"),
                                   {"name": name})
                yield
            finally:
                connection.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
    finally:
        admin.dispose()


def wait_for_log(caplog, fragment: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if any(fragment in record.getMessage() for record in caplog.records):
            return
        time.sleep(0.05)
    raise AssertionError(f"no log record with {fragment!r} within {WAIT} s")


def last_reply(auth, conversation_id: int) -> dict:
    response = auth.call("GET", f"/api/conversations/{conversation_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["conversation"]["messages"][-1]


def start_long_reply(app, socket_client, auth) -> int:
    app.config.update(MAX_NEW_TOKENS=1500, REPLY_CHECKPOINT_SECONDS=0.05)
    conversation_id = auth.start_conversation()["id"]
    socket_client.emit("chat:send", {"conversation_id": conversation_id,
                                     "content": "Tell me a long story about the sea."})
    wait_for(socket_client, "chat:token", timeout=WAIT)
    return conversation_id


def test_a_reply_ending_during_an_outage_is_stored_once_the_database_is_back(
        app, socket_client, auth, caplog):
    caplog.set_level(logging.WARNING, logger="conversations.replies")
    app.config["REPLY_STORE_RETRY_SECONDS"] = 120.0  # longer than any outage here
    conversation_id = start_long_reply(app, socket_client, auth)
    replies = app.extensions["kindred.replies"]
    with database_refusing_connections(app.config["DATABASE_URL"]):
        # a checkpoint fails, and the reply streams on regardless
        wait_for_log(caplog, "could not store the text so far")
        socket_client.get_received()  # the tokens so far: one more must come after the failure
        wait_for(socket_client, "chat:token", timeout=WAIT)
        replies.stop(conversation_id, reason="user")
        wait_for_log(caplog, "trying again")  # its final store met the refusing database
    done = wait_for(socket_client, "chat:done", timeout=WAIT)
    assert done["stopped"] is True and done["message"]["status"] == "stopped"
    stored = last_reply(auth, conversation_id)
    assert stored["status"] == "stopped" and stored["content"] == done["message"]["content"]
    assert stored["content"]


def test_a_reply_not_stored_in_time_is_reported_then_marked_interrupted(
        app, socket_client, auth, caplog):
    caplog.set_level(logging.WARNING, logger="conversations.replies")
    app.config["REPLY_STORE_RETRY_SECONDS"] = 0.5
    conversation_id = start_long_reply(app, socket_client, auth)
    with database_refusing_connections(app.config["DATABASE_URL"]):
        app.extensions["kindred.replies"].stop(conversation_id, reason="user")
        error = wait_for(socket_client, "chat:error", timeout=WAIT)
    assert error["code"] == "store_failed" and error["conversation_id"] == conversation_id
    assert error["message"]
    assert last_reply(auth, conversation_id)["status"] == "streaming"  # left for recovery
    # joining again marks it interrupted (its checkpointed text kept) and says so to the room
    socket_client.emit("chat:join", {"conversation_id": conversation_id})
    done = wait_for(socket_client, "chat:done", timeout=WAIT)
    assert done["finish_reason"] == "interrupted"
    assert done["message"]["status"] == "interrupted"
    assert last_reply(auth, conversation_id)["status"] == "interrupted"
    # and the conversation is answered again
    app.config["MAX_NEW_TOKENS"] = 8
    socket_client.emit("chat:send", {"conversation_id": conversation_id, "content": "Again?"})
    done = wait_for(socket_client, "chat:done", timeout=WAIT)
    assert done["message"]["status"] == "complete"
    assert last_reply(auth, conversation_id)["status"] == "complete"
