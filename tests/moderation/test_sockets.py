"""A ban ends the banned user's live sockets at once, with a last auth:ended saying why."""
from core.extensions import socketio
from tests.moderation.conftest import act


def test_a_ban_ends_the_users_open_sockets_and_leaves_others(app, client, auth, person):
    auth.signup()
    banned = socketio.test_client(app, flask_test_client=client)
    bystander_person = person()
    bystander = socketio.test_client(app, flask_test_client=bystander_person.client)
    assert banned.is_connected() and bystander.is_connected()
    moderator = person("moderator")
    user_id = client.get("/api/auth/me").get_json()["user"]["id"]
    response = act(moderator, "ban", "user", user_id, rule="R1", reason="Minor persona.")
    assert response.status_code == 201
    assert not banned.is_connected()
    # get_received() refuses once disconnected: read what arrived before the end
    ended = [m for m in banned.queue if m["name"] == "auth:ended"]
    assert len(ended) == 1
    assert ended[0]["args"][0]["rule"] == "R1" and ended[0]["args"][0]["code"] == "banned"
    assert ended[0]["args"][0]["reason"] == "Minor persona."
    assert bystander.is_connected()
    assert not [m for m in bystander.get_received() if m["name"] == "auth:ended"]
    bystander.disconnect()
    # It cannot come back: its login is revoked.
    again = socketio.test_client(app, flask_test_client=client)
    assert not again.is_connected()


def test_sockets_in_the_user_room_are_ended_too(app, client, auth, person):
    """Once conversations' connect joins `user:<id>`, the room finds them (on any process)."""
    from moderation.sockets import end_user_sockets, user_room
    auth.signup()
    user_id = client.get("/api/auth/me").get_json()["user"]["id"]
    sio = socketio.test_client(app, flask_test_client=client)
    sid = next(sid for sid, _eio in socketio.server.manager.get_participants("/", None))
    socketio.server.enter_room(sid, user_room(user_id), namespace="/")
    assert end_user_sockets(socketio.server, user_id, [], {"code": "banned"}) == 1
    assert not sio.is_connected()
    assert [m["name"] for m in sio.queue] == ["auth:ended"]
