"""Room messages as moderation targets: a member reports one, the queue shows it among the
messages around it with named speakers, and a moderator's hide takes it out of the history,
the export and every character's prompt until a restore brings it back."""
import pytest
from sqlmodel import Session

from core.event_types import ContentFlagged
from rooms import service
from tests.moderation.conftest import Person, act
from tests.rooms import rooms_support
from tests.rooms.rooms_support import join, make_room, say
from tests.rooms.test_room_prompt import ODESSA, _prompt

people = rooms_support.people
RUDE = "You are all idiots and I hate this inn"


@pytest.fixture
def moderator(app):
    return Person(app, "moderator")


@pytest.fixture
def scene(app, people):
    """A room of two people with a conversation around one rude line of the guest's."""
    owner, guest = people(2)
    room = make_room(owner, character_ids=[ODESSA, 2])
    join(owner, guest, room["id"])
    ids = [say(app, room["id"], "We sit by the fire", user_id=owner.id),
           say(app, room["id"], "Odessa pours the tea.", speaker="character",
               character_id=ODESSA),
           say(app, room["id"], RUDE, user_id=guest.id),
           say(app, room["id"], "Let us be kind to each other", user_id=owner.id)]
    return owner, guest, room, ids


def _report(person, message_id):
    return person.call("POST", "/api/reports", json={"target_type": "room_message",
                                                     "target_id": message_id,
                                                     "reason": "harassment", "note": "rude"})


def _queue_item(moderator, message_id, state="open"):
    items = moderator.get(f"/api/moderation/queue?state={state}").get_json()["items"]
    return next(i for i in items if (i["target_type"], i["target_id"]) == ("room_message",
                                                                           message_id))


def _history(person, room_id):
    response = person.get(f"/api/rooms/{room_id}/messages")
    assert response.status_code == 200, response.get_json()
    return [m["content"] for m in response.get_json()["messages"]]


def _character_history(app, room_id):
    with Session(app.extensions["kindred.db"]) as session:
        return [m.content for m in service.history_for_character(session, room_id, ODESSA)]


def test_a_reported_room_message_is_queued_with_the_talk_around_it(app, scene, moderator):
    owner, guest, room, ids = scene
    response = _report(owner, ids[2])
    assert response.status_code == 201, response.get_json()
    item = _queue_item(moderator, ids[2])
    assert item["author"]["id"] == guest.id and item["reports"][0]["note"] == "rude"
    lines = [(line["name"], line["content"], line["target"]) for line in item["context"]]
    assert lines == [(owner.username, "We sit by the fire", False),
                     ("Odessa Vane", "Odessa pours the tea.", False),
                     (guest.username, RUDE, True),
                     (owner.username, "Let us be kind to each other", False)]


def test_a_characters_turn_has_no_author_to_act_on(app, scene, moderator):
    owner, _guest, _room, ids = scene
    assert _report(owner, ids[1]).status_code == 201
    assert _queue_item(moderator, ids[1])["author"] is None
    warned = act(moderator, "warn", "room_message", ids[1], rule="R5")
    assert warned.status_code == 400 and warned.get_json()["error"]["code"] == "no_user_affected"


@pytest.mark.both_databases
def test_hide_takes_it_out_of_history_export_and_prompts_and_restore_brings_it_back(
        app, scene, moderator):
    owner, guest, room, ids = scene
    assert _report(owner, ids[2]).status_code == 201
    assert RUDE in _prompt(app, room["id"], ODESSA, owner.id)

    hidden = act(moderator, "hide", "room_message", ids[2], rule="R5", reason="Harassment.")
    assert hidden.status_code == 201, hidden.get_json()
    for person in (owner, guest):  # the author too
        assert RUDE not in _history(person, room["id"])
        assert "We sit by the fire" in _history(person, room["id"])
        assert RUDE not in person.get(f"/api/rooms/{room['id']}/export").get_data(as_text=True)
    assert RUDE not in _character_history(app, room["id"])
    assert RUDE not in _prompt(app, room["id"], ODESSA, owner.id)
    assert "Let us be kind" in _prompt(app, room["id"], ODESSA, owner.id)
    item = _queue_item(moderator, ids[2], "resolved")  # moderators still read it
    assert item["hidden"] is True and any(line["content"] == RUDE for line in item["context"])
    notices = guest.get("/api/me/notices").get_json()["notices"]
    assert any("room message" in n["text"] and "hidden" in n["text"] for n in notices)

    restored = act(moderator, "restore", "room_message", ids[2], reason="Banter.")
    assert restored.status_code == 201, restored.get_json()
    assert RUDE in _history(guest, room["id"])
    assert RUDE in _character_history(app, room["id"])
    assert RUDE in _prompt(app, room["id"], ODESSA, owner.id)
    assert RUDE in owner.get(f"/api/rooms/{room['id']}/export").get_data(as_text=True)


def test_a_reply_the_pipeline_held_stays_out_until_a_moderator_restores_it(app, scene,
                                                                           moderator):
    owner, _guest, room, ids = scene
    app.extensions["kindred.events"].publish(ContentFlagged(
        surface="chat_reply", target_type="room_message", target_id=ids[1], user_id=owner.id,
        action="hold", category="harassment", scores={"harassment": 0.9}, stage="classifier"))
    assert "Odessa pours the tea." not in _history(owner, room["id"])
    assert "Odessa pours the tea." not in _character_history(app, room["id"])
    item = _queue_item(moderator, ids[1])
    assert item["source"] == "flagged" and item["hidden"] is True
    assert act(moderator, "restore", "room_message", ids[1]).status_code == 201
    assert "Odessa pours the tea." in _history(owner, room["id"])


def test_the_socket_history_leaves_a_hidden_message_out(app, scene, moderator):
    from core.extensions import socketio
    owner, _guest, room, ids = scene
    assert act(moderator, "hide", "room_message", ids[2], rule="R5").status_code == 201
    client = socketio.test_client(app, flask_test_client=owner.client)
    client.emit("room:join", {"room_id": room["id"]})
    joined = next(e for e in client.get_received() if e["name"] == "room:joined")["args"][0]
    client.disconnect()
    contents = [m["content"] for m in joined["history"]]
    assert "We sit by the fire" in contents and RUDE not in contents


def test_only_members_report_what_they_can_see(app, scene, people):
    owner, guest, room, ids = scene
    stranger, = people(1)
    for person, message_id in ((stranger, ids[2]), (owner, 10 ** 9)):
        response = _report(person, message_id)
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["error"]["code"] == "not_found"
    suggestion = say(app, room["id"], "A draft only the guest sees", speaker="assistant",
                     user_id=guest.id, private_to=guest.id)
    assert _report(owner, suggestion).status_code == 404
    assert _report(guest, suggestion).status_code == 201
    kicked = owner.call("DELETE", f"/api/rooms/{room['id']}/members/{guest.id}")
    assert kicked.status_code == 200
    assert _report(guest, ids[0]).status_code == 404  # no longer a member
