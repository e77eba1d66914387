"""Characters: listing what a user may see, avatars, and the seeded demo cast. No Flask here."""
from pathlib import Path

from sqlmodel import Session, select

from characters.avatars import generate_avatar
from characters.models import Character
from characters.seed_data import SEED_CHARACTERS

CARD_FIELDS = ("name", "tagline", "description", "personality", "scenario", "first_mes",
               "mes_example", "creator_notes", "system_prompt", "post_history_instructions",
               "alternate_greetings", "tags", "language", "content_rating")


def list_public_characters(session: Session) -> list[Character]:
    query = select(Character).where(Character.visibility == "public").order_by(Character.id)
    return list(session.exec(query))


def character_summary(character: Character) -> dict:
    return {"id": character.id, "name": character.name, "tagline": character.tagline,
            "tags": list(character.tags or []), "avatar_url": avatar_url(character)}


def character_detail(character: Character) -> dict:
    return {**character_summary(character),
            **{f: getattr(character, f) for f in CARD_FIELDS if f not in ("name", "tagline", "tags")}}


def avatar_url(character: Character) -> str:
    return f"/characters/{character.id}/avatar.png"


def avatar_file(character: Character, avatars_dir: Path) -> Path:
    """The character's avatar on disk, generated from its name the first time it is asked for."""
    path = avatars_dir / (character.avatar_filename or f"generated-{character.id}.png")
    if not path.exists():
        avatars_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(generate_avatar(character.name))
    return path


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
