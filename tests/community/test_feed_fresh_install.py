"""A fresh install: no character has been embedded yet (nobody has opened /discover), and the
for-you tab still answers, from engagement and freshness, instead of failing."""
from sqlmodel import Session, select

from discovery.models import CharacterEmbedding
from tests.community.core_support import chat_post


def test_for_you_answers_before_any_character_is_embedded(app, alice, bob):
    with Session(app.extensions["kindred.db"]) as session:
        assert session.exec(select(CharacterEmbedding)).first() is None
    post = chat_post(alice)
    response = bob.get("/api/feed?tab=for_you")
    assert response.status_code == 200, response.get_json()
    assert [p["id"] for p in response.get_json()["posts"]] == [post["id"]]
