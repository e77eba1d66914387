"""Characters: listing what a user may see, avatars, card import/export, and the seeded demo
cast. No Flask here."""
import copy
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from core import events
from core.db import utcnow
from core.event_types import CharacterChanged, CharacterCreated
from core.errors import KindredError, check_known_fields, not_found
from core.users import User, is_adult
from characters.avatars import generate_avatar
from characters.cards import Card, CardError, export_card, from_dict, parse_card_file
from characters.cards import fields as card_fields
from characters.cards.jsontext import check_depth
from characters.images import ImageRefused, clean_image
from characters.models import Character
from characters.sharing import sharing_fields
from characters.seed_data import SEED_CHARACTERS
from characters.stories import STORIES_EXTENSION, check_stories

CARD_FIELDS = ("name", "tagline", "description", "personality", "scenario", "first_mes",
               "mes_example", "creator_notes", "system_prompt", "post_history_instructions",
               "alternate_greetings", "tags", "language", "content_rating")


def listed(adult: bool):
    """What every public list shows: public characters moderation has not hidden, and mature
    ones only to adults (core.users.is_adult)."""
    clauses = [Character.visibility == "public", Character.moderation_hidden.is_(False)]
    if not adult:
        clauses.append(Character.content_rating != "mature")
    return sa.and_(*clauses)


def viewer_is_adult(session: Session, viewer_id: Optional[int]) -> bool:
    """Signed out, or signed in without a known birth year of 18+: not an adult."""
    user = session.get(User, viewer_id) if viewer_id is not None else None
    return user is not None and is_adult(user)


def age_allows(session: Session, character: Character, viewer_id: Optional[int]) -> bool:
    """Mature characters are for adults (and their own creator) only."""
    return character.content_rating != "mature" or (viewer_id is not None and (
        character.creator_id == viewer_id or viewer_is_adult(session, viewer_id)))


def list_public_characters(session: Session, adult: bool = False) -> list[Character]:
    query = select(Character).where(listed(adult)).order_by(Character.id)
    return list(session.exec(query))


def character_summary(character: Character) -> dict:
    return {"id": character.id, "name": character.name, "tagline": character.tagline,
            "tags": list(character.tags or []), "avatar_url": avatar_url(character)}


def character_detail(character: Character) -> dict:
    """Every card field, plus the sharing settings and, for a remix, `remixed_from` (read through
    the session the character was loaded in, so every caller shows them)."""
    book = character.character_book or {}
    return {**character_summary(character),
            **{f: getattr(character, f) for f in CARD_FIELDS if f not in ("name", "tagline", "tags")},
            "creator": character.creator, "character_version": character.character_version,
            "visibility": character.visibility, "creator_id": character.creator_id,
            "lorebook_entries": len(book.get("entries") or []),
            **sharing_fields(object_session(character), character.id)}


def avatar_url(character: Character) -> str:
    return f"/characters/{character.id}/avatar.png"


def avatar_file(character: Character, avatars_dir: Path) -> Path:
    """The character's avatar on disk, generated from its name the first time it is asked for."""
    path = avatars_dir / (character.avatar_filename or f"generated-{character.id}.png")
    if not path.exists():
        avatars_dir.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a request in another thread that finds the path reads a
        # whole PNG, never one still being written (a card's art is drawn from it).
        temporary = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        temporary.write_bytes(generate_avatar(character.name))
        temporary.replace(path)
    return path


VISIBILITIES = ("public", "unlisted", "private")
# Kindred's own fields travel in the card under this namespaced extensions key, so they survive a
# trip through other apps; V3-only fields ride under characters.cards.V3_COMPAT_EXTENSION.
PROFILE_EXTENSION = "kindred/profile"
PROFILE_DEFAULTS = {"tagline": "", "content_rating": "sfw", "language": "en"}
CONTENT_RATINGS = ("sfw", "mature")
NEW_CHARACTER_RATING = "kindred.default_content_rating"  # app.extensions: session -> rating


def new_character_rating(session: Session, providers: Mapping, creator_id: int) -> str:
    """A new character's rating when its creator gives none: the instance's default (an admin
    setting, docs/curation.md, read through `providers[NEW_CHARACTER_RATING]` as the app wires
    it), except that only adults make mature characters."""
    provider = providers.get(NEW_CHARACTER_RATING)
    if provider is not None and provider(session) == "mature" and viewer_is_adult(session,
                                                                                    creator_id):
        return "mature"
    return "sfw"
EXPORT_FORMATS = {"json": ("application/json", ".json"), "png": ("image/png", ".png"),
                  "charx": ("application/zip", ".charx")}

_CARD_TEXT_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example",
                     "creator_notes", "system_prompt", "post_history_instructions", "creator",
                     "character_version")
_COLUMN_LIMITS = {"name": 120, "creator": 120, "character_version": 60, "tagline": 200,
                  "language": 10}


@dataclass
class CardFile:
    data: bytes
    filename: str
    mimetype: str


