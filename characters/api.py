"""Character routes: the public list, one character, avatars, and card import/export."""
import io

from flask import Blueprint, current_app, jsonify, request, send_file
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from core.auth.csrf import check_csrf
from core.web.db import db_session
from core.errors import KindredError
from characters.cards import CardError
from characters.cards.limits import MAX_FILE_BYTES
from characters.models import Character
from characters.screening import refuse_blocked_card
from core.web.request_body import json_body, upload_route
from characters.versions import publish_character
from characters import remix, sharing
from characters.service import (avatar_file, visible_character, character_detail,
                                character_summary, create_draft, export_character, import_card,
                                list_public_characters, new_character_rating,
                                owned_character, set_visibility, viewer_is_adult,
                                update_character)

bp = Blueprint("characters", __name__)
bp.before_request(check_csrf)

# A multipart body carries a little more than the file itself.
_MULTIPART_SLACK = 64 * 1024


@bp.get("/api/characters")
def list_characters():
    session = db_session()
    viewer = current_user.id if current_user.is_authenticated else None
    return jsonify([character_summary(c) for c in
                    list_public_characters(session, adult=viewer_is_adult(session, viewer))])


@bp.get("/api/characters/<int:character_id>")
def get_character(character_id: int):
    return jsonify({"character": character_detail(_visible(character_id))})


@bp.post("/api/characters/import")
@login_required
@upload_route(lambda config: config.get("MAX_CARD_UPLOAD_BYTES", MAX_FILE_BYTES))
def import_character():
    """multipart `file` (.json, .png or .charx); optional `visibility` in the query or form."""
    limit = current_app.config.get("MAX_CARD_UPLOAD_BYTES", MAX_FILE_BYTES)
    request.max_content_length = limit + _MULTIPART_SLACK
    if request.content_length is not None and request.content_length > limit + _MULTIPART_SLACK:
        raise _too_large(limit)
    try:
        upload = request.files.get("file")
        visibility = request.args.get("visibility") or request.form.get("visibility") or "private"
    except RequestEntityTooLarge:
        raise _too_large(limit) from None
    if upload is None:
        raise KindredError("missing_file", "Send the card as a multipart/form-data field named "
                                           "'file' (.json, .png or .charx).")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    try:
        character = import_card(db_session(), data, upload.filename, owner_id=current_user.id,
                                avatars_dir=_avatars_dir(), visibility=visibility)
    except CardError as exc:
        raise _card_error(exc) from None
    return jsonify({"character": character_detail(character)}), 201


@bp.get("/api/characters/<int:character_id>/export")
def export(character_id: int):
    """?format=json|png|charx (default png) &spec=v2|v3 -> the card file as an attachment."""
    character = _visible(character_id)
    try:
        card_file = export_character(character, request.args.get("format", "png"),
                                     request.args.get("spec"), _avatars_dir())
    except CardError as exc:
        raise _card_error(exc) from None
    response = send_file(io.BytesIO(card_file.data), mimetype=card_file.mimetype,
                         as_attachment=True, download_name=card_file.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/api/characters")
@login_required
def create_character():
    """A private draft from card fields (JSON); publish it when ready."""
    body = json_body()
    if "content_rating" not in body:
        body = {**body, "content_rating": new_character_rating(
            db_session(), current_app.extensions, current_user.id)}
    _refuse_mature_for_minors(body)
    character = create_draft(db_session(), current_user.id, body)
    return jsonify({"character": character_detail(character)}), 201


@bp.patch("/api/characters/<int:character_id>")
@login_required
def edit_character(character_id: int):
    """Card fields and the sharing settings (`allow_remix`, `community_replies`) together:
    everything is checked before anything is stored."""
    session = db_session()
    settings, body = sharing.split_settings(json_body())
    _refuse_mature_for_minors(body)
    character = owned_character(session, current_user.id, character_id)
    if body or not settings:
        if character.visibility != "private":  # others read it: the edit is screened first
            _screen(character, body)
        character = update_character(session, character, body,
                                     level_names=current_app.config["LEVEL_NAMES"])
    sharing.save_settings(session, character.id, settings)
    return jsonify({"character": character_detail(character)})


@bp.post("/api/characters/<int:character_id>/remix")
@login_required
def remix_character(character_id: int):
    """A private draft copy of a character you can see, owned by you; 403 `no_remix` if its
    creator does not allow remixes."""
    character = remix.remix_character(db_session(), current_user.id, character_id)
    return jsonify({"character": character_detail(character)}), 201


@bp.get("/api/characters/<int:character_id>/lineage")
def lineage(character_id: int):
    viewer = current_user.id if current_user.is_authenticated else None
    return jsonify(remix.lineage(db_session(), character_id, viewer))


@bp.post("/api/characters/<int:character_id>/publish")
@login_required
def publish(character_id: int):
    """Body (optional) {"visibility": "public" | "unlisted"}; default public."""
    visibility = json_body(optional=True).get("visibility", "public")
    if visibility not in ("public", "unlisted"):
        raise KindredError("bad_visibility", "Publish as 'public' or 'unlisted'; use "
                                             "POST .../unpublish to make it private again.")
    session = db_session()
    character = owned_character(session, current_user.id, character_id)
    _screen(character)
    version = publish_character(session, character, visibility)
    return jsonify({"character": character_detail(character), "version": version.version})


@bp.post("/api/characters/<int:character_id>/unpublish")
@login_required
def unpublish(character_id: int):
    return _set_visibility(character_id, "private")


@bp.get("/characters/<int:character_id>/avatar.png")
def avatar(character_id: int):
    path = avatar_file(_visible(character_id), _avatars_dir())
    return send_file(path, mimetype="image/png", max_age=3600)


def _screen(character: Character, values: dict | None = None) -> None:
    session = db_session()
    refuse_blocked_card(session, current_app.extensions.get("kindred.moderator"), character,
                        current_user.id, values,
                        creator_is_adult=viewer_is_adult(session, current_user.id))


def _refuse_mature_for_minors(body: dict) -> None:
    if body.get("content_rating") == "mature" and not viewer_is_adult(db_session(),
                                                                      current_user.id):
        raise KindredError("age_restricted", "Only adults can make mature characters; give your "
                                             "birth year first (POST /api/me/age).", 403)


def _visible(character_id: int) -> Character:
    viewer = current_user.id if current_user.is_authenticated else None
    return visible_character(db_session(), character_id, viewer)


def _set_visibility(character_id: int, visibility: str):
    session = db_session()
    character = owned_character(session, current_user.id, character_id)
    return jsonify({"character": character_detail(set_visibility(session, character,
                                                                 visibility))})


def _avatars_dir():
    return current_app.config["INSTANCE_DIR"] / "avatars"


def _card_error(exc: CardError) -> KindredError:
    return KindredError(exc.code, exc.message, 413 if exc.code == "file_too_large" else 400)


def _too_large(limit: int) -> KindredError:
    return KindredError("file_too_large", f"Card files are at most {limit // 2**20} MB "
                                          f"({limit:,} bytes); this upload is larger.", 413)

