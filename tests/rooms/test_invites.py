"""Invite links: the defaults (one use, seven days), joining through one, and the invites that
are refused (expired, used up, unknown) with nothing changed."""
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from core.db import utcnow
from rooms.models import RoomInvite
from tests.rooms import rooms_support
from tests.rooms.rooms_support import make_room, room_rows
from tests.support.users import update_user

people = rooms_support.people


def invite(owner, room_id, **body):
    response = owner.call("POST", f"/api/rooms/{room_id}/invites", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def accept(person, token):
    return person.call("POST", f"/api/invites/{token}/accept")


def test_an_invite_is_one_use_for_seven_days_by_default(people):
    owner, = people(1)
    room = make_room(owner)
    made = invite(owner, room["id"])
    assert made["max_uses"] == 1 and made["uses"] == 0
    assert made["url"].endswith(f"/invite/{made['token']}")
    expires = datetime.fromisoformat(made["expires_at"])
    assert timedelta(days=7) - timedelta(minutes=1) < expires - utcnow() <= timedelta(days=7)
    assert len(made["token"]) >= 32


def test_the_invite_link_opens_a_page_and_accepting_joins_the_room(people):
    owner, guest = people(2)
    room = make_room(owner)
    made = invite(owner, room["id"])
    assert guest.get(f"/invite/{made['token']}").status_code == 200
    response = accept(guest, made["token"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["joined"] is True and body["room"]["id"] == room["id"]
    roles = {m["user_id"]: m["role"] for m in body["room"]["members"]}
    assert roles == {owner.id: "owner", guest.id: "member"}
    assert guest.get(f"/api/rooms/{room['id']}").status_code == 200


def test_a_member_accepting_again_spends_no_use(app, people):
    owner, guest, late = people(3)
    room = make_room(owner)
    made = invite(owner, room["id"], max_uses=2)
    assert accept(guest, made["token"]).status_code == 200
    again = accept(guest, made["token"])
    assert again.status_code == 200 and again.get_json()["joined"] is False
    assert accept(owner, made["token"]).get_json()["joined"] is False
    assert accept(late, made["token"]).get_json()["joined"] is True
    with Session(app.extensions["kindred.db"]) as session:
        assert session.get(RoomInvite, made["token"]).uses == 2


@pytest.mark.both_databases
def test_an_invite_past_its_uses_is_refused_and_nothing_changes(app, people):
    owner, first, second = people(3)
    room = make_room(owner)
    made = invite(owner, room["id"])
    assert accept(first, made["token"]).status_code == 200
    before = room_rows(app)
    response = accept(second, made["token"])
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "invite_used_up"
    assert room_rows(app) == before
    assert second.get(f"/api/rooms/{room['id']}").status_code == 404


def test_an_expired_invite_is_refused_and_nothing_changes(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    made = invite(owner, room["id"], max_uses=5, expires_in_hours=1)
    with Session(app.extensions["kindred.db"]) as session:
        row = session.get(RoomInvite, made["token"])
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
    before = room_rows(app)
    response = accept(guest, made["token"])
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "invite_expired"
    assert room_rows(app) == before


def test_an_unknown_invite_is_not_found(app, people):
    guest, = people(1)
    before = room_rows(app)
    response = accept(guest, "no-such-token")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "invite_not_found"
    assert room_rows(app) == before


def test_only_members_make_invites(app, people):
    owner, stranger = people(2)
    room = make_room(owner)
    before = room_rows(app)
    response = stranger.call("POST", f"/api/rooms/{room['id']}/invites", json={})
    assert response.status_code == 404 and room_rows(app) == before


@pytest.mark.parametrize("body", [{"max_uses": 0}, {"max_uses": 1000}, {"max_uses": "3"},
                                  {"expires_in_hours": -1}, {"expires_in_hours": 24 * 365},
                                  {"max_uses": True}])
def test_bad_invite_settings_are_refused(app, people, body):
    owner, = people(1)
    room = make_room(owner)
    before = room_rows(app)
    response = owner.call("POST", f"/api/rooms/{room['id']}/invites", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_field"
    assert room_rows(app) == before


def test_a_suspended_person_cannot_join_through_an_invite(app, people):
    owner, guest = people(2)
    room = make_room(owner)
    made = invite(owner, room["id"])
    update_user(app.extensions["kindred.db"], guest.username,
                suspended_until=utcnow() + timedelta(days=2))
    before = room_rows(app)
    response = accept(guest, made["token"])
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "suspended"
    assert room_rows(app) == before
