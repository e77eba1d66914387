"""Turns in a room over the Flask-SocketIO test client with the tiny model: the batching window,
stop, trigger, the auto-continue bound, partial text on disconnect, moderation, bans and @assistant."""
from datetime import timedelta

import pytest
from sqlmodel import Session

from characters.models import Character
from core.db import utcnow
from core.users import User
from relationships import affinity
from rooms.models import Room
from rooms.turns import recover_interrupted_turns
from safety.rules import add_rule, seed_default_rules
from tests.rooms import rooms_support
from tests.rooms.rooms_support import join, make_room
from tests.rooms.turn_support import messages, room_socket, settle
from tests.support.events import collect_until, payloads, wait_for
from tests.support.users import update_user

ODESSA, BRAMBLE = 1, 2
BLOCKED_WORD = "zorblax"

people = rooms_support.people


@pytest.fixture(autouse=True)
def quick_window(app):
    app.config["ROOM_BATCH_SECONDS"] = 0.8


def _patch(owner, room_id, **body):
    response = owner.call("PATCH", f"/api/rooms/{room_id}", json=body)
    assert response.status_code == 200, response.get_json()


def _send(sio, room_id, content, **more):
    sio.emit("room:send", {"room_id": room_id, "content": content, **more})


def _turns_done(sio, count, timeout=60.0):
    """The room:done payloads of the next `count` turns."""
    return [wait_for(sio, "room:done", timeout=timeout) for _ in range(count)]


def test_two_people_within_the_window_get_one_character_turn(app, people):
    app.config["ROOM_BATCH_SECONDS"] = 3.0  # the test client hands the two over one by one
    app.extensions["kindred.moderator"].moderate("warming up", "room_message")
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    first, second = room_socket(app, owner, room["id"]), room_socket(app, guest, room["id"])
    _send(first, room["id"], "Shall we go in?")
    _send(second, room["id"], "Yes, let's!")
    done = _turns_done(first, 1)[0]["message"]
    assert wait_for(second, "room:done")["message"]["id"] == done["id"]
    stored = settle(app, room["id"])
    people_said = [m for m in stored if m.speaker == "user"]
    replies = [m for m in stored if m.speaker == "character"]
    assert [m.content for m in people_said] == ["Shall we go in?", "Yes, let's!"]
    assert len(replies) == 1 and replies[0].id > people_said[-1].id
    assert replies[0].status == "complete" and replies[0].content == done["content"]


def test_a_message_sent_while_a_character_writes_gets_a_turn_of_its_own_after(app, people):
    app.config["MAX_NEW_TOKENS"] = 64
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    first, second = room_socket(app, owner, room["id"]), room_socket(app, guest, room["id"])
    _send(first, room["id"], "Tell us a story")
    turn = wait_for(second, "room:turn")
    _send(second, room["id"], "And then what?")
    stored = settle(app, room["id"])
    replies = [m for m in stored if m.speaker == "character"]
    asked_later = next(m for m in stored if m.content == "And then what?")
    assert len(replies) == 2 and replies[0].id == turn["message_id"]
    assert replies[0].id < asked_later.id < replies[1].id


