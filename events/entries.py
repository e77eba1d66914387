"""A contest's entries: a creator enters one of their own public characters while the event runs,
and may withdraw it before the end. No Flask here.

    enter(session, event_id, user_id, body, now=None) -> EventEntry      400 / 403 / 404 / 409; commits
    withdraw(session, event_id, user_id, character_id, now=None)          404 / 409; commits
    entries_of(session, event_id) -> list[EventEntry]                  in the order they were made

One entry per creator per event (so a character is never in twice): entering again, with the same
character or another, is 409 `already_entered`; withdraw first to enter another."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from characters.models import Character
from core.db import is_id, utcnow
from core.errors import Conflict, KindredError, check_known_fields, not_found
from core.users import User, check_standing
from events.models import EventEntry
from events.service import get_event, is_running


def enter(session: Session, event_id, user_id: int, body,
          now: Optional[datetime] = None) -> EventEntry:
    now = now or utcnow()
    user = session.get(User, user_id)
    event = get_event(session, event_id)
    if not isinstance(body, dict):
        raise KindredError("bad_request", "Send {character_id}.")
    check_known_fields(body, ("character_id",), "an entry takes character_id.")
    check_standing(user, "enter a contest")
    if event.prizes is None:
        raise Conflict("no_contest", "This event has no creator contest.")
    if not is_running(event, now):
        raise Conflict("event_not_running", _not_running(event, now))
    character_id = body.get("character_id")
    if not is_id(character_id):
        raise KindredError("bad_field", "'character_id' must be the id of one of your characters.")
    character = session.get(Character, character_id)
    if character is None:
        raise not_found("character")
    if character.creator_id != user.id:
        raise KindredError("not_your_character", "You can enter only a character you created.",
                           403)
    if character.visibility != "public" or character.moderation_hidden:
        raise Conflict("character_not_public", "Only a public character can enter: make it "
                                               "public first.")
    if _entry_of(session, event.id, user.id) is not None:
        raise Conflict("already_entered", "You have an entry in this contest already; withdraw "
                                          "it to enter another character.")
    entry = EventEntry(event_id=event.id, character_id=character.id, creator_id=user.id,
                       entered_at=now)
    session.add(entry)
    try:
        session.commit()
    except sa.exc.IntegrityError:  # the same entry sent twice at the same moment
        session.rollback()
        raise Conflict("already_entered", "You have an entry in this contest already.") from None
    return entry


def withdraw(session: Session, event_id, user_id: int, character_id,
             now: Optional[datetime] = None) -> None:
    now = now or utcnow()
    event = get_event(session, event_id)
    entry = _entry_of(session, event.id, user_id)
    if entry is None or entry.character_id != character_id:
        raise not_found("entry of yours in this contest")
    if now >= event.ends_at or event.judged_at is not None:
        raise Conflict("event_ended", "The contest has ended: its entries stand.")
    session.delete(entry)
    session.commit()


def entries_of(session: Session, event_id: int) -> list[EventEntry]:
    return list(session.exec(select(EventEntry).where(EventEntry.event_id == event_id)
                             .order_by(EventEntry.entered_at, EventEntry.id)))


def _entry_of(session: Session, event_id: int, user_id: int) -> Optional[EventEntry]:
    return session.exec(select(EventEntry).where(EventEntry.event_id == event_id,
                                                 EventEntry.creator_id == user_id)).first()


def _not_running(event, now: datetime) -> str:
    if now < event.starts_at:
        return f"The event starts at {event.starts_at.isoformat()}; enter once it runs."
    return f"The event ended at {event.ends_at.isoformat()}; entries are closed."
