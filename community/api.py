"""Community routes (the community blueprint), thin: parse, call the service, shape the JSON.

    POST   /api/posts/preview {kind, body, ...}      -> {preview}; nothing is stored
    POST   /api/posts {kind, body, conversation_id?, message_ids?, character_id?, story_id?,
                       pull_id?, tags?}               -> 201 {post}
    GET    /api/posts/<id>                           -> {post}
    DELETE /api/posts/<id>                           -> {post} (its author or a moderator)
    GET    /posts/<id>/card.png                      the shareable PNG card
    POST | DELETE /api/posts/<id>/like              -> {post_id, liked, likes}
    POST   /api/posts/<id>/comments {body, parent_id?} -> 201 {comment}
    GET    /api/posts/<id>/comments                  -> {comments: [thread + replies], count}
    PATCH  /api/comments/<id> {body}                 -> {comment}    your own
    DELETE /api/comments/<id>                        -> {comment}    your own, or a moderator
    GET    /api/notifications?limit=&before=         -> {notifications, unread}
    POST   /api/notifications/read {ids?}            -> {marked, unread}
docs/community.md holds the contracts."""
from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user, login_required

from characters.models import Character
from characters.service import avatar_file
from community import comments, likes, notifications, posts
from community.cards import card_lines, post_card
from core.auth.csrf import check_csrf
from core.errors import KindredError, check_known_fields
from core.extensions import limiter
from core.users import User
from core.web.db import db_session
from core.web.request_body import json_body

bp = Blueprint("community", __name__)
CARD_MAX_AGE = 300  # seconds a card may be cached: a deleted post's card goes soon after


@bp.before_request
def _csrf():
    check_csrf()


@bp.post("/api/posts/preview")
@login_required
def preview_post():
    return jsonify({"preview": posts.preview(db_session(), _me(), json_body())})


@bp.post("/api/posts")
@login_required
@limiter.limit(lambda: current_app.config["COMMUNITY_POST_RATE_LIMIT"], scope="community-post",
               key_func=lambda: str(current_user.id))
def create_post():
    session = db_session()
    post = posts.create_post(session, _me(), json_body(), _moderator())
    return jsonify({"post": posts.post_json(session, post, current_user.id)}), 201


@bp.get("/api/posts/<int:post_id>")
def get_post(post_id: int):
    session = db_session()
    post = posts.visible_post(session, post_id, _viewer())
    return jsonify({"post": posts.post_json(session, post, _viewer_id())})


@bp.delete("/api/posts/<int:post_id>")
@login_required
def delete_post(post_id: int):
    session = db_session()
    me = _me()
    post = posts.delete_post(session, posts.visible_post(session, post_id, me), me)
    return jsonify({"post": posts.post_json(session, post, me.id)})


@bp.get("/posts/<int:post_id>/card.png")
def post_card_png(post_id: int):
    session = db_session()
    post = posts.visible_post(session, post_id, _viewer())
    character = session.get(Character, post.character_id or post.author_character_id or 0)
    author = session.get(User, post.author_id) if post.author_id else None
    author_name = (author.display_name or author.username) if author else (
        character.name if character else "")
    avatar = avatar_file(character, current_app.config["INSTANCE_DIR"] / "avatars") \
        if character else None
    title, lines = card_lines(post, character.name if character else None, author_name)
    name_of = current_app.extensions.get("kindred.instance_name")  # the app wires curation's
    png = post_card(avatar.read_bytes() if avatar else None, title, lines,
                    name_of(session) if name_of else current_app.config.get("APP_NAME", "Kindred"))
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = f"private, max-age={CARD_MAX_AGE}"
    return response


@bp.route("/api/posts/<int:post_id>/like", methods=["POST", "DELETE"])
@login_required
def like_post(post_id: int):
    session = db_session()
    post = posts.visible_post(session, post_id, current_user)
    if request.method == "POST":
        return jsonify(likes.like(session, post, current_user.id))
    return jsonify(likes.unlike(session, post, current_user.id))


@bp.post("/api/posts/<int:post_id>/comments")
@login_required
@limiter.limit(lambda: current_app.config["COMMUNITY_COMMENT_RATE_LIMIT"],
               scope="community-comment", key_func=lambda: str(current_user.id))
def add_comment(post_id: int):
    session = db_session()
    body = json_body()
    check_known_fields(body, {"body", "parent_id"}, "a comment has: body, parent_id.")
    me = _me()
    post = posts.visible_post(session, post_id, me)
    made = comments.add_comment(session, post, me, body.get("body"), _moderator(),
                                body.get("parent_id"))
    return jsonify({"comment": comments.one_comment_json(session, made, me.id)}), 201


@bp.get("/api/posts/<int:post_id>/comments")
def list_comments(post_id: int):
    session = db_session()
    post = posts.visible_post(session, post_id, _viewer())
    threads = comments.list_comments(session, post, _viewer())
    return jsonify({"comments": threads, "count": post.comment_count})


@bp.patch("/api/comments/<int:comment_id>")
@login_required
def edit_comment(comment_id: int):
    session = db_session()
    me = _me()
    edited = comments.edit_comment(session, comment_id, me, json_body().get("body"),
                                   _moderator())
    return jsonify({"comment": comments.one_comment_json(session, edited, me.id)})


@bp.delete("/api/comments/<int:comment_id>")
@login_required
def delete_comment(comment_id: int):
    session = db_session()
    me = _me()
    gone = comments.delete_comment(session, comment_id, me)
    return jsonify({"comment": comments.one_comment_json(session, gone, me.id)})


@bp.get("/api/notifications")
@login_required
def list_notifications():
    return jsonify(notifications.list_notifications(
        db_session(), current_user.id, _int_arg("limit"), _int_arg("before")))


@bp.post("/api/notifications/read")
@login_required
def read_notifications():
    ids = json_body(optional=True).get("ids")
    return jsonify(notifications.mark_read(db_session(), current_user.id, ids))


def _me() -> User:
    """The signed-in user's row (standing, age and profile are read from it)."""
    return db_session().get(User, current_user.id)


def _viewer():
    return current_user if current_user.is_authenticated else None


def _viewer_id():
    return current_user.id if current_user.is_authenticated else None


def _moderator():
    return current_app.extensions.get("kindred.moderator")


def _int_arg(name: str):
    value = request.args.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise KindredError("bad_request", f"'{name}' must be a positive whole number.")
    return int(value)
