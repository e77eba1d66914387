"""Fixtures for relationships: a session on the test app's database, the seeded story, helpers."""
import pytest

from core.db import session_scope
from conversations.models import Conversation, Message
from core.users import User
from characters.models import Character
from relationships.seed import seed_stories
from tests.support.chat import add_turn


@pytest.fixture
def db(app):
    return app.extensions["kindred.db"]


@pytest.fixture
def story_app(app, db):
    """The app with the seeded Bramble story (as `python -m app.setup seed` gives it)."""
    with session_scope(db) as session:
        seed_stories(session)
    return app


def user_id_of(app, username):
    from sqlmodel import select
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(select(User.id).where(User.username == username)).one()


def character_id(app, name):
    from sqlmodel import select
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(select(Character.id).where(Character.name == name)).one()


def user_message(app, conversation_id, text):
    """Store a user message and a reply; return the user message (detached)."""
    question_id, _ = add_turn(app, conversation_id, text, "A reply.")
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.get(Message, question_id)


def set_extensions(app, character_id_, **changes):
    with session_scope(app.extensions["kindred.db"]) as session:
        character = session.get(Character, character_id_)
        character.extensions = {**(character.extensions or {}), **changes}
        session.add(character)
        session.commit()


def conversation_owner(app, conversation_id):
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.get(Conversation, conversation_id).user_id
