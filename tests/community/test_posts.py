"""Posts: the preview masks private details and stores nothing; each kind is published from
what its author owns or may see; reading, deleting and the PNG card; bad input changes
nothing."""
import io

import pytest
from PIL import Image
from sqlmodel import Session

from community.models import Post
from gacha import banners, ledger
from gacha.pulls import draw
from relationships.models import StoryProgress
from relationships.seed import seed_stories
from tests.community.core_support import Person, chat_post, count, exchange, make_adult, \
    publish, seed_rules, set_character
from tests.support.chat import add_turn

PRIVATE = "Write to me at jo.bloggs@example.com or call +44 20 7946 0958, I live at 221 Baker Street"


def test_the_preview_masks_private_details_in_excerpt_and_caption_and_stores_nothing(app, alice):
    conversation_id, ids = exchange(alice, [(PRIVATE, "I will remember that."),
                                            ("Thanks!", "Anytime.")])
    response = alice.call("POST", "/api/posts/preview", json={
        "kind": "chat", "body": "Mail me: me@example.org", "conversation_id": conversation_id,
        "message_ids": ids[:2]})
    assert response.status_code == 200, response.get_json()
    preview = response.get_json()["preview"]
    said = preview["excerpt"][0]["content"]
    assert "jo.bloggs@example.com" not in said and "[email hidden]" in said
    assert "7946" not in said and "[phone hidden]" in said
    assert "Baker Street" not in said and "[address hidden]" in said
    assert preview["body"] == "Mail me: [email hidden]"
    assert preview["masked"] == ["email", "phone", "address"]
    assert [line["role"] for line in preview["excerpt"]] == ["user", "character"]
    name = alice.get("/api/characters/1").get_json()["character"]["name"]
    assert preview["excerpt"][1] == {"role": "character", "name": name,
                                     "content": "I will remember that."}
    assert preview["excerpt"][0]["name"] == alice.username
    assert count(app) == 0


@pytest.mark.both_databases
def test_a_chat_post_shows_the_picked_messages_in_order_to_everyone(app, alice, bob):
    conversation_id, ids = exchange(alice, [("First question", "First answer"),
                                            ("Second question", "Second answer")])
    response = publish(alice, kind="chat", body="Best chat ever", conversation_id=conversation_id,
                       message_ids=[ids[3], ids[0], ids[1]], tags=["#Cozy", "fantasy"])
    assert response.status_code == 201, response.get_json()
    post = response.get_json()["post"]
    assert [line["content"] for line in post["excerpt"]] == ["First question", "First answer",
                                                             "Second answer"]
    assert post["author"]["username"] == alice.username and post["author_kind"] == "user"
    assert post["character"]["id"] == 1 and post["tags"] == ["cozy", "fantasy"]
    assert (post["likes"], post["comments"], post["liked"]) == (0, 0, False)
    assert post["status"] == "published" and not post["in_review"]
    seen = bob.get(f"/api/posts/{post['id']}")
    assert seen.status_code == 200
    assert seen.get_json()["post"]["excerpt"] == post["excerpt"]
    assert seen.get_json()["post"]["mine"] is False
    assert app.test_client().get(f"/api/posts/{post['id']}").status_code == 200  # signed out


def test_only_your_own_conversation_can_be_shared(app, alice, bob):
    conversation_id, ids = exchange(alice)
    response = publish(bob, kind="chat", conversation_id=conversation_id, message_ids=ids)
    assert response.status_code == 404
    assert count(app) == 0


def test_a_message_from_another_conversation_is_404_and_nothing_is_stored(app, alice):
    conversation_id, ids = exchange(alice)
    _other_conversation, other_ids = exchange(alice)
    for message_ids in ([ids[0], other_ids[0]], [ids[0], 2_000_000]):
        response = publish(alice, kind="chat", conversation_id=conversation_id,
                           message_ids=message_ids)
        assert response.status_code == 404, response.get_json()
    assert count(app) == 0


def test_a_blocked_message_cannot_be_shared(app, alice):
    conversation_id, ids = exchange(alice)
    with Session(app.extensions["kindred.db"]) as session:
        from conversations.models import Message
        message = session.get(Message, ids[0])
        message.status = "blocked"
        session.add(message)
        session.commit()
    response = publish(alice, kind="chat", conversation_id=conversation_id, message_ids=ids)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "message_not_shareable"
    assert count(app) == 0


