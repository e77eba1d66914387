"""What the events API shows of an event, its contest's entries and its winners. No Flask here."""
from datetime import datetime
from typing import Optional

from sqlmodel import Session

from characters.models import Character
from characters.service import can_view, character_summary
from core.db import utcnow
from core.users import User
from events.entries import entries_of
from events.models import CommunityEvent, EventEntry
from events.service import status, topic_of_day
from gacha.banners import banner_payload
from gacha.models import Banner


def event_json(session: Session, event: CommunityEvent, now: Optional[datetime] = None) -> dict:
    now = now or utcnow()
    entries = [entry_json(session, e) for e in entries_of(session, event.id)]
    banner = session.get(Banner, event.banner_id) if event.banner_id else None
    judged = event.judged_at is not None
    return {"id": event.id, "name": event.name, "theme": event.theme,
            "description": event.description, "starts_at": event.starts_at.isoformat(),
            "ends_at": event.ends_at.isoformat(), "status": status(event, now),
            "topics": list(event.topics or []), "topic_today": topic_of_day(event, now.date()),
            "banner": banner_payload(banner, now) if banner is not None else None,
            "contest": None if event.prizes is None else {
                "prizes": list(event.prizes), "entries": entries,
                "judged_at": event.judged_at.isoformat() if judged else None,
                "winners": sorted((e for e in entries if e["place"]), key=lambda e: e["place"])
                if judged else []},
            "announcement_post_id": event.announcement_post_id,
            "winners_post_id": event.winners_post_id}


def entry_json(session: Session, entry: EventEntry) -> dict:
    character = session.get(Character, entry.character_id)
    creator = session.get(User, entry.creator_id)
    shown = character_summary(character) if can_view(character, None) else None  # gone private
    return {"id": entry.id, "character": shown,
            "creator": {"id": creator.id, "username": creator.username} if creator else None,
            "entered_at": entry.entered_at.isoformat(), "score": entry.score,
            "place": entry.place, "prize_gems": entry.prize_gems,
            "paid": entry.transaction_id is not None}
