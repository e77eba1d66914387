"""Character routes: the public list, one character, and avatars."""
from flask import Blueprint, current_app, jsonify, send_file
from flask_login import current_user

from app.database import db_session
from app.errors import not_found
from characters.models import Character
from characters.service import (avatar_file, character_detail, character_summary,
                                list_public_characters)

bp = Blueprint("characters", __name__)


@bp.get("/api/characters")
def list_characters():
    return jsonify([character_summary(c) for c in list_public_characters(db_session())])


@bp.get("/api/characters/<int:character_id>")
def get_character(character_id: int):
    return jsonify({"character": character_detail(_visible(character_id))})


@bp.get("/characters/<int:character_id>/avatar.png")
def avatar(character_id: int):
    path = avatar_file(_visible(character_id), current_app.config["INSTANCE_DIR"] / "avatars")
    return send_file(path, mimetype="image/png", max_age=3600)


def _visible(character_id: int) -> Character:
    character = db_session().get(Character, character_id)
    owner = current_user.is_authenticated and character and character.creator_id == current_user.id
    if character is None or (character.visibility == "private" and not owner):
        raise not_found("character")
    return character