def visible_character(session: Session, character_id: int, viewer_id: Optional[int]) -> Character:
    """The character if `viewer_id` (None: signed out) may see it; otherwise not_found."""
    character = session.get(Character, character_id)
    if not can_view(character, viewer_id) or not age_allows(session, character, viewer_id):
        raise not_found("character")
    return character


def can_view(character: Optional[Character], user_id: Optional[int]) -> bool:
    """Private characters, and those moderation hid, are seen by their creator only; public
    and unlisted ones by anyone."""
    if character is None:
        return False
    return (character.visibility != "private" and not character.moderation_hidden) or (
        user_id is not None and character.creator_id == user_id)


def import_card(session: Session, data: bytes, filename: Optional[str], *, owner_id: Optional[int],
                avatars_dir: Path, visibility: str = "private") -> Character:
    """Store a card file (JSON, PNG or CHARX) as a character owned by `owner_id`.

    Every card field is kept, unknown `extensions` keys and the whole `character_book` verbatim,
    V3-only fields under extensions so they export again. The card's image becomes the avatar,
    re-encoded (metadata dropped). Raises CardError for a bad file; nothing is stored then."""
    if visibility not in VISIBILITIES:
        raise KindredError("bad_visibility",
                           f"'visibility' must be one of {', '.join(VISIBILITIES)}.")
    card, image = parse_card_file(data, filename)
    character = character_from_card(card)
    character.creator_id, character.visibility = owner_id, visibility
    avatar = clean_avatar(image) if image is not None else None
    path = None
    if avatar is not None:
        character.avatar_filename = f"card-{uuid.uuid4().hex}.png"
        avatars_dir.mkdir(parents=True, exist_ok=True)
        path = avatars_dir / character.avatar_filename
        path.write_bytes(avatar)
    try:
        session.add(character)
        session.commit()
    except BaseException:
        session.rollback()
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    return character


def export_character(character: Character, fmt: str, spec: Optional[str],
                     avatars_dir: Path) -> CardFile:
    """The character as a card file: `fmt` json, png (both V2 and V3 chunks) or charx (V3 only);
    `spec` v2 or v3 (default: v3 for charx, v2 otherwise). Raises CardError for a bad choice."""
    if fmt not in EXPORT_FORMATS:
        raise CardError("unsupported_export",
                        f"Unknown export format {str(fmt)[:20]!r}; use 'json', 'png' or 'charx'.")
    spec = spec or ("v3" if fmt == "charx" else "v2")
    avatar = avatar_file(character, avatars_dir).read_bytes() if fmt != "json" else None
    data = export_card(card_from_character(character), fmt, spec, avatar)
    mimetype, suffix = EXPORT_FORMATS[fmt]
    return CardFile(data, safe_filename(character.name, f"character-{character.id}") + suffix,
                    mimetype)


def character_from_card(card: Card) -> Character:
    """A new, unsaved Character holding every field of `card`."""
    extensions = card.to_v2_dict()["data"]["extensions"]  # V3-only fields folded in
    profile = _take_profile(extensions)
    values = {f: getattr(card, f) for f in _CARD_TEXT_FIELDS}
    values.update(profile, alternate_greetings=list(card.alternate_greetings),
                  tags=list(card.tags), extensions=extensions,
                  character_book=copy.deepcopy(card.character_book))
    for key, limit in _COLUMN_LIMITS.items():
        if len(values.get(key) or "") > limit:
            raise CardError("field_too_long", f"The card's '{key}' is {len(values[key])} "
                                              f"characters long; Kindred accepts at most {limit}.")
    return Character(**values)


def card_from_character(character: Character) -> Card:
    """The character as a Card; Kindred-only fields that differ from the defaults go under
    extensions[PROFILE_EXTENSION]."""
    data = {f: getattr(character, f) or "" for f in _CARD_TEXT_FIELDS}
    data.update(alternate_greetings=list(character.alternate_greetings or []),
                tags=list(character.tags or []),
                extensions=copy.deepcopy(character.extensions or {}),
                character_book=copy.deepcopy(character.character_book))
    card = from_dict({"spec": "chara_card_v2", "spec_version": "2.0", "data": data})
    profile = {key: getattr(character, key) for key, default in PROFILE_DEFAULTS.items()
               if getattr(character, key) not in (None, default)}
    if profile:
        card.extensions[PROFILE_EXTENSION] = profile
    return card


def clean_avatar(image: bytes) -> bytes:
    """A card's image as a plain PNG avatar, through the one avatar pipeline (characters/images.py:
    its pixel limit, decompression-bomb refusal, metadata dropped). Every refusal is a
    CardError("bad_image"), the card import's documented code, with the pipeline's reason."""
    try:
        return clean_image(image)
    except ImageRefused as exc:
        raise CardError("bad_image", f"The card's image was refused: {exc.message}") from None


