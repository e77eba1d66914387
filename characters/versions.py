"""Character versions: every publish stores a snapshot of the card fields; a creator can list them
and restore one. Conversations point at the character, not a version, so they keep working
across edits and restores (each reply's prompt inspector report names the version it used).
No Flask here."""
import copy
from typing import Callable, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from core import events
from core.db import utcnow
from core.event_types import CharacterChanged, CharacterPublished
from core.errors import KindredError, not_found
from characters.models import Character, CharacterVersion

SNAPSHOT_FIELDS = ("name", "tagline", "description", "personality", "scenario", "first_mes",
                   "mes_example", "creator_notes", "system_prompt", "post_history_instructions",
                   "alternate_greetings", "tags", "creator", "character_version", "extensions",
                   "character_book", "content_rating", "language", "avatar_filename")


def snapshot(character: Character) -> dict:
    return {f: copy.deepcopy(getattr(character, f)) for f in SNAPSHOT_FIELDS}


def record_version(session: Session, character: Character,
                   restored_from: Optional[int] = None) -> CharacterVersion:
    """Add the next version of `character` (its current fields). The caller commits."""
    number = (latest_version_number(session, character.id) or 0) + 1
    version = CharacterVersion(character_id=character.id, version=number,
                               snapshot=snapshot(character), visibility=character.visibility,
                               restored_from=restored_from)
    session.add(version)
    return version


def latest_version_number(session: Session, character_id: int) -> Optional[int]:
    return session.exec(select(sa.func.max(CharacterVersion.version))
                        .where(CharacterVersion.character_id == character_id)).one()


def list_versions(session: Session, character_id: int) -> list[CharacterVersion]:
    query = (select(CharacterVersion).where(CharacterVersion.character_id == character_id)
             .order_by(CharacterVersion.version.desc()))
    return list(session.exec(query))


def restore_version(session: Session, character: Character, number,
                    screen: Optional[Callable[[dict], None]] = None) -> Character:
    """Put version `number`'s fields back as the character's current fields. A published
    character republishes them at once, as a new version; a private draft just gets the fields.
    `screen(values)` sees a published character's restored fields first and raises to refuse
    them (an old version may break rules made since, or the operator's newer lists)."""
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise KindredError("bad_request", "The version must be a positive whole number.")
    version = session.exec(select(CharacterVersion)
                           .where(CharacterVersion.character_id == character.id)
                           .where(CharacterVersion.version == number)).first()
    if version is None:
        raise not_found("version")
    if screen is not None and character.visibility != "private":
        screen({f: version.snapshot[f] for f in SNAPSHOT_FIELDS if f in version.snapshot})
    for field in SNAPSHOT_FIELDS:
        if field in version.snapshot:
            setattr(character, field, copy.deepcopy(version.snapshot[field]))
    character.updated_at = utcnow()
    session.add(character)
    if character.visibility != "private":
        session.flush()
        record_version(session, character, restored_from=number)
    events.record(session, CharacterChanged(character.id, character.visibility, ("card",)))
    session.commit()
    return character


def version_payload(version: CharacterVersion, full: bool = False) -> dict:
    payload = {"version": version.version, "created_at": version.created_at.isoformat(),
               "visibility": version.visibility, "restored_from": version.restored_from,
               "name": version.snapshot.get("name", ""),
               "tagline": version.snapshot.get("tagline", "")}
    if full:
        payload["snapshot"] = {k: v for k, v in version.snapshot.items() if k != "avatar_filename"}
    return payload


def publish_character(session: Session, character: Character, visibility: str) -> CharacterVersion:
    """Make the character public or unlisted and store this publish as a new version."""
    if visibility not in ("public", "unlisted"):
        raise KindredError("bad_visibility", "Publish as 'public' or 'unlisted'.")
    character.visibility, character.updated_at = visibility, utcnow()
    session.add(character)
    session.flush()
    version = record_version(session, character)
    events.record(session, CharacterChanged(character.id, visibility, ("visibility",)))
    events.record(session, CharacterPublished(character.id, visibility, version.version))
    session.commit()
    return version
