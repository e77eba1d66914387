"""Live sockets end with the login that let them in (hardening, row 1): a log-out, a password
change and "log out everywhere" disconnect them, with `auth:ended` saying why, and a socket
whose login ended gets `chat:error login_required` instead of acting. Text the database cannot
store is refused over Socket.IO too (row 4)."""
from sqlmodel import func, select

from conversations.models import Message
from core.db import session_scope
from core.extensions import socketio
from tests.conftest import AuthActions


def _events(sio, name):
    return [event["args"][0] for event in sio.get_received() if event["name"] == name]


def _messages(app, conversation_id: int) -> int:
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(select(func.count()).select_from(Message)
                            .where(Message.conversation_id == conversation_id)).one()


def _socket(app, client):
    return socketio.test_client(app, flask_test_client=client)


def test_log_out_ends_that_logins_socket_and_not_the_others(app, client, auth):
    auth.signup("sockets")
    other = AuthActions(app.test_client())
    other.login("sockets")
    mine, theirs = _socket(app, client), _socket(app, other.client)
    assert mine.is_connected() and theirs.is_connected()
    assert auth.call("POST", "/api/auth/logout").status_code == 200
    assert not mine.is_connected()
    assert theirs.is_connected()
    theirs.disconnect()


def test_log_out_everywhere_and_password_change_end_sockets(app, client, auth):
    auth.signup("sockets2", password="old password")
    laptop = AuthActions(app.test_client())
    laptop.login("sockets2", "old password")
    laptop_socket = _socket(app, laptop.client)
    changed = auth.call("POST", "/api/auth/password",
                        json={"current_password": "old password", "new_password": "new password"})
    assert changed.status_code == 200
    assert not laptop_socket.is_connected()
    auth.csrf = changed.get_json()["csrf_token"]
    mine = _socket(app, client)
    assert mine.is_connected()
    assert auth.call("POST", "/api/auth/logout-all").status_code == 200
    assert not mine.is_connected()


def test_a_socket_whose_login_ended_elsewhere_cannot_act(app, client, auth):
    auth.signup("straggler")
    conversation = auth.start_conversation()
    sio = _socket(app, client)
    before = _messages(app, conversation["id"])
    with session_scope(app.extensions["kindred.db"]) as session:  # revoked behind its back
        from core.auth.logins import Login
        for login in session.exec(select(Login)):
            login.revoked_at = login.created_at
            session.add(login)
        session.commit()
    sio.emit("chat:send", {"conversation_id": conversation["id"], "content": "still here?"})
    assert not sio.is_connected()  # after chat:error login_required (the test client drops it)
    assert _messages(app, conversation["id"]) == before


def test_a_lone_surrogate_over_socketio_is_a_bad_text_error(app, socket_client, auth):
    conversation = auth.start_conversation()
    socket_client.get_received()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"],
                                     "content": "hi \ud800 there"})
    errors = _events(socket_client, "chat:error")
    assert errors and errors[0]["code"] == "bad_text"
    assert _events(socket_client, "chat:token") == []