def test_a_character_post_needs_a_character_everyone_may_see(app, alice, bob):
    private = alice.character(visibility="private", name="Secret")
    assert publish(bob, kind="character", character_id=private).status_code == 404
    assert publish(alice, kind="character", character_id=private).status_code == 404
    assert publish(alice, kind="character", character_id=2_000_000).status_code == 404
    assert count(app) == 0
    public = alice.character(visibility="public", name="Open Book")
    response = publish(bob, kind="character", character_id=public, body="Meet this one")
    assert response.status_code == 201
    assert response.get_json()["post"]["character"]["name"] == "Open Book"


def test_a_mature_characters_post_is_mature_and_only_for_those_who_turned_it_on(app, alice, bob):
    make_adult(alice)
    character_id = alice.character(name="Velvet")
    set_character(app, character_id, content_rating="mature")
    response = publish(alice, kind="character", character_id=character_id)
    assert response.status_code == 201, response.get_json()
    post = response.get_json()["post"]
    assert post["content_rating"] == "mature"
    assert bob.get(f"/api/posts/{post['id']}").status_code == 404  # no birth year: a minor
    make_adult(bob, show_mature=False)
    assert bob.get(f"/api/posts/{post['id']}").status_code == 404
    make_adult(bob, show_mature=True)
    assert bob.get(f"/api/posts/{post['id']}").status_code == 200
    assert bob.get(f"/posts/{post['id']}/card.png").status_code == 200


def test_a_card_post_needs_a_pull_of_your_own(app, alice, bob):
    with Session(app.extensions["kindred.db"], expire_on_commit=False) as session:
        banner = banners.seed_gacha(session)
        ledger.admin_grant(session, alice.id, "gems", 1000, "fund-alice")
        pull = draw(session, alice.id, banner.id, 1, "draw-alice").pulls[0]
    assert publish(bob, kind="card", pull_id=pull.id).status_code == 404
    response = publish(alice, kind="card", pull_id=pull.id, body="Finally!")
    assert response.status_code == 201, response.get_json()
    post = response.get_json()["post"]
    assert post["card"]["pull_id"] == pull.id and post["card"]["rarity"] == pull.rarity
    assert post["character"]["id"] == post["card"]["character_id"]
    assert count(app) == 1


def test_a_story_post_needs_a_story_you_played(app, alice, bob):
    with Session(app.extensions["kindred.db"]) as session:
        seed_stories(session)
    character_id = next(c["id"] for c in alice.get("/api/characters").get_json()
                        if c["name"] == "Bramble")
    story = alice.get(f"/api/characters/{character_id}/stories").get_json()["stories"][0]
    assert publish(alice, kind="story", story_id=story["id"]).status_code == 404
    started = alice.call("POST", f"/api/stories/{story['id']}/start")
    assert started.status_code in (200, 201), started.get_json()
    with Session(app.extensions["kindred.db"]) as session:
        progress = session.query(StoryProgress).filter_by(user_id=alice.id).one()
        conversation_id = progress.conversation_id
    _q, reply = add_turn(app, conversation_id, "I open the door.", "The wind howls.")
    response = publish(alice, kind="story", story_id=story["id"], body="My run",
                       conversation_id=conversation_id, message_ids=[reply])
    assert response.status_code == 201, response.get_json()
    post = response.get_json()["post"]
    assert post["story"]["id"] == story["id"] and post["excerpt"][0]["content"] == "The wind howls."
    other_conversation, other_ids = exchange(alice, character_id=character_id)
    wrong = publish(alice, kind="story", story_id=story["id"], conversation_id=other_conversation,
                    message_ids=other_ids)
    assert wrong.status_code == 404
    assert publish(bob, kind="story", story_id=story["id"]).status_code == 404
    assert count(app) == 1


