"""What a character shares with the community: its creator's settings (may others remix it, does
it take part in the community) and, for a remix, where it came from. Plain lookups by id, so the
character JSON (characters.service.character_detail) can carry them. No Flask here."""
from typing import Optional

from sqlmodel import Session, select

from core.db import utcnow
from core.errors import KindredError
from characters.models import CharacterCommunity, CharacterRemix

SETTINGS = ("allow_remix", "community_replies")
DEFAULTS = {"allow_remix": True, "community_replies": False}


def settings_of(session: Session, character_id: int) -> dict:
    row = session.get(CharacterCommunity, character_id)
    if row is None:
        return dict(DEFAULTS)
    return {"allow_remix": row.allow_remix, "community_replies": row.community_replies}


def split_settings(body: dict) -> tuple[dict, dict]:
    """(the sharing settings in `body`, checked, and the rest of it). Raises 400 `bad_field` for
    a setting that is not a boolean."""
    settings = {key: body[key] for key in SETTINGS if key in body}
    for key, value in settings.items():
        if not isinstance(value, bool):
            raise KindredError("bad_field", f"'{key}' must be true or false.")
    return settings, {key: value for key, value in body.items() if key not in SETTINGS}


def save_settings(session: Session, character_id: int, values: dict) -> dict:
    """Store the given settings (checked by split_settings) and commit; the others stay."""
    if not values:
        return settings_of(session, character_id)
    row = session.get(CharacterCommunity, character_id) or CharacterCommunity(
        character_id=character_id, **DEFAULTS)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return settings_of(session, character_id)


def taking_part(session: Session, character_ids: Optional[list[int]] = None) -> set[int]:
    """Of `character_ids` (None: of all), those whose creator turned community_replies on."""
    query = select(CharacterCommunity.character_id).where(
        CharacterCommunity.community_replies.is_(True))
    if character_ids is not None:
        if not character_ids:
            return set()
        query = query.where(CharacterCommunity.character_id.in_(character_ids))
    return set(session.exec(query))


def remix_origin(session: Session, character_id: int) -> Optional[dict]:
    """{parent_id, name, creator, label} for a remix ("remixed from X by Y", with X and Y as
    they were at the remix); None for a character that is no remix."""
    row = session.get(CharacterRemix, character_id)
    if row is None:
        return None
    return {"parent_id": row.parent_id, "name": row.parent_name, "creator": row.parent_creator,
            "label": f"remixed from {row.parent_name} by {row.parent_creator}"}


def sharing_fields(session: Optional[Session], character_id: int) -> dict:
    """The character JSON's `allow_remix`, `community_replies` and `remixed_from` (None when no
    session is at hand, e.g. a character detached from its session)."""
    if session is None:
        return {**DEFAULTS, "remixed_from": None}
    return {**settings_of(session, character_id),
            "remixed_from": remix_origin(session, character_id)}