def test_the_turn_streams_to_everyone_in_the_room(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    first, second = room_socket(app, owner, room["id"]), room_socket(app, guest, room["id"])
    _send(first, room["id"], "Hello there")
    for sio in (first, second):
        events = collect_until(sio, names=("room:done",))
        shown = payloads(events, "room:message")
        assert [m["message"]["content"] for m in shown] == ["Hello there"]
        turn, = payloads(events, "room:turn")
        tokens = payloads(events, "room:token")
        done, = payloads(events, "room:done")
        assert turn["character_id"] in (ODESSA, BRAMBLE) and turn["room_id"] == room["id"]
        assert tokens and {t["message_id"] for t in tokens} == {turn["message_id"]}
        assert done["message"]["content"] == "".join(t["text"] for t in tokens).strip()
        assert done["message"]["speaker"] == "character"


def test_stop_keeps_the_partial_text(app, people):
    app.config["MAX_NEW_TOKENS"] = 1500
    owner, = people(1)
    room = make_room(owner)
    sio = room_socket(app, owner, room["id"])
    _send(sio, room["id"], "Talk for a long time")
    wait_for(sio, "room:token")
    sio.emit("room:stop", {"room_id": room["id"]})
    done = wait_for(sio, "room:done")["message"]
    assert done["status"] == "stopped" and done["content"]
    reply = [m for m in settle(app, room["id"]) if m.speaker == "character"]
    assert len(reply) == 1 and reply[0].status == "stopped"
    assert reply[0].content == done["content"]


def test_stop_with_nothing_being_written_is_an_error(app, people):
    owner, = people(1)
    room = make_room(owner)
    sio = room_socket(app, owner, room["id"])
    sio.emit("room:stop", {"room_id": room["id"]})
    assert wait_for(sio, "room:error", timeout=10)["code"] == "not_generating"


def test_in_a_manual_room_only_a_trigger_makes_a_character_speak(app, people):
    owner, = people(1)
    room = make_room(owner, strategy="manual")
    sio = room_socket(app, owner, room["id"])
    _send(sio, room["id"], "Anyone?")
    assert not [m for m in settle(app, room["id"]) if m.speaker == "character"]
    sio.emit("room:trigger", {"room_id": room["id"], "character_id": BRAMBLE})
    turn = wait_for(sio, "room:turn")
    assert turn["character_id"] == BRAMBLE
    wait_for(sio, "room:done")
    replies = [m for m in settle(app, room["id"]) if m.speaker == "character"]
    assert [m.character_id for m in replies] == [BRAMBLE]


@pytest.mark.parametrize("character_id, code", [(BRAMBLE, "muted"), (3, "not_in_room"),
                                                ("2", "not_in_room")])
def test_a_muted_or_absent_character_cannot_be_triggered(app, people, character_id, code):
    owner, = people(1)
    room = make_room(owner)
    _patch(owner, room["id"], mute_character_ids=[BRAMBLE])
    sio = room_socket(app, owner, room["id"])
    sio.emit("room:trigger", {"room_id": room["id"], "character_id": character_id})
    assert wait_for(sio, "room:error", timeout=10)["code"] == code
    assert not [m for m in settle(app, room["id"]) if m.speaker == "character"]


def test_a_muted_character_never_speaks(app, people):
    owner, = people(1)
    room = make_room(owner, strategy="list")
    _patch(owner, room["id"], mute_character_ids=[ODESSA])
    sio = room_socket(app, owner, room["id"])
    for text in ("One", "Two"):
        _send(sio, room["id"], text)
        wait_for(sio, "room:done")
        settle(app, room["id"])
    replies = [m for m in messages(app, room["id"]) if m.speaker == "character"]
    assert [m.character_id for m in replies] == [BRAMBLE, BRAMBLE]


def test_auto_continue_adds_at_most_k_character_turns(app, people):
    owner, = people(1)
    room = make_room(owner, character_ids=[ODESSA, BRAMBLE], auto_continue=2)
    sio = room_socket(app, owner, room["id"])
    _send(sio, room["id"], "Discuss among yourselves")
    stored = settle(app, room["id"])
    replies = [m for m in stored if m.speaker == "character"]
    assert len(replies) == 3  # the answer, then two more with no human message
    speakers = [m.character_id for m in replies]
    assert all(a != b for a, b in zip(speakers, speakers[1:]))  # natural: never twice running


def test_without_auto_continue_one_message_gets_one_turn(app, people):
    owner, = people(1)
    room = make_room(owner, character_ids=[ODESSA, BRAMBLE])
    sio = room_socket(app, owner, room["id"])
    _send(sio, room["id"], "Hi")
    assert len([m for m in settle(app, room["id"]) if m.speaker == "character"]) == 1


def test_a_disconnect_in_the_middle_stores_the_partial_text(app, people):
    app.config["MAX_NEW_TOKENS"] = 1500
    owner, = people(1)
    room = make_room(owner)
    sio = room_socket(app, owner, room["id"])
    _send(sio, room["id"], "Tell me everything")
    wait_for(sio, "room:token")
    sio.disconnect()
    reply, = [m for m in settle(app, room["id"]) if m.speaker == "character"]
    assert reply.status == "stopped" and reply.content.strip()


def test_out_of_character_messages_start_no_turn(app, people):
    owner, = people(1)
    room = make_room(owner)
    sio = room_socket(app, owner, room["id"])
    _send(sio, room["id"], "brb", ooc=True)
    shown = wait_for(sio, "room:message")["message"]
    assert shown["ooc"] is True
    stored = settle(app, room["id"])
    assert [m.speaker for m in stored] == ["user"] and stored[0].ooc


@pytest.fixture
def rules(app):
    with Session(app.extensions["kindred.db"]) as session:
        seed_default_rules(session)
        add_rule(session, "hate", "word", BLOCKED_WORD, None)
    app.extensions["kindred.moderator"].rules.invalidate()


def test_a_blocked_message_is_refused_and_nothing_is_generated(app, people, rules):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    sender, other = room_socket(app, owner, room["id"]), room_socket(app, guest, room["id"])
    _send(sender, room["id"], f"you are a {BLOCKED_WORD}")
    error = wait_for(sender, "room:error", timeout=20)
    assert (error["code"], error["category"]) == ("blocked_content", "hate")
    stored = settle(app, room["id"])
    assert [(m.status, m.private_to) for m in stored] == [("blocked", owner.id)]
    assert not [e for e in other.get_received() if e["name"] == "room:message"]


def test_an_email_address_is_masked_before_anyone_sees_it(app, people, rules):
    owner, = people(1)
    room = make_room(owner)
    sio = room_socket(app, owner, room["id"])
    _send(sio, room["id"], "write to me at sam.lee@example.com", ooc=True)
    shown = wait_for(sio, "room:message")["message"]["content"]
    assert "sam.lee@example.com" not in shown
    assert "sam.lee@example.com" not in settle(app, room["id"])[0].content


@pytest.mark.parametrize("standing", ["banned", "suspended"])
def test_sending_while_banned_or_suspended_is_refused_and_stores_nothing(app, people, standing):
    owner, = people(1)
    room = make_room(owner)
    sio = room_socket(app, owner, room["id"])
    update_user(app.extensions["kindred.db"], owner.username,
                **({"banned_at": utcnow()} if standing == "banned"
                   else {"suspended_until": utcnow() + timedelta(days=2)}))
    _send(sio, room["id"], "Hello?")
    assert wait_for(sio, "room:error", timeout=10)["code"] == standing
    sio.emit("room:trigger", {"room_id": room["id"], "character_id": ODESSA})
    assert wait_for(sio, "room:error", timeout=10)["code"] == standing
    assert settle(app, room["id"]) == []


def test_at_assistant_is_answered_by_the_assistant_not_a_character(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    asker, other = room_socket(app, owner, room["id"]), room_socket(app, guest, room["id"])
    _send(other, room["id"], "We agreed to meet at the old mill")
    wait_for(asker, "room:done")
    settle(app, room["id"])
    _send(asker, room["id"], "@assistant where did we agree to meet?")
    turn = wait_for(other, "room:turn", lambda p: p["character_id"] is None)
    assert turn["speaker"] == "assistant"
    done = wait_for(other, "room:done", lambda p: p["message"]["id"] == turn["message_id"])[
        "message"]
    assert done["speaker"] == "assistant" and done["character_id"] is None
    assert done["kind"] == "answer" and isinstance(done["message_ids"], list)
    stored = settle(app, room["id"])
    assert [m.speaker for m in stored] == ["user", "character", "user", "assistant"]
    assert stored[2].ooc  # the request is no line of the scene: no character answers it
    with Session(app.extensions["kindred.db"]) as session:
        character = session.get(Character, ODESSA)
        prompt = app.extensions["kindred.rooms"].prompt_for(
            session, session.get(Room, room["id"]), character, session.get(User, owner.id))
    assert done["content"][:40] not in prompt.text and "where did we agree" not in prompt.text


def test_a_suggested_reply_goes_only_to_the_person_who_asked(app, people):
    owner, guest = people(2)
    room = make_room(owner, character_ids=[], assistant=True)
    join(owner, guest, room["id"])
    asker, other = room_socket(app, owner, room["id"]), room_socket(app, guest, room["id"])
    _send(other, room["id"], "Are you coming to the party on Friday?")
    wait_for(asker, "room:message")
    _send(asker, room["id"], "@assistant suggest a reply")
    turn = wait_for(asker, "room:turn")
    done = wait_for(asker, "room:done")["message"]
    assert turn["speaker"] == "assistant" and done["private"] is True
    assert done["kind"] == "suggestion"
    settle(app, room["id"])
    seen_by_other = [e["name"] for e in other.get_received()]
    assert "room:turn" not in seen_by_other and "room:done" not in seen_by_other
    assert "room:token" not in seen_by_other


def test_a_turn_cut_by_a_server_stop_keeps_its_text_as_stopped(app, people):
    owner, = people(1)
    room = make_room(owner)
    cut = rooms_support.say(app, room["id"], "Half a sent", speaker="character",
                            character_id=ODESSA, status="streaming")
    assert recover_interrupted_turns(app.extensions["kindred.db"]) == 1
    stored, = messages(app, room["id"])
    assert (stored.id, stored.status, stored.content) == (cut, "stopped", "Half a sent")


def test_the_turn_answers_at_the_level_of_whoever_spoke_last(app, people, monkeypatch):
    friend, stranger = people(2)
    room = make_room(friend, character_ids=[ODESSA])
    join(friend, stranger, room["id"])
    with Session(app.extensions["kindred.db"]) as session:
        bond = affinity.relationship(session, friend.id, ODESSA)
        bond.affinity, bond.level = 200, 3
        session.add(bond)
        session.commit()
    engine, prompts = app.extensions["kindred.inference"], []
    submit = engine.submit
    monkeypatch.setattr(engine, "submit", lambda text, *a, **k: prompts.append(text) or
                        submit(text, *a, **k))
    first, second = room_socket(app, friend, room["id"]), room_socket(app, stranger, room["id"])
    for sio in (first, second):
        _send(sio, room["id"], "Good evening, captain")
        settle(app, room["id"])  # the turn answering it is stored
    assert len(prompts) == 2
    assert f"{friend.username} is at level 3" in prompts[0]
    assert f"{stranger.username} is at level 0" in prompts[1]
