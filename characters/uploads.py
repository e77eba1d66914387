"""Avatar uploads: PNG, JPEG or WebP within size and pixel limits, re-encoded as a plain PNG
(EXIF orientation applied, then every text chunk, EXIF and ICC profile dropped). No Flask here."""
import io
import uuid
import warnings
from pathlib import Path

from sqlmodel import Session

from core import events
from core.db import utcnow
from core.event_types import CharacterChanged
from core.errors import KindredError
from characters.models import Character
from characters.service import AVATAR_MAX_SIDE

ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}
MAX_AVATAR_BYTES = 8 * 2**20
MAX_AVATAR_PIXELS = 40_000_000  # decoded size; a decompression bomb is refused before decoding
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
    from PIL import Image, ImageOps

    if len(data) > MAX_AVATAR_BYTES:
        raise KindredError("file_too_large", f"Avatars are at most {MAX_AVATAR_BYTES // 2**20} MB; "
                                             f"this file has {len(data):,} bytes.", 413)
    if not data:
        raise KindredError("bad_image", "The file is empty; send a PNG, JPEG or WebP image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in ACCEPTED_FORMATS:
                    raise KindredError("unsupported_image",
                                       f"{img.format or 'This'} images are not accepted; "
                                       f"send a PNG, JPEG or WebP image.")
                if img.width * img.height > MAX_AVATAR_PIXELS:
                    raise KindredError("image_too_large",
                                       f"The image is {img.width}x{img.height} pixels; at most "
                                       f"{MAX_AVATAR_PIXELS:,} pixels are accepted.")
                if min(img.width, img.height) < MIN_AVATAR_SIDE:
                    raise KindredError("image_too_small", f"Avatars are at least "
                                                          f"{MIN_AVATAR_SIDE} pixels a side.")
                img.load()
                img = ImageOps.exif_transpose(img)
                mode = "RGBA" if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info \
                    else "RGB"
                pixels = img.convert(mode)
    except KindredError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise KindredError("image_too_large", "The image has too many pixels; at most "
                                              f"{MAX_AVATAR_PIXELS:,} are accepted.") from None
    except Exception:  # Pillow raises many types for files that are not images
        raise KindredError("bad_image", "The file is not a readable image; send a PNG, JPEG "
                                        "or WebP image.") from None
    pixels.thumbnail((AVATAR_MAX_SIDE, AVATAR_MAX_SIDE))
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())  # no metadata carried
    out = io.BytesIO()
    clean.save(out, "PNG")
    return out.getvalue()
