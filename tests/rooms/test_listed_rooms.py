"""Rooms listed for a tag: the owner lists a room under a tag, anyone signed in finds it by that
tag and joins without an invite; an invite-only room stays invisible; bad listings and joins are
refused with nothing changed."""
from datetime import timedelta

import pytest

from core.db import utcnow

from tests.rooms import rooms_support
from tests.rooms.rooms_support import make_room, room_rows
from tests.support.users import update_user

people = rooms_support.people


def listed(person, tag=None):
    response = person.get("/api/rooms/listed" + (f"?tag={tag}" if tag else ""))
    assert response.status_code == 200, response.get_json()
    return [room["id"] for room in response.get_json()["rooms"]]


def test_a_listed_room_is_found_by_its_tag_and_joined_without_an_invite(people):
    owner, visitor = people(2)
    tavern = make_room(owner, visibility="listed", listed_tag="Fantasy ")
    make_room(owner, title="Lab", visibility="listed", listed_tag="sci-fi")
    private = make_room(owner, title="Just us")
    assert tavern["visibility"] == "listed" and tavern["listed_tag"] == "fantasy"
    assert listed(visitor, "fantasy") == [tavern["id"]]
    assert private["id"] not in listed(visitor)
    assert visitor.get(f"/api/rooms/{tavern['id']}").status_code == 404  # not a member yet

    joined = visitor.call("POST", f"/api/rooms/{tavern['id']}/join")
    assert joined.status_code == 200 and joined.get_json()["joined"] is True
    roles = {m["user_id"]: m["role"] for m in joined.get_json()["room"]["members"]}
    assert roles == {owner.id: "owner", visitor.id: "member"}
    assert visitor.get(f"/api/rooms/{tavern['id']}").status_code == 200
    again = visitor.call("POST", f"/api/rooms/{tavern['id']}/join")
    assert again.status_code == 200 and again.get_json()["joined"] is False


def test_unlisting_a_room_hides_it_and_closes_the_door(people):
    owner, visitor = people(2)
    room = make_room(owner, visibility="listed", listed_tag="cozy")
    changed = owner.call("PATCH", f"/api/rooms/{room['id']}", json={"visibility": "invite"})
    assert changed.status_code == 200
    assert changed.get_json()["room"]["listed_tag"] is None
    assert room["id"] not in listed(visitor, "cozy")
    refused = visitor.call("POST", f"/api/rooms/{room['id']}/join")
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("body, error", [
    ({"visibility": "public"}, "bad_visibility"),
    ({"visibility": "listed"}, "bad_tag"),
    ({"visibility": "listed", "listed_tag": "   "}, "bad_tag"),
    ({"visibility": "listed", "listed_tag": "x" * 41}, "bad_tag"),
    ({"visibility": "listed", "listed_tag": 7}, "bad_tag"),
])
def test_bad_listings_are_refused_and_nothing_is_stored(app, people, body, error):
    owner, = people(1)
    room = make_room(owner)
    before = room_rows(app)
    created = owner.call("POST", "/api/rooms", json={"title": "T", "character_ids": [1], **body})
    patched = owner.call("PATCH", f"/api/rooms/{room['id']}", json=body)
    for response in (created, patched):
        assert response.status_code == 400 and response.get_json()["error"]["code"] == error
    assert room_rows(app) == before


def test_only_the_owner_lists_a_room(app, people):
    owner, visitor = people(2)
    room = make_room(owner, visibility="listed", listed_tag="cozy")
    assert visitor.call("POST", f"/api/rooms/{room['id']}/join").status_code == 200
    before = room_rows(app)
    response = visitor.call("PATCH", f"/api/rooms/{room['id']}", json={"visibility": "invite"})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_owner"
    assert room_rows(app) == before


def test_a_suspended_person_cannot_join_a_listed_room(app, people):
    owner, visitor = people(2)
    room = make_room(owner, visibility="listed", listed_tag="cozy")
    update_user(app.extensions["kindred.db"], visitor.username,
                suspended_until=utcnow() + timedelta(days=2))
    before = room_rows(app)
    response = visitor.call("POST", f"/api/rooms/{room['id']}/join")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "suspended"
    assert room_rows(app) == before
