"""People for moderation tests: each with its own test client (own cookies), signed up through
the real API, some granted a role; and helpers that make chat messages and characters."""
import secrets

import pytest
from sqlmodel import Session

from characters.models import Character
from conversations import service as conversations
from conversations.models import Conversation
from core.auth.roles import grant_role
from core.users import User
from tests.conftest import AuthActions


class Person:
    def __init__(self, app, role="user"):
        self.app = app
        self.client = app.test_client()
        self.auth = AuthActions(self.client)
        response = self.auth.signup(f"p_{secrets.token_hex(4)}")
        self.id = response.get_json()["user"]["id"]
        self.username = self.auth.username
        if role != "user":
            with self.session() as session:
                grant_role(session, self.username, role)

    def session(self) -> Session:
        return Session(self.app.extensions["kindred.db"], expire_on_commit=False)

    def call(self, method, path, **kwargs):
        return self.auth.call(method, path, **kwargs)

    def get(self, path):
        return self.client.get(path)

    def user(self) -> User:
        with self.session() as session:
            return session.get(User, self.id)

    def message(self, content="hello there", role="user") -> int:
        """A message in a new conversation of this person's with character 1."""
        conversation = self.auth.start_conversation(1)
        with self.session() as session:
            found = session.get(Conversation, conversation["id"])
            return conversations.append_message(session, found, role, content).id

    def character(self, visibility="public", name="Moddy") -> int:
        response = self.call("POST", "/api/characters", json={"name": name})
        assert response.status_code == 201, response.get_json()
        character_id = response.get_json()["character"]["id"]
        with self.session() as session:
            character = session.get(Character, character_id)
            character.visibility = visibility
            session.add(character)
            session.commit()
        return character_id


@pytest.fixture
def person(app):
    def make(role="user") -> Person:
        return Person(app, role)
    return make


def act(moderator: Person, action, target_type, target_id, reason="Breaks the rules.", **more):
    return moderator.call("POST", "/api/moderation/actions",
                          json={"action": action, "target_type": target_type,
                                "target_id": target_id, "reason": reason, **more})
