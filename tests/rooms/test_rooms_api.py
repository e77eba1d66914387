"""The rooms REST routes: creating rooms, who may see and change them, characters joining and
leaving (their stints), kicking and leaving, history; and every bad input refused with nothing
stored changed."""
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from core.auth.roles import grant_role
from core.db import utcnow
from core.extensions import socketio
from rooms import service
from rooms.models import RoomCharacter
from tests.rooms import rooms_support
from tests.rooms.rooms_support import join, make_room, room_rows, say
from tests.support.users import update_user

people = rooms_support.people


def stints(app, room_id):
    with Session(app.extensions["kindred.db"]) as session:
        return list(session.exec(select(RoomCharacter).where(RoomCharacter.room_id == room_id)
                                 .order_by(RoomCharacter.id)))


@pytest.mark.both_databases
def test_the_owner_creates_a_room_and_sees_it_with_its_characters(people):
    owner, = people(1)
    room = make_room(owner, strategy="list", scenario="A storm outside.")
    assert room["title"] == "The Lantern Inn" and room["strategy"] == "list"
    assert room["scenario"] == "A storm outside."
    assert [c["character_id"] for c in room["characters"]] == [1, 2]
    assert [c["name"] for c in room["characters"]] == ["Odessa Vane", "Bramble"]
    assert room["members"] == [{"user_id": owner.id, "username": owner.username,
                                "display_name": owner.username, "role": "owner",
                                "online": False}]
    mine = owner.get("/api/rooms").get_json()["rooms"]
    assert [r["id"] for r in mine] == [room["id"]]
    assert owner.get(f"/api/rooms/{room['id']}").get_json()["room"]["id"] == room["id"]


def test_a_room_of_people_with_the_assistant_needs_no_character(people):
    owner, = people(1)
    room = make_room(owner, character_ids=[], assistant=True)
    assert room["assistant"] is True and room["characters"] == []


def test_a_room_is_visible_to_its_members_only(people):
    owner, guest, stranger = people(3)
    room = make_room(owner)
    join(owner, guest, room["id"])
    assert guest.get(f"/api/rooms/{room['id']}").status_code == 200
    assert [r["id"] for r in guest.get("/api/rooms").get_json()["rooms"]] == [room["id"]]
    for path in (f"/api/rooms/{room['id']}", f"/api/rooms/{room['id']}/messages",
                 f"/api/rooms/{room['id']}/export", "/api/rooms/999999"):
        response = stranger.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
    assert stranger.get("/api/rooms").get_json()["rooms"] == []


