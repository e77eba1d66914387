"""What the characters-as-members tests share: people through the real API, a character whose
creator lets it take part, posts about it or by it, and comments on them."""
from sqlmodel import select

from characters.models import Character
from community.models import Comment
from community.posts import create_post
from core.db import session_scope
from core.event_types import CommentAdded

# The operator's action table with every category a comment or post can be allowed in allowed:
# the tiny random-weight model writes token soup, which the classifier would refuse now and
# then. The rules stage still applies its own policy where a test builds a Moderator itself.
LENIENT = {category: {"comment": "allow", "post": "allow"}
           for category in ("sexual", "hate", "harassment", "violent_crime", "privacy", "spam")}


def quiet_config(app_config, **settings):
    """The test app's settings for these tests: the lenient action table, no embedding thread
    per publish, the app's own members subscriber off (tests call it themselves), and
    `settings`."""
    for name, value in {"SAFETY_POLICY": LENIENT, "EMBED_ON_PUBLISH": False,
                        "COMMUNITY_MEMBERS": False, **settings}.items():
        setattr(app_config, name, value)
    return app_config


def taking_part(creator, name="Wren", replies=True, **fields) -> dict:
    """A public character of `creator`, with community_replies as given."""
    made = creator.call("POST", "/api/characters", json={
        "name": name, "description": f"{name} keeps a lighthouse and answers everyone kindly.",
        "first_mes": "Hello there.", **fields}).get_json()["character"]
    creator.call("POST", f"/api/characters/{made['id']}/publish")
    answer = creator.call("PATCH", f"/api/characters/{made['id']}",
                          json={"community_replies": replies})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["character"]


def post_about(author, character_id: int, body="Have you met this one?") -> dict:
    answer = author.call("POST", "/api/posts", json={"kind": "character", "body": body,
                                                     "character_id": character_id})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["post"]


def post_by(app, character_id: int, body="Hello, I'm here.", kind="intro") -> int:
    with session_scope(app.extensions["kindred.db"]) as session:
        post = create_post(session, None, {"kind": kind, "body": body},
                           app.extensions["kindred.moderator"],
                           author_character=session.get(Character, character_id))
        return post.id


def comment(person, post_id: int, body: str, parent_id=None) -> CommentAdded:
    """The comment through the API, and the event the comment service published for it."""
    answer = person.call("POST", f"/api/posts/{post_id}/comments",
                         json={"body": body, "parent_id": parent_id})
    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()["comment"]
    return CommentAdded(comment_id=made["id"], post_id=post_id, author_id=person.id,
                        author_character_id=None, parent_id=made["parent_id"])


def character_comments(app, post_id: int) -> list[Comment]:
    with session_scope(app.extensions["kindred.db"]) as session:
        return list(session.exec(select(Comment).where(Comment.post_id == post_id,
                                                       Comment.author_kind == "character")
                                 .order_by(Comment.id)))