@pytest.mark.parametrize("body, code, status", [
    ({"kind": "poem", "body": "hi"}, "bad_kind", 400),
    ({"body": "no kind"}, "bad_kind", 400),
    ({"kind": "text", "body": "   "}, "empty_body", 400),
    ({"kind": "text"}, "empty_body", 400),
    ({"kind": "text", "body": "x" * 2001}, "body_too_long", 400),
    ({"kind": "text", "body": 5}, "bad_body", 400),
    ({"kind": "text", "body": "hi", "colour": "red"}, "unknown_field", 400),
    ({"kind": "text", "body": "hi", "pull_id": 1}, "field_not_for_kind", 400),
    ({"kind": "text", "body": "hi", "tags": ["a", "b", "c", "d", "e", "f"]}, "too_many_tags", 400),
    ({"kind": "text", "body": "hi", "tags": ["two words"]}, "bad_tag", 400),
    ({"kind": "text", "body": "hi", "tags": "cozy"}, "bad_tags", 400),
    ({"kind": "character"}, "missing_field", 400),
    ({"kind": "character", "character_id": "1"}, "bad_request", 400),
    ({"kind": "chat", "conversation_id": 1, "message_ids": []}, "missing_messages", 400),
    ({"kind": "chat", "conversation_id": 1, "message_ids": list(range(1, 14))},
     "too_many_messages", 400),
    ({"kind": "card", "pull_id": 999999}, "not_found", 404),
    ({"kind": "text", "body": "go die", "tags": ["x"]}, "blocked_content", 422),
])
def test_bad_posts_are_refused_and_nothing_is_stored(app, alice, body, code, status):
    seed_rules(app)
    for path in ("/api/posts/preview", "/api/posts"):
        response = alice.call("POST", path, json=body)
        if path.endswith("preview") and code == "blocked_content":
            continue  # the preview masks; only publishing runs the whole check
        assert response.status_code == status, (path, response.get_json())
        assert response.get_json()["error"]["code"] == code
    assert count(app) == 0


def test_a_text_post_with_tags_and_an_optional_character(app, alice):
    response = publish(alice, kind="text", body="Who else loves this one?", tags=["fans"],
                       character_id=1)
    assert response.status_code == 201
    post = response.get_json()["post"]
    assert post["kind"] == "text" and post["character"]["id"] == 1 and post["excerpt"] == []


def test_posting_needs_a_sign_in_and_good_standing(app, alice):
    anonymous = app.test_client()
    assert anonymous.post("/api/posts", json={"kind": "text", "body": "hi"}).status_code in (
        401, 403)
    from datetime import timedelta
    from core.db import utcnow
    from tests.support.users import update_user
    update_user(app.extensions["kindred.db"], alice.username,
                suspended_until=utcnow() + timedelta(days=2))
    response = publish(alice, kind="text", body="hi")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "suspended"
    assert count(app) == 0


def test_the_author_or_a_moderator_deletes_a_post_and_then_it_is_gone(app, alice, bob):
    first, second = chat_post(alice), chat_post(alice)
    refused = bob.call("DELETE", f"/api/posts/{first['id']}")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_yours"
    assert alice.call("DELETE", f"/api/posts/{first['id']}").status_code == 200
    moderator = Person(app, "moderator")
    assert moderator.call("DELETE", f"/api/posts/{second['id']}").status_code == 200
    for post in (first, second):
        for reader in (alice, bob, moderator):
            assert reader.get(f"/api/posts/{post['id']}").status_code == 404
        assert alice.get(f"/posts/{post['id']}/card.png").status_code == 404
        assert alice.call("DELETE", f"/api/posts/{post['id']}").status_code == 404
    assert count(app, Post, Post.status == "deleted") == 2


def test_the_card_is_a_png_with_the_exchange(app, alice, bob):
    post = chat_post(alice, body="A caption that is long enough to wrap " * 6)
    response = bob.get(f"/posts/{post['id']}/card.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (1200, 630)
    # Not a blank picture: the avatar and the text put many colours on it.
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 500
    assert bob.get("/posts/999999/card.png").status_code == 404


def test_a_post_about_a_character_made_private_later_is_hidden_from_others(app, alice, bob):
    character_id = alice.character(visibility="public", name="Fleeting")
    post = publish(alice, kind="character", character_id=character_id).get_json()["post"]
    set_character(app, character_id, visibility="private")
    assert bob.get(f"/api/posts/{post['id']}").status_code == 404
    assert alice.get(f"/api/posts/{post['id']}").status_code == 200
