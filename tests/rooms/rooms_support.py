"""People and rooms for the rooms REST tests: each person has their own test client (moderation's
Person), and rooms are made through the real API."""
import pytest
from sqlmodel import Session, select

from rooms.models import Room, RoomCharacter, RoomInvite, RoomMember, RoomMessage
from rooms import service
from tests.moderation.conftest import Person

__all__ = ["Person", "join", "make_room", "room_rows", "say", "people"]


@pytest.fixture
def people(app):
    """people(n): n signed-up people, each with their own cookies."""
    return lambda n=1: [Person(app) for _ in range(n)]


def make_room(owner, **body) -> dict:
    body = {"title": "The Lantern Inn", "character_ids": [1, 2], **body}
    response = owner.call("POST", "/api/rooms", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["room"]


def join(owner, guest, room_id) -> None:
    invite = owner.call("POST", f"/api/rooms/{room_id}/invites", json={}).get_json()
    response = guest.call("POST", f"/api/invites/{invite['token']}/accept")
    assert response.status_code == 200, response.get_json()


def say(app, room_id, content, **fields) -> int:
    """A stored room message, as the socket layer stores one."""
    with Session(app.extensions["kindred.db"]) as session:
        message = service.store_message(session, room_id, fields.pop("speaker", "user"), content,
                                        **fields)
        session.commit()
        return message.id


def room_rows(app) -> dict:
    """Every rooms table's rows as plain tuples: compared before and after a refused request."""
    tables = {"rooms": Room, "members": RoomMember, "characters": RoomCharacter,
              "invites": RoomInvite, "messages": RoomMessage}
    with Session(app.extensions["kindred.db"]) as session:
        return {name: sorted(repr(sorted(row.model_dump().items()))
                             for row in session.exec(select(model)))
                for name, model in tables.items()}
