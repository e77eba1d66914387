"""`python run.py` serves with gunicorn (one worker, threads), and stops cleanly: SIGTERM to the
master (systemd, docker) and Ctrl-C (SIGINT to the process group) stop the replies being written
and store them as stopped; a kill -9 leaves them for the next start, which marks them
interrupted. Room turns stop the same way. Real servers, real python-socketio clients over
websockets, the tiny model."""
import os
import signal
import time
from pathlib import Path

import pytest

from tests.app.test_live_server import ChatSocket
from tests.rooms.test_room_sockets_live import RoomSocket, _call, _room_of_two
from tests.support.live_clients import Account
from tests.support.live_server import child_pids, live_server

MAX_NEW_TOKENS = 100_000  # the reply is still being written whenever the test stops the server
GRACEFUL = 10  # seconds: the server's WEB_GRACEFUL_TIMEOUT, the bound on a clean stop
BOUND = GRACEFUL + 5  # and a margin for a busy machine


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("gunicorn"), model_path=str(tiny_model_dir),
                     max_new_tokens=64) as running:
        yield running
        running.assert_no_tracebacks()


def test_the_server_is_gunicorn_serving_http_and_websockets(server):
    user = Account.signed_up(server)
    conversation = user.start_conversation()
    chat = connected(server, user)
    try:
        assert chat.client.transport() == "websocket"  # upgraded: no long-polling
        chat.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hi!"})
        done = chat.wait_for("chat:done")
    finally:
        chat.close()
    assert done["message"]["status"] == "complete"
    log = server.log()
    assert "This is a development server" not in log
    assert "Using worker: KindredWorker" in log
    assert log.count("Kindred is running on " + server.url) == 1
    assert len(child_pids(server.process.pid)) == 1  # one worker process


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_a_stop_signal_mid_reply_stores_it_stopped_and_exits_cleanly(tmp_path, tiny_model_dir,
                                                                     how):
    with live_server(tmp_path, model_path=str(tiny_model_dir),
                     max_new_tokens=MAX_NEW_TOKENS) as running:
        worker = running.worker_pid()
        user = Account.signed_up(running)
        conversation = user.start_conversation()
        chat = connected(running, user)
        chat.emit("chat:send", {"conversation_id": conversation["id"], "content": "Go on."})
        chat.wait_for("chat:token", count=5)
        if how == "SIGTERM":
            running.process.terminate()
        else:
            running.interrupt()
        code = running.process.wait(timeout=BOUND)
        done = chat.wait_for("chat:done")
        chat.close()
        log = running.log()
        assert code == 0, log[-3000:]
        assert not Path(f"/proc/{worker}").exists(), "the worker outlived the master"
        assert "Kindred stopped" in log and "Traceback" not in log, log[-3000:]
    assert done["stopped"] is True and done["stop_reason"] == "shutdown"
    seen = chat.streamed_text().strip()
    assert seen != "" and done["message"]["content"] == seen

    with live_server(tmp_path, model_path=str(tiny_model_dir), max_new_tokens=64) as again:
        messages = again_as(user, again).messages(conversation["id"])
        again.assert_no_tracebacks()
    assert [m["content"] for m in messages if m["role"] == "user"] == ["Go on."]
    reply = messages[-1]
    assert (reply["role"], reply["status"], reply["content"]) == ("assistant", "stopped", seen)
    assert all(m["status"] != "streaming" for m in messages)


def test_a_killed_server_leaves_the_reply_interrupted_with_its_text(tmp_path, tiny_model_dir):
    with live_server(tmp_path, model_path=str(tiny_model_dir),
                     max_new_tokens=MAX_NEW_TOKENS) as running:
        user = Account.signed_up(running)
        conversation = user.start_conversation()
        chat = connected(running, user)
        chat.emit("chat:send", {"conversation_id": conversation["id"], "content": "Go on."})
        chat.wait_for("chat:token", count=5)
        # The reply's text so far is stored every REPLY_CHECKPOINT_SECONDS while it streams.
        stored = wait_for_checkpoint(user, conversation["id"])
        os.killpg(running.process.pid, signal.SIGKILL)  # master and worker, no chance to stop
        running.process.wait(timeout=BOUND)
        chat.close()
    assert chat.streamed_text().strip().startswith(stored)

    with live_server(tmp_path, model_path=str(tiny_model_dir), max_new_tokens=64) as again:
        messages = again_as(user, again).messages(conversation["id"])
        again.assert_no_tracebacks()
    assert [m["content"] for m in messages if m["role"] == "user"] == ["Go on."]
    reply = messages[-1]
    assert (reply["role"], reply["status"]) == ("assistant", "interrupted")
    assert reply["content"].startswith(stored) and stored != ""


# -- helpers ------------------------------------------------------------------------------------
def connected(server, account) -> ChatSocket:
    chat = ChatSocket()
    chat.connect(server.url, account, "websocket")
    return chat


def again_as(account: Account, server) -> Account:
    """The same user on the restarted server: same instance folder, so the same secret key and
    logins, so their cookies still hold."""
    account.server = server
    return account


def wait_for_checkpoint(account, conversation_id: int, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = account.messages(conversation_id)[-1]
        if reply["status"] == "streaming" and reply["content"]:
            return reply["content"]
        time.sleep(0.2)
    pytest.fail("the streaming reply's text was never stored")


def test_sigterm_mid_room_turn_stores_the_turn_stopped(tmp_path, tiny_model_dir):
    with live_server(tmp_path, model_path=str(tiny_model_dir),
                     max_new_tokens=MAX_NEW_TOKENS) as running:
        room, owner, _guest = _room_of_two(running)
        sio = RoomSocket(running, owner)
        sio.emit("room:join", {"room_id": room["id"]})
        sio.wait_for("room:joined")
        sio.emit("room:send", {"room_id": room["id"], "content": "Evening, everyone"})
        turn = sio.wait_for("room:turn")
        sio.wait_for("room:token", lambda d: len([n for n in sio.names()
                                                 if n == "room:token"]) >= 5)
        running.process.terminate()
        assert running.process.wait(timeout=BOUND) == 0, running.log()[-3000:]
        done = sio.wait_for("room:done")["message"]
        sio.close()
    tokens = "".join(d["text"] for n, d in sio.events
                     if n == "room:token" and d["message_id"] == turn["message_id"]).strip()
    assert (done["id"], done["status"], done["content"]) == (turn["message_id"], "stopped", tokens)

    with live_server(tmp_path, model_path=str(tiny_model_dir), max_new_tokens=64) as again:
        history = _call(again_as(owner, again), "GET", f"/api/rooms/{room['id']}/messages")
        again.assert_no_tracebacks()
    stored = history.get("messages", history)
    assert [m["content"] for m in stored if m["speaker"] == "user"] == ["Evening, everyone"]
    assert (stored[-1]["id"], stored[-1]["status"], stored[-1]["content"]) == (
        turn["message_id"], "stopped", tokens)
