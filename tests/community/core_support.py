"""Helpers for the community core tests (posts, comments, likes, notifications): people come
from moderation's Person (own client, signed up through the API, maybe a moderator); a shared
exchange is stored through the chat service; counts read the database itself."""
import sqlalchemy as sa
from sqlmodel import Session, select

from characters.models import Character
from community.models import Post
from core.users import User
from tests.moderation.conftest import Person
from tests.support.chat import add_turn

__all__ = ["Person", "exchange", "publish", "chat_post", "count", "make_adult", "set_character",
           "seed_rules"]


def exchange(person: Person, turns=(("Hello!", "Hi there, traveller."),), character_id=1
             ) -> tuple[int, list[int]]:
    """A conversation of `person` with `character_id` holding `turns` (user, reply); returns its
    id and the ids of the turns' messages, in order."""
    conversation = person.auth.start_conversation(character_id)
    ids = []
    for user_text, reply_text in turns:
        question, reply = add_turn(person.app, conversation["id"], user_text, reply_text)
        ids += [question, reply]
    return conversation["id"], ids


def publish(person: Person, **body):
    return person.call("POST", "/api/posts", json=body)


def chat_post(person: Person, body="Look at this", **more) -> dict:
    conversation_id, ids = exchange(person)
    response = publish(person, kind="chat", body=body, conversation_id=conversation_id,
                       message_ids=ids, **more)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["post"]


def count(app, model=Post, *where) -> int:
    with Session(app.extensions["kindred.db"]) as session:
        return session.exec(select(sa.func.count()).select_from(model).where(*where)).one()


def make_adult(person: Person, show_mature=True) -> None:
    with Session(person.app.extensions["kindred.db"]) as session:
        user = session.get(User, person.id)
        user.birth_year = 1980
        session.add(user)
        session.commit()
    if show_mature:
        response = person.call("PUT", "/api/me/discovery", json={"show_mature": True})
        assert response.status_code == 200, response.get_json()


def set_character(app, character_id: int, **fields) -> None:
    with Session(app.extensions["kindred.db"]) as session:
        character = session.get(Character, character_id)
        for name, value in fields.items():
            setattr(character, name, value)
        session.add(character)
        session.commit()


def seed_rules(app) -> None:
    """The shipped operator rules (the test database has none), read by the app's Moderator."""
    from safety.rules import seed_default_rules
    with Session(app.extensions["kindred.db"]) as session:
        seed_default_rules(session)
    app.extensions["kindred.moderator"].rules.invalidate()