def test_only_the_owner_changes_the_room(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    before = room_rows(app)
    response = guest.call("PATCH", f"/api/rooms/{room['id']}", json={"title": "Mine now"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_owner"
    assert room_rows(app) == before
    changed = owner.call("PATCH", f"/api/rooms/{room['id']}",
                         json={"title": "The Drowned Inn", "strategy": "pooled",
                               "scenario": "Midnight."}).get_json()["room"]
    assert (changed["title"], changed["strategy"], changed["scenario"]) == (
        "The Drowned Inn", "pooled", "Midnight.")


def test_adding_a_character_opens_a_stint_that_starts_after_the_last_message(app, people):
    owner, = people(1)
    room = make_room(owner, character_ids=[1])
    say(app, room["id"], "before the third came", user_id=owner.id)
    last = say(app, room["id"], "still before", user_id=owner.id)
    response = owner.call("PATCH", f"/api/rooms/{room['id']}", json={"add_character_ids": [3]})
    assert response.status_code == 200, response.get_json()
    assert [c["character_id"] for c in response.get_json()["room"]["characters"]] == [1, 3]
    added = stints(app, room["id"])[-1]
    assert (added.character_id, added.seen_after_id, added.seen_until_id) == (3, last, None)
    after = say(app, room["id"], "now it listens", user_id=owner.id)
    with Session(app.extensions["kindred.db"]) as session:
        seen = [m.id for m in service.history_for_character(session, room["id"], 3)]
    assert seen == [after]


@pytest.mark.both_databases
def test_removing_a_character_closes_its_stint_and_it_keeps_what_it_saw(app, people):
    owner, = people(1)
    room = make_room(owner, character_ids=[1, 2])
    first = say(app, room["id"], "hello both", user_id=owner.id)
    response = owner.call("PATCH", f"/api/rooms/{room['id']}",
                          json={"remove_character_ids": [2]})
    assert [c["character_id"] for c in response.get_json()["room"]["characters"]] == [1]
    later = say(app, room["id"], "only one of you now", user_id=owner.id)
    removed = [s for s in stints(app, room["id"]) if s.character_id == 2][0]
    assert removed.seen_until_id == first and removed.removed_at is not None
    # Re-adding opens a new stint: it sees what came after, never the gap in between.
    owner.call("PATCH", f"/api/rooms/{room['id']}", json={"add_character_ids": [2]})
    back = say(app, room["id"], "welcome back", user_id=owner.id)
    with Session(app.extensions["kindred.db"]) as session:
        seen = [m.id for m in service.history_for_character(session, room["id"], 2)]
        assert [m.id for m in service.history_for_character(session, room["id"], 1)] == [
            first, later, back]
    assert seen == [first, back]
    assert len([s for s in stints(app, room["id"]) if s.character_id == 2]) == 2


def test_muting_a_character_keeps_it_in_the_room(people):
    owner, = people(1)
    room = make_room(owner)
    muted = owner.call("PATCH", f"/api/rooms/{room['id']}",
                       json={"mute_character_ids": [2]}).get_json()["room"]
    assert [(c["character_id"], c["muted"]) for c in muted["characters"]] == [(1, False),
                                                                             (2, True)]
    unmuted = owner.call("PATCH", f"/api/rooms/{room['id']}",
                         json={"unmute_character_ids": [2]}).get_json()["room"]
    assert [c["muted"] for c in unmuted["characters"]] == [False, False]


def test_the_owner_kicks_a_member_who_loses_the_room(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    response = owner.call("DELETE", f"/api/rooms/{room['id']}/members/{guest.id}")
    assert response.status_code == 200
    assert guest.get(f"/api/rooms/{room['id']}").status_code == 404
    members = owner.get(f"/api/rooms/{room['id']}").get_json()["room"]["members"]
    assert [m["user_id"] for m in members] == [owner.id]


def test_kicking_records_the_event_the_sockets_act_on(app, people):
    from core.event_types import RoomMemberRemoved
    owner, guest, other = people(3)
    room = make_room(owner)
    join(owner, guest, room["id"])
    join(owner, other, room["id"])
    seen = []
    app.extensions["kindred.events"].subscribe(RoomMemberRemoved, seen.append)
    owner.call("DELETE", f"/api/rooms/{room['id']}/members/{guest.id}")
    other.call("DELETE", f"/api/rooms/{room['id']}/members/{other.id}")
    assert seen == [RoomMemberRemoved(room_id=room["id"], user_id=guest.id, by_id=owner.id,
                                      kicked=True),
                    RoomMemberRemoved(room_id=room["id"], user_id=other.id, by_id=other.id,
                                      kicked=False)]


def test_a_member_leaves_but_cannot_kick_others(app, people):
    owner, guest, other = people(3)
    room = make_room(owner)
    join(owner, guest, room["id"])
    join(owner, other, room["id"])
    before = room_rows(app)
    response = guest.call("DELETE", f"/api/rooms/{room['id']}/members/{other.id}")
    assert response.status_code == 403 and room_rows(app) == before
    assert guest.call("DELETE", f"/api/rooms/{room['id']}/members/{guest.id}").status_code == 200
    assert guest.get(f"/api/rooms/{room['id']}").status_code == 404


def test_nobody_removes_the_owner(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    before = room_rows(app)
    for who in (owner, guest):
        response = who.call("DELETE", f"/api/rooms/{room['id']}/members/{owner.id}")
        assert response.status_code in (403, 409)
    response = owner.call("DELETE", f"/api/rooms/{room['id']}/members/{owner.id}")
    assert response.get_json()["error"]["code"] == "owner_stays"
    assert room_rows(app) == before


@pytest.mark.both_databases
def test_history_pages_back_and_hides_others_private_suggestions(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    ids = [say(app, room["id"], f"line {n}", user_id=owner.id) for n in range(5)]
    private = say(app, room["id"], "Try asking about the map.", speaker="assistant",
                  user_id=guest.id, private_to=guest.id)
    base = f"/api/rooms/{room['id']}/messages"
    owner_view = owner.get(base).get_json()["messages"]
    assert [m["id"] for m in owner_view] == ids
    guest_view = guest.get(base).get_json()["messages"]
    assert [m["id"] for m in guest_view] == ids + [private]
    assert guest_view[-1]["private"] is True and guest_view[-1]["speaker"] == "assistant"
    page = owner.get(f"{base}?before={ids[3]}&limit=2").get_json()
    assert [m["id"] for m in page["messages"]] == ids[1:3] and page["has_more"] is True
    assert owner_view[0]["name"] == owner.username
    assert owner.get(f"{base}?before=abc").status_code == 400


def test_a_character_never_sees_ooc_lines_nor_the_assistant(app, people):
    owner, = people(1)
    room = make_room(owner, character_ids=[1], assistant=True)
    kept = say(app, room["id"], "The door creaks.", user_id=owner.id)
    say(app, room["id"], "brb, pizza", user_id=owner.id, ooc=True)
    say(app, room["id"], "Summary: a door creaked.", speaker="assistant", user_id=owner.id)
    with Session(app.extensions["kindred.db"]) as session:
        assert [m.id for m in service.history_for_character(session, room["id"], 1)] == [kept]


@pytest.mark.parametrize("body, code", [
    ({"title": "Empty", "character_ids": []}, "no_characters"),
    ({"title": "Empty"}, "no_characters"),
    ({"title": "Ghost", "character_ids": [999999]}, "unknown_character"),
    ({"title": "Bad", "character_ids": [1], "strategy": "chaos"}, "bad_strategy"),
    ({"title": "", "character_ids": [1]}, "bad_title"),
    ({"title": "Bad", "character_ids": "1"}, "bad_field"),
    ({"title": "Bad", "character_ids": [1], "assistant": "yes"}, "bad_field"),
])
def test_a_bad_room_is_refused_and_nothing_is_stored(app, people, body, code):
    owner, = people(1)
    before = room_rows(app)
    response = owner.call("POST", "/api/rooms", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert room_rows(app) == before


def test_someone_elses_private_character_cannot_join_a_room(app, people):
    creator, owner = people(2)
    hidden = creator.character(visibility="private", name="Secret Sam")
    before = room_rows(app)
    response = owner.call("POST", "/api/rooms", json={"title": "Spy", "character_ids": [1, hidden]})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unknown_character"
    room = make_room(owner)
    response = owner.call("PATCH", f"/api/rooms/{room['id']}",
                          json={"add_character_ids": [hidden]})
    assert response.get_json()["error"]["code"] == "unknown_character"
    assert len(stints(app, room["id"])) == 2
    # ...while its own creator may bring it.
    assert make_room(creator, character_ids=[hidden])["characters"][0]["name"] == "Secret Sam"
    assert before["rooms"] != room_rows(app)["rooms"]


@pytest.mark.parametrize("body, code", [
    ({"strategy": "round_robin"}, "bad_strategy"),
    ({"remove_character_ids": [1, 2]}, "no_characters"),
    ({"mute_character_ids": [5]}, "not_in_room"),
    ({"add_character_ids": [999999]}, "unknown_character"),
    ({"title": "New", "owner_id": 1}, "bad_field"),
    ({"title": "   "}, "bad_title"),
])
def test_a_bad_change_is_refused_and_nothing_changes(app, people, body, code):
    owner, = people(1)
    room = make_room(owner)
    before = room_rows(app)
    response = owner.call("PATCH", f"/api/rooms/{room['id']}", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert room_rows(app) == before


@pytest.mark.parametrize("state", [{"banned_at": "now"}, {"suspended_until": "tomorrow"}])
def test_a_banned_or_suspended_person_changes_nothing(app, people, state):
    owner, = people(1)
    room = make_room(owner)
    when = {"now": utcnow(), "tomorrow": utcnow() + timedelta(days=1)}
    update_user(app.extensions["kindred.db"], owner.username,
                **{k: when[v] for k, v in state.items()})
    before = room_rows(app)
    for method, path, body in (
            ("POST", "/api/rooms", {"title": "Again", "character_ids": [1]}),
            ("PATCH", f"/api/rooms/{room['id']}", {"title": "Renamed"}),
            ("POST", f"/api/rooms/{room['id']}/invites", {})):
        response = owner.call(method, path, json=body)
        if response.status_code == 401:  # a ban ended the login itself
            continue
        assert response.status_code == 403, (path, response.get_json())
        assert response.get_json()["error"]["code"] in ("banned", "suspended")
    assert room_rows(app) == before


def test_a_title_or_scenario_an_operator_rule_blocks_is_refused(app, people):
    owner, admin = people(2)
    with admin.session() as session:
        grant_role(session, admin.username, "admin")
    rule = admin.call("POST", "/api/admin/moderation/rules",
                      json={"category": "harassment", "kind": "word", "pattern": "grimblefrotz"})
    assert rule.status_code == 201, rule.get_json()
    room = make_room(owner)
    before = room_rows(app)
    for method, path, body in (
            ("POST", "/api/rooms", {"title": "grimblefrotz club", "character_ids": [1]}),
            ("POST", "/api/rooms", {"title": "Fine", "character_ids": [1],
                                    "scenario": "Everyone here is a grimblefrotz."}),
            ("PATCH", f"/api/rooms/{room['id']}", {"title": "grimblefrotz"})):
        response = owner.call(method, path, json=body)
        assert response.status_code == 422, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "blocked_content" and error["category"] == "harassment"
    assert room_rows(app) == before


def test_private_details_in_a_scenario_are_stored_masked(people):
    owner, = people(1)
    room = make_room(owner, scenario="Write to me at bob@example.com tonight.")
    assert "bob@example.com" not in room["scenario"] and "[email hidden]" in room["scenario"]


def test_the_room_pages_need_a_login_and_membership(app, people, client):
    owner, stranger = people(2)
    room = make_room(owner)
    assert client.get("/rooms").status_code == 302
    assert owner.get("/rooms").status_code == 200
    assert owner.get(f"/rooms/{room['id']}").status_code == 200
    assert stranger.get(f"/rooms/{room['id']}").status_code == 404


def test_the_room_says_who_has_it_open(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    sio = socketio.test_client(app, flask_test_client=guest.client)
    try:
        sio.emit("room:join", {"room_id": room["id"]})
        assert any(e["name"] == "room:joined" for e in sio.get_received())
        members = owner.get(f"/api/rooms/{room['id']}").get_json()["room"]["members"]
        assert {m["user_id"]: m["online"] for m in members} == {owner.id: False, guest.id: True}
    finally:
        sio.disconnect()
    members = owner.get(f"/api/rooms/{room['id']}").get_json()["room"]["members"]
    assert not any(m["online"] for m in members)


def test_a_kicked_members_socket_leaves_the_room_at_once(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    join(owner, guest, room["id"])
    owner_sio = socketio.test_client(app, flask_test_client=owner.client)
    guest_sio = socketio.test_client(app, flask_test_client=guest.client)
    try:
        for sio in (owner_sio, guest_sio):
            sio.emit("room:join", {"room_id": room["id"]})
        guest_sio.get_received()
        owner_sio.emit("room:typing", {"room_id": room["id"]})
        assert [e["name"] for e in guest_sio.get_received()] == ["room:typing"]

        assert owner.call("DELETE", f"/api/rooms/{room['id']}/members/{guest.id}"
                          ).status_code == 200
        told = guest_sio.get_received()
        assert [(e["name"], e["args"][0]["code"]) for e in told] == [("room:error", "removed")]
        owner_sio.emit("room:typing", {"room_id": room["id"]})
        assert guest_sio.get_received() == []  # nothing more reaches the kicked socket
        guest_sio.emit("room:join", {"room_id": room["id"]})
        refused = guest_sio.get_received()
        assert [(e["name"], e["args"][0]["code"]) for e in refused] == [("room:error",
                                                                         "not_member")]
    finally:
        owner_sio.disconnect()
        guest_sio.disconnect()
