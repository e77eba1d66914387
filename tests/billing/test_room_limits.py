"""Room limits come from the owner's membership: on free an owner has at most `max_rooms` rooms
and a room at most `max_room_members` people (tests/billing/conftest.py: 2 and 2); plus more."""
import pytest
from sqlmodel import Session, select

from rooms.models import Room, RoomMember
from tests.billing.conftest import deliver, event

pytestmark = pytest.mark.both_databases


def make_room(owner, **body):
    return owner.call("POST", "/api/rooms", json={"title": "The Lantern Inn", "character_ids": [1],
                                                  **body})


def rooms_of(app, owner) -> int:
    with Session(app.extensions["kindred.db"]) as session:
        return len(session.exec(select(Room).where(Room.owner_id == owner.id)).all())


def test_a_free_owner_has_at_most_max_rooms_and_plus_has_more(app, client, people):
    (mira,) = people(1)
    assert [make_room(mira).status_code for _ in range(2)] == [201, 201]
    refused = make_room(mira)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "room_limit"
    assert rooms_of(app, mira) == 2
    assert deliver(client, event("evt_rooms", user_id=mira.id)).status_code == 200
    assert make_room(mira).status_code == 201
    assert make_room(mira).get_json()["error"]["code"] == "room_limit"  # plus: 3
    assert rooms_of(app, mira) == 3


def test_a_free_owners_room_holds_at_most_max_room_members(app, client, people):
    owner, first, second = people(3)
    room = make_room(owner, visibility="listed", listed_tag="tavern").get_json()["room"]
    assert first.call("POST", f"/api/rooms/{room['id']}/join").status_code == 200
    full = second.call("POST", f"/api/rooms/{room['id']}/join")
    assert full.status_code == 409 and full.get_json()["error"]["code"] == "room_full"
    invite = owner.call("POST", f"/api/rooms/{room['id']}/invites", json={}).get_json()
    by_invite = second.call("POST", f"/api/invites/{invite['token']}/accept")
    assert by_invite.status_code == 409 and by_invite.get_json()["error"]["code"] == "room_full"
    with Session(app.extensions["kindred.db"]) as session:
        assert len(session.exec(select(RoomMember).where(
            RoomMember.room_id == room["id"])).all()) == 2
    # The owner goes plus: the room holds 3.
    assert deliver(client, event("evt_members", user_id=owner.id)).status_code == 200
    assert second.call("POST", f"/api/invites/{invite['token']}/accept").status_code == 200


def test_the_limits_are_the_owners_not_the_joiners(app, client, people):
    owner, plus_guest, other = people(3)
    deliver(client, event("evt_guest", user_id=plus_guest.id))
    room = make_room(owner, visibility="listed", listed_tag="tavern").get_json()["room"]
    assert plus_guest.call("POST", f"/api/rooms/{room['id']}/join").status_code == 200
    assert other.call("POST", f"/api/rooms/{room['id']}/join").status_code == 409


def test_two_people_joining_a_room_with_one_place_at_once_get_one_place(app, people):
    import threading
    owner, first, second = people(3)
    room = make_room(owner, visibility="listed", listed_tag="tavern").get_json()["room"]
    barrier, answers = threading.Barrier(2), []

    def join(person):
        barrier.wait()
        answers.append(person.call("POST", f"/api/rooms/{room['id']}/join").status_code)

    threads = [threading.Thread(target=join, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]
    with Session(app.extensions["kindred.db"]) as session:
        assert len(session.exec(select(RoomMember).where(
            RoomMember.room_id == room["id"])).all()) == 2
