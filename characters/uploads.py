"""Avatar uploads: PNG, JPEG or WebP within size and pixel limits, re-encoded as a plain PNG
(EXIF orientation applied, then every text chunk, EXIF and ICC profile dropped) by the avatar
pipeline card imports use too (characters/images.py). No Flask here."""
import uuid
from pathlib import Path

from sqlmodel import Session

from core import events
from core.db import utcnow
from core.event_types import CharacterChanged
from core.errors import KindredError
from characters.images import clean_image
from characters.models import Character

ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
MAX_AVATAR_BYTES = 8 * 2**20
MIN_AVATAR_SIDE = 16


def set_avatar(session: Session, character: Character, data: bytes, avatars_dir: Path) -> Character:
    """Store `data` as the character's avatar. Raises KindredError (nothing stored) for anything
    that is not an acceptable image."""
    png = clean_upload(data)
    avatars_dir.mkdir(parents=True, exist_ok=True)
    filename = f"upload-{uuid.uuid4().hex}.png"
    path = avatars_dir / filename
    path.write_bytes(png)
    try:
        character.avatar_filename, character.updated_at = filename, utcnow()
        session.add(character)
        events.record(session, CharacterChanged(character.id, character.visibility, ("avatar",)))
        session.commit()
    except BaseException:
        session.rollback()
        path.unlink(missing_ok=True)
        raise
    # Earlier files stay: published versions may still name them.
    return character


def reset_avatar(session: Session, character: Character) -> Character:
    """Back to the avatar generated from the character's name."""
    character.avatar_filename, character.updated_at = None, utcnow()
    session.add(character)
    events.record(session, CharacterChanged(character.id, character.visibility, ("avatar",)))
    session.commit()
    return character


def clean_upload(data: bytes) -> bytes:
    """An uploaded avatar as a plain PNG, through the one avatar pipeline (characters/images.py),
    with the upload's own rules on top: at most MAX_AVATAR_BYTES, PNG, JPEG or WebP only, at
    least MIN_AVATAR_SIDE pixels a side. Raises KindredError with the codes of docs/api.md."""
    if len(data) > MAX_AVATAR_BYTES:
        raise KindredError("file_too_large", f"Avatars are at most {MAX_AVATAR_BYTES // 2**20} MB; "
                                             f"this file has {len(data):,} bytes.", 413)
    return clean_image(data, formats=ACCEPTED_FORMATS, min_side=MIN_AVATAR_SIDE)
