"""A character's prompt in a room: swap mode, people named, OOC and the assistant left out, who
saw what (stints), and the relationship level with the person it answers."""
from sqlmodel import Session

from characters.models import Character
from core.users import User
from relationships import affinity
from rooms.models import Room
from tests.rooms import rooms_support
from tests.rooms.rooms_support import join, make_room, say

ODESSA, BRAMBLE = 1, 2

people = rooms_support.people


def _prompt(app, room_id, character_id, answering_id=None):
    turns = app.extensions["kindred.rooms"]
    with Session(app.extensions["kindred.db"]) as session:
        answering = session.get(User, answering_id) if answering_id else None
        return turns.prompt_for(session, session.get(Room, room_id),
                                session.get(Character, character_id), answering).text


def _piece(card_text: str) -> str:
    """A stretch of a card's text without placeholders (the prompt fills those in)."""
    return max(card_text.replace("}}", "{{").split("{{"), key=len).strip()[:50]


def _patch(owner, room_id, **body):
    response = owner.call("PATCH", f"/api/rooms/{room_id}", json=body)
    assert response.status_code == 200, response.get_json()


def test_only_the_speaking_characters_card_is_in_the_prompt_with_a_nudge(app, people):
    owner, = people(1)
    room = make_room(owner, character_ids=[ODESSA, BRAMBLE])
    say(app, room["id"], "Hello both of you", user_id=owner.id)
    say(app, room["id"], "Bramble waves a paw.", speaker="character", character_id=BRAMBLE)
    with Session(app.extensions["kindred.db"]) as session:
        odessa, bramble = session.get(Character, ODESSA), session.get(Character, BRAMBLE)
    text = _prompt(app, room["id"], ODESSA, owner.id)
    assert _piece(odessa.description) in text
    assert _piece(bramble.description) not in text
    assert "Bramble: Bramble waves a paw." in text  # the other character, in the history
    assert "Write only Odessa Vane's next message" in text


def test_people_are_named_in_the_history(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    say(app, room["id"], "I brought the map", user_id=owner.id)
    say(app, room["id"], "And I brought snacks", user_id=guest.id)
    text = _prompt(app, room["id"], ODESSA, guest.id)
    assert f"{owner.username}: I brought the map" in text
    assert f"{guest.username}: And I brought snacks" in text


def test_out_of_character_lines_and_assistant_answers_never_enter_a_prompt(app, people):
    owner, = people(1)
    room = make_room(owner)
    say(app, room["id"], "brb, pizza is here", user_id=owner.id, ooc=True)
    say(app, room["id"], "Here is a summary of the chat so far", speaker="assistant",
        user_id=owner.id)
    say(app, room["id"], "A private draft for you", speaker="assistant", user_id=owner.id,
        private_to=owner.id)
    say(app, room["id"], "We enter the cave", user_id=owner.id)
    for character_id in (ODESSA, BRAMBLE):
        text = _prompt(app, room["id"], character_id, owner.id)
        assert "We enter the cave" in text
        for hidden in ("pizza", "summary of the chat", "private draft"):
            assert hidden not in text


def test_a_character_added_later_does_not_know_what_was_said_before(app, people):
    owner, = people(1)
    room = make_room(owner, character_ids=[ODESSA])
    say(app, room["id"], "The password is swordfish", user_id=owner.id)
    _patch(owner, room["id"], add_character_ids=[BRAMBLE])
    say(app, room["id"], "Welcome, newcomer", user_id=owner.id)
    newcomer = _prompt(app, room["id"], BRAMBLE, owner.id)
    assert "Welcome, newcomer" in newcomer and "swordfish" not in newcomer
    assert "swordfish" in _prompt(app, room["id"], ODESSA, owner.id)


def test_a_removed_character_keeps_what_it_saw_and_learns_nothing_after(app, people):
    owner, = people(1)
    room = make_room(owner, character_ids=[ODESSA, BRAMBLE])
    say(app, room["id"], "The treasure is under the oak", user_id=owner.id)
    _patch(owner, room["id"], remove_character_ids=[BRAMBLE])
    say(app, room["id"], "Now that Bramble is gone: the key is in the well", user_id=owner.id)
    removed = _prompt(app, room["id"], BRAMBLE, owner.id)
    assert "under the oak" in removed and "in the well" not in removed
    # back in the room: a new stint sees from now on, and still what the first one saw
    _patch(owner, room["id"], add_character_ids=[BRAMBLE])
    say(app, room["id"], "Bramble is back!", user_id=owner.id)
    returned = _prompt(app, room["id"], BRAMBLE, owner.id)
    assert "under the oak" in returned and "Bramble is back!" in returned
    assert "in the well" not in returned


def test_a_muted_character_still_listens(app, people):
    owner, = people(1)
    room = make_room(owner, character_ids=[ODESSA, BRAMBLE])
    _patch(owner, room["id"], mute_character_ids=[BRAMBLE])
    say(app, room["id"], "Whisper: the ship leaves at dawn", user_id=owner.id)
    assert "the ship leaves at dawn" in _prompt(app, room["id"], BRAMBLE, owner.id)


def test_the_character_acts_on_its_level_with_the_person_it_answers(app, people):
    friend, stranger = people(2)
    room = make_room(friend)
    join(friend, stranger, room["id"])
    with Session(app.extensions["kindred.db"]) as session:
        bond = affinity.relationship(session, friend.id, ODESSA)
        bond.affinity, bond.level = 200, 3
        session.add(bond)
        session.commit()
    say(app, room["id"], "Hi Odessa", user_id=friend.id)
    names = app.config["LEVEL_NAMES"]
    to_friend = _prompt(app, room["id"], ODESSA, friend.id)
    to_stranger = _prompt(app, room["id"], ODESSA, stranger.id)
    assert f"({names[3]})" in to_friend and f"({names[3]})" not in to_stranger
    assert f"{friend.username} is at level 3" in to_friend
    assert f"{stranger.username} is at level 0" in to_stranger


def test_the_rooms_scenario_replaces_the_cards(app, people):
    owner, = people(1)
    room = make_room(owner, scenario="A storm traps everyone in a lighthouse.")
    say(app, room["id"], "What now?", user_id=owner.id)
    text = _prompt(app, room["id"], ODESSA, owner.id)
    assert "Scenario: A storm traps everyone in a lighthouse." in text
