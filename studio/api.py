"""Creator and community routes (the studio blueprint):

    GET  /api/me/characters                          the signed-in creator's characters
    GET  /api/characters/<id>/studio                 creator only: every field, whole lorebook
    GET  /api/characters/<id>/versions               creator only, newest first
    GET  /api/characters/<id>/versions/<n>           creator only, with the snapshot
    POST /api/characters/<id>/versions/<n>/restore   creator only
    POST|DELETE /api/characters/<id>/avatar          multipart `file` (PNG/JPEG/WebP) | generated
    POST|DELETE /api/characters/<id>/follow|like     -> {followers, likes, following, liked}
    GET  /api/characters/<id>/engagement             the same, without changing anything
    GET  /api/characters/<id>/stats                  creator only: totals, a 7-day trend, remixes
    GET  /api/creators/<username>                    public profile with public characters
    POST|DELETE /api/creators/<username>/follow
    GET  /api/search?q=&tag=&limit=&offset=          public characters, best match first
    GET  /api/trending?limit=                        time-decayed engagement
    GET  /api/messages/<id>/prompt                   prompt inspector (creator or chat owner)
Pages: /studio, /studio/<id>, /creators/<username>, /search, /tags/<tag>."""
from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required
from sqlmodel import select
from werkzeug.exceptions import RequestEntityTooLarge

from core.web.db import db_session
from core.errors import KindredError
from core.web.pages import page_login_required
from core.web.request_body import upload_route
from characters import remix, social, uploads, versions
from characters.screening import refuse_blocked_card
from core.auth.csrf import check_csrf
from studio import dashboard, search
from conversations.inspector import prompt_report
from characters.models import Character
from characters.service import (character_detail, character_summary, new_character_rating,
                                owned_character, viewer_is_adult, visible_character)

log = __import__("logging").getLogger(__name__)

bp = Blueprint("studio", __name__)
bp.before_request(check_csrf)


@bp.get("/api/me/characters")
@login_required
def my_characters():
    session = db_session()
    owned = session.exec(select(Character).where(Character.creator_id == current_user.id)
                         .order_by(Character.updated_at.desc(), Character.id.desc()))
    return jsonify({"characters": [{**character_summary(c), "visibility": c.visibility,
                                    "version": versions.latest_version_number(session, c.id)}
                                   for c in owned]})


@bp.get("/api/characters/<int:character_id>/studio")
@login_required
def studio_data(character_id: int):
    """Everything the studio edits, including the whole lorebook (creator only)."""
    session = db_session()
    character = owned_character(session, current_user.id, character_id)
    return jsonify({"character": {**character_detail(character),
                                  "character_book": character.character_book},
                    "version": versions.latest_version_number(session, character.id)})


@bp.get("/api/characters/<int:character_id>/versions")
@login_required
def list_versions(character_id: int):
    session = db_session()
    character = owned_character(session, current_user.id, character_id)
    return jsonify({"versions": [versions.version_payload(v)
                                 for v in versions.list_versions(session, character.id)]})


@bp.get("/api/characters/<int:character_id>/versions/<int:number>")
@login_required
def get_version(character_id: int, number: int):
    session = db_session()
    character = owned_character(session, current_user.id, character_id)
    found = [v for v in versions.list_versions(session, character.id) if v.version == number]
    if not found:
        raise KindredError("not_found", "No version with that number exists.", 404)
    return jsonify({"version": versions.version_payload(found[0], full=True)})


@bp.post("/api/characters/<int:character_id>/versions/<int:number>/restore")
@login_required
def restore_version(character_id: int, number: int):
    session = db_session()
    character = owned_character(session, current_user.id, character_id)
    adult = viewer_is_adult(session, current_user.id)
    moderator = current_app.extensions.get("kindred.moderator")
    character = versions.restore_version(
        session, character, number,
        screen=lambda values: refuse_blocked_card(session, moderator, character,
                                                  current_user.id, values, adult))
    return jsonify({"character": character_detail(character),
                    "version": versions.latest_version_number(session, character.id)})


@bp.post("/api/characters/<int:character_id>/avatar")
@login_required
@upload_route(lambda _config: uploads.MAX_AVATAR_BYTES)
def upload_avatar(character_id: int):
    limit = uploads.MAX_AVATAR_BYTES
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise KindredError("file_too_large", f"Avatars are at most {limit // 2**20} MB.", 413)
    session = db_session()
    character = owned_character(session, current_user.id, character_id)
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise KindredError("file_too_large", f"Avatars are at most {limit // 2**20} MB.",
                           413) from None
    if upload is None:
        raise KindredError("missing_file", "Send the image as a multipart/form-data field named "
                                           "'file' (PNG, JPEG or WebP).")
    data = upload.read(limit + 1)
    character = uploads.set_avatar(session, character, data, _avatars_dir())
    return jsonify({"character": character_detail(character),
                    "avatar_url": _avatar_url(character)}), 201


