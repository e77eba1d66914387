"""Instance settings: what the operator calls this community and how it presents itself. No Flask.

    instance(session, settings) -> dict              the settings as shown (stored, else defaults)
    update_instance(session, settings, body, user_id) -> dict     an admin's edit; commits

`settings` is the app's config mapping: INSTANCE_NAME, INSTANCE_TAGLINE, INSTANCE_FEATURED_TAGS,
INSTANCE_DEFAULT_CONTENT_RATING, INSTANCE_POSITIONING are the defaults of an unedited field, and
INSTANCE_MAX_FEATURED_TAGS bounds the tags. A field set to null goes back to its default.
Every field is checked before anything is written, so a bad edit changes nothing."""
import re

import sqlalchemy as sa
from sqlmodel import Session

from characters.service import CONTENT_RATINGS
from core.db import utcnow
from core.errors import KindredError, check_known_fields
from core.text import check_text
from curation.models import SETTINGS_ROW, InstanceSettings

FIELDS = ("name", "tagline", "featured_tags", "default_content_rating", "positioning")
MAX_CHARS = {"name": 60, "tagline": 140, "positioning": 2000}
MAX_TAG_CHARS = 30
_TAG = re.compile(r"^[\w-]+$")
_DEFAULT_KEYS = {"name": "INSTANCE_NAME", "tagline": "INSTANCE_TAGLINE",
                 "featured_tags": "INSTANCE_FEATURED_TAGS",
                 "default_content_rating": "INSTANCE_DEFAULT_CONTENT_RATING",
                 "positioning": "INSTANCE_POSITIONING"}


def instance(session: Session, settings) -> dict:
    """{name, tagline, featured_tags, default_content_rating, positioning, customised} where
    `customised` lists the fields an admin set (the rest are config defaults)."""
    row = session.get(InstanceSettings, SETTINGS_ROW)
    shown, customised = {}, []
    for field in FIELDS:
        stored = getattr(row, field) if row is not None else None
        if stored is None:
            shown[field] = _default(settings, field)
        else:
            shown[field] = list(stored) if field == "featured_tags" else stored
            customised.append(field)
    return {**shown, "customised": customised}


def update_instance(session: Session, settings, body, user_id: int) -> dict:
    """Apply an admin's PATCH body (any of FIELDS). Raises KindredError 400 for an unknown
    field or a bad value, before anything is stored. Commits; returns instance()."""
    if not isinstance(body, dict) or not body:
        raise KindredError("bad_request", "Send a JSON object with any of: " + ", ".join(FIELDS) + ".")
    check_known_fields(body, FIELDS, "instance settings take " + ", ".join(FIELDS) + ".")
    max_tags = settings.get("INSTANCE_MAX_FEATURED_TAGS", 8)
    cleaned = {field: None if value is None else _clean(field, value, max_tags)
               for field, value in body.items()}
    try:
        _write(session, cleaned, user_id)
    except sa.exc.IntegrityError:  # another admin's first edit made the row meanwhile
        session.rollback()
        _write(session, cleaned, user_id)
    return instance(session, settings)


def _write(session: Session, cleaned: dict, user_id: int) -> None:
    row = session.get(InstanceSettings, SETTINGS_ROW) or InstanceSettings(id=SETTINGS_ROW)
    for field, value in cleaned.items():
        setattr(row, field, value)
    row.updated_by, row.updated_at = user_id, utcnow()
    session.add(row)
    session.commit()


def _default(settings, field: str):
    value = settings.get(_DEFAULT_KEYS[field])
    if field == "featured_tags":
        return list(value or [])
    if field == "default_content_rating":
        return value if value in CONTENT_RATINGS else CONTENT_RATINGS[0]
    return value or ""


def _clean(field: str, value, max_tags: int):
    if field == "featured_tags":
        return _tags(value, max_tags)
    if field == "default_content_rating":
        if value not in CONTENT_RATINGS:
            raise KindredError("bad_field", "'default_content_rating' must be one of "
                               + ", ".join(map(repr, CONTENT_RATINGS)) + ".")
        return value
    if not isinstance(value, str):
        raise KindredError("bad_field", f"'{field}' must be a string (or null for the default).")
    value = check_text(value.strip(), field)
    if field == "name" and not value:
        raise KindredError("bad_field", "'name' must not be empty.")
    if len(value) > MAX_CHARS[field]:
        raise KindredError("too_long", f"'{field}' is at most {MAX_CHARS[field]} characters; "
                           f"this one has {len(value)}.")
    return value


def _tags(value, max_tags: int) -> list[str]:
    if not isinstance(value, list):
        raise KindredError("bad_field", "'featured_tags' must be a list of tags.")
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str) or not _TAG.match(tag.strip().lstrip("#")) or \
                len(tag.strip().lstrip("#")) > MAX_TAG_CHARS:
            raise KindredError("bad_tag", f"A featured tag is letters, digits, '_' or '-', at most "
                               f"{MAX_TAG_CHARS} characters; {tag!r} is not.")
        tag = tag.strip().lstrip("#").lower()
        if tag not in tags:
            tags.append(tag)
    if len(tags) > max_tags:
        raise KindredError("too_many_tags", f"At most {max_tags} featured tags; got {len(tags)}.")
    return tags