def safe_filename(name: str, fallback: str) -> str:
    """ASCII letters, digits, '-' and '_' only, at most 60 characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_name).strip("_-")[:60]
    return cleaned or fallback


EDITABLE_FIELDS = _CARD_TEXT_FIELDS + ("tagline", "alternate_greetings", "tags", "content_rating",
                                      "language", "extensions", "character_book")


def owned_character(session: Session, user_id: int, character_id: int) -> Character:
    """The user's own character; anyone else's (or a missing one) is a 404."""
    character = session.get(Character, character_id)
    if character is None or character.creator_id != user_id:
        raise not_found("character")
    return character


def create_draft(session: Session, owner_id: int, values: dict) -> Character:
    """A new private character from card fields (`name` required). Raises KindredError."""
    fields = _editable_values(values)
    if not fields.get("name", "").strip():
        raise KindredError("missing_name", "A character needs a non-empty 'name'.")
    character = Character(**fields, creator_id=owner_id, visibility="private")
    session.add(character)
    session.flush()
    events.record(session, CharacterCreated(character.id, owner_id, "draft"))
    session.commit()
    return character


def update_character(session: Session, character: Character, values: dict, *,
                     level_names: Sequence[str]) -> Character:
    """Change the given card fields only. Raises KindredError for unknown or invalid fields,
    and `bad_story` for changed extensions["kindred/stories"] that would not load with the
    app's `level_names` (routes pass current_app.config["LEVEL_NAMES"], the names play uses)."""
    fields = _editable_values(values)
    if "name" in fields and not fields["name"].strip():
        raise KindredError("missing_name", "'name' cannot be empty.")
    if "extensions" in fields:
        _check_changed_extensions(character, fields["extensions"], level_names)
    for key, value in fields.items():
        setattr(character, key, value)
    character.updated_at = utcnow()
    session.add(character)
    events.record(session, CharacterChanged(character.id, character.visibility, ("card",)))
    session.commit()
    return character


def set_visibility(session: Session, character: Character, visibility: str) -> Character:
    """Publish (public or unlisted) or unpublish (private)."""
    if visibility not in VISIBILITIES:
        raise KindredError("bad_visibility",
                           f"'visibility' must be one of {', '.join(VISIBILITIES)}.")
    character.visibility, character.updated_at = visibility, utcnow()
    session.add(character)
    events.record(session, CharacterChanged(character.id, visibility, ("visibility",)))
    session.commit()
    return character


def seed_characters(session: Session, avatars_dir: Path) -> list[Character]:
    """Add the demo cast once; running it again adds nothing (matched by name, no creator)."""
    existing = {c.name for c in session.exec(select(Character).where(Character.creator_id.is_(None)))}
    added = []
    for card in SEED_CHARACTERS:
        if card["name"] in existing:
            continue
        filename = f"seed-{_slug(card['name'])}.png"
        avatars_dir.mkdir(parents=True, exist_ok=True)
        (avatars_dir / filename).write_bytes(
            generate_avatar(card["name"], palette=tuple(card["palette"]), emblem=card["emblem"]))
        character = Character(**{f: card[f] for f in CARD_FIELDS}, creator="Kindred",
                              avatar_filename=filename, character_version="1")
        session.add(character)
        added.append(character)
    session.commit()
    return added


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


def _take_profile(extensions: dict) -> dict:
    """Pop Kindred's own fields from a card's extensions when they are well-formed."""
    profile = extensions.get(PROFILE_EXTENSION)
    if not isinstance(profile, dict) or not set(profile) <= set(PROFILE_DEFAULTS):
        return {}
    valid = all(isinstance(v, str) for v in profile.values()) and \
        profile.get("content_rating", "sfw") in CONTENT_RATINGS
    if not valid:
        return {}
    del extensions[PROFILE_EXTENSION]
    return dict(profile)


def _check_changed_extensions(character: Character, extensions: dict,
                              level_names: Sequence[str]) -> None:
    """Extensions other domains read are checked when a creator changes them, so an edit that
    would not load is refused with the reason (nothing stored) instead of skipped at play time.
    Imported cards and new drafts are kept verbatim; their broken stories are skipped and logged."""
    if STORIES_EXTENSION in extensions and \
            extensions[STORIES_EXTENSION] != (character.extensions or {}).get(STORIES_EXTENSION):
        check_stories(extensions[STORIES_EXTENSION], level_names)


def _editable_values(values: dict) -> dict:
    """Validate card fields sent by a creator with the card library's own readers."""
    check_known_fields(values, EDITABLE_FIELDS, f"editable are: {', '.join(EDITABLE_FIELDS)}.")
    try:
        fields = {}
        for key in values:
            if key in ("alternate_greetings", "tags"):
                fields[key] = card_fields.text_list(values, key)
            elif key == "extensions":
                check_depth(values[key])
                fields[key] = card_fields.mapping(values, key)
            elif key == "character_book":
                check_depth(values[key])
                fields[key] = card_fields.character_book(values, key)
            else:
                fields[key] = card_fields.text(values, key)
    except CardError as exc:
        raise KindredError(exc.code, exc.message) from None
    for key, limit in _COLUMN_LIMITS.items():
        if len(fields.get(key) or "") > limit:
            raise KindredError("field_too_long", f"'{key}' is at most {limit} characters.")
    if fields.get("content_rating", "sfw") not in CONTENT_RATINGS:
        raise KindredError("bad_field", "'content_rating' must be 'sfw' or 'mature'.")
    return fields