@bp.delete("/api/characters/<int:character_id>/avatar")
@login_required
def reset_avatar(character_id: int):
    session = db_session()
    character = uploads.reset_avatar(session, owned_character(session, current_user.id,
                                                              character_id))
    return jsonify({"character": character_detail(character), "avatar_url": _avatar_url(character)})


@bp.route("/api/characters/<int:character_id>/<any(follow, like):kind>", methods=["POST", "DELETE"])
@login_required
def mark_character(character_id: int, kind: str):
    character = _visible(character_id)
    return jsonify(social.set_character_mark(db_session(), current_user.id, character, kind,
                                             on=request.method == "POST"))


@bp.get("/api/characters/<int:character_id>/engagement")
def engagement(character_id: int):
    character = _visible(character_id)
    return jsonify(social.character_marks(db_session(), character.id, _viewer_id()))


@bp.get("/api/characters/<int:character_id>/stats")
@login_required
def stats(character_id: int):
    session = db_session()
    character = owned_character(session, current_user.id, character_id)
    return jsonify({**dashboard.character_stats(
                        session, character.id, character.creator_id,
                        paid_sales=current_app.extensions.get("kindred.paid_sales")),
                    "remixes": remix.remix_summary(session, character.id, current_user.id)})


@bp.get("/api/creators/<username>")
def creator_profile(username: str):
    session = db_session()
    creator = social.creator_by_username(session, username)
    return jsonify({"creator": social.creator_profile(session, creator, _viewer_id())})


@bp.route("/api/creators/<username>/follow", methods=["POST", "DELETE"])
@login_required
def follow_creator(username: str):
    session = db_session()
    creator = social.creator_by_username(session, username)
    return jsonify(social.set_creator_follow(session, current_user.id, creator,
                                             on=request.method == "POST"))


@bp.get("/api/search")
def search_route():
    session = db_session()
    results = search.search_characters(session, request.args.get("q", ""),
                                       request.args.get("tag", ""),
                                       limit=_int_arg("limit", 20), offset=_int_arg("offset", 0),
                                       adult=viewer_is_adult(session, _viewer_id()))
    return jsonify({"results": [_card(c) for c in results]})


@bp.get("/api/trending")
def trending_route():
    session = db_session()
    ranked = search.trending(session, limit=_int_arg("limit", 20),
                             adult=viewer_is_adult(session, _viewer_id()))
    return jsonify({"results": [{**_card(c), "score": score} for c, score in ranked]})


@bp.get("/api/messages/<int:message_id>/prompt")
@login_required
def inspect_prompt(message_id: int):
    return jsonify({"prompt": prompt_report(db_session(), current_user.id, message_id)})


@bp.get("/studio")
@page_login_required
def studio_page():
    return render_template("studio.html", character_id=None, default_rating=new_character_rating(
        db_session(), current_app.extensions, current_user.id))


@bp.get("/studio/<int:character_id>")
@page_login_required
def studio_edit_page(character_id: int):
    owned_character(db_session(), current_user.id, character_id)  # 404 if not ours
    return render_template("studio.html", character_id=character_id)


@bp.get("/creators/<username>")
def creator_page(username: str):
    creator = social.creator_by_username(db_session(), username)
    return render_template("creator.html", username=creator.username,
                           display_name=creator.display_name, bio=creator.bio)


@bp.get("/search")
def search_page():
    return render_template("search.html", tag="", q=request.args.get("q", ""))


@bp.get("/tags/<tag>")
def tag_page(tag: str):
    return render_template("search.html", tag=search.clean_tag(tag), q="")


def _visible(character_id: int) -> Character:
    return visible_character(db_session(), character_id, _viewer_id())


def _avatars_dir():
    return current_app.config["INSTANCE_DIR"] / "avatars"


def _card(character: Character) -> dict:
    return {**character_summary(character), "creator": character.creator,
            "description": (character.description or "")[:300]}


def _avatar_url(character: Character) -> str:
    return f"{character_summary(character)['avatar_url']}?v={int(character.updated_at.timestamp())}"


def _viewer_id():
    return current_user.id if current_user.is_authenticated else None


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise KindredError("bad_request", f"'{name}' must be a whole number.") from None
    if value < 0 or value > 10_000:
        raise KindredError("bad_request", f"'{name}' must be between 0 and 10000.")
    return value
