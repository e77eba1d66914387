"""A server that is stopping (app/shutdown.py) stops the reply being written through the chat's
stop path, and refuses a new message with chat:error shutting_down, storing nothing. The engine
is the tests' shared one, so the app's whole shutdown (which closes it) runs only in
tests/app/test_server_lifecycle.py; here the reply streamer's part of it."""
from tests.support.events import collect_until, payloads


def _messages(auth, conversation_id):
    return auth.call("GET", f"/api/conversations/{conversation_id}").get_json()[
        "conversation"]["messages"]


def test_stopping_stores_the_streaming_reply_stopped_and_refuses_new_messages(app, socket_client,
                                                                             auth):
    app.config["MAX_NEW_TOKENS"] = 1500
    replies = app.extensions["kindred.replies"]
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "Talk"})
    collect_until(socket_client, names=("chat:token",))

    assert replies.stop_all("shutdown", timeout=30) is True
    done = payloads(collect_until(socket_client, names=("chat:done",)), "chat:done")[0]
    assert (done["stopped"], done["stop_reason"]) == (True, "shutdown")
    assert _messages(auth, conversation["id"])[-1]["status"] == "stopped"

    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "More"})
    error = payloads(collect_until(socket_client, names=("chat:error",)), "chat:error")[0]
    assert error["code"] == "shutting_down"
    assert [m["content"] for m in _messages(auth, conversation["id"]) if m["role"] == "user"] == [
        "Talk"]


def test_the_app_registers_its_shutdown_and_an_idle_stop_is_clean(app):
    assert callable(app.extensions["kindred.shutdown"])
    assert app.extensions["kindred.replies"].stop_all(timeout=1) is True  # nothing to stop
    assert app.extensions["kindred.rooms"].stop_all(timeout=1) is True
