"""Events: an admin's time-boxed theme with its topics of the day, an optional limited banner and
an optional creator contest. No Flask here.

    create_event(session, body, admin_id, settings) -> CommunityEvent       400 / 404; commits
    update_event(session, event_id, body, settings) -> CommunityEvent       400 / 404 / 409; commits
    get_event(session, event_id) -> CommunityEvent                          404 if unknown
    public_events(session, now) -> list[CommunityEvent]                     running and upcoming
    all_events(session) -> list[CommunityEvent]                             newest first (admins)
    current_event(session, now) -> CommunityEvent | None                    the one running now
    status(event, now) -> "upcoming" | "running" | "ended" | "judged"

Decisions written down here (docs/events.md):
- Times are ISO 8601; one without an offset is UTC. An event ends after it starts, lasts at
  most EVENT_MAX_DAYS days, and ends in the future when it is made.
- `topics`: the topics of the day for its days, day i of the event taking topics[i % n]. They
  are written as the operator's topic of each day (community.topics.set_topic), so while the
  event runs the community's topic of the day is the event's; a day gone by, or one whose topic
  characters have already answered, keeps its own.
- `banner: {featured_character_ids, name?}`: a limited banner made through gacha's banner
  service over the featured characters and the seeded cast, open exactly the event's window
  (moved with it when the window changes). Its pool is frozen, so it cannot be changed after.
- `prizes: [gems for 1st, 2nd, ...]` makes the event a contest; positive whole numbers.
- Once judged, an event is history: PATCH is 409 `event_judged`."""
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlmodel import Session, select

from characters.models import Character
from characters.service import can_view
from community.topics import set_topic
from core.db import is_id, utcnow
from core.errors import Conflict, KindredError, check_known_fields, not_found
from core.text import check_text
from events.models import CommunityEvent
from gacha import banners
from gacha.models import Banner

FIELDS = ("name", "theme", "description", "starts_at", "ends_at", "topics", "banner", "prizes")
MAX_NAME, MAX_THEME, MAX_DESCRIPTION, MAX_TOPIC = 80, 140, 2000, 300
MAX_FEATURED = 6
MAX_PRIZE_GEMS = 1_000_000


def create_event(session: Session, body, admin_id: int, settings) -> CommunityEvent:
    """A new event from `{name, theme, description?, starts_at, ends_at, topics?, banner?,
    prizes?}`. Everything is checked before anything is stored."""
    _check_body(body, required=("name", "theme", "starts_at", "ends_at"))
    now = utcnow()
    starts_at, ends_at = _time(body["starts_at"], "starts_at"), _time(body["ends_at"], "ends_at")
    _check_window(starts_at, ends_at, settings)
    if ends_at <= now:
        raise KindredError("bad_window", "'ends_at' is in the past: an event is for now or later.")
    event = CommunityEvent(name=_text(body["name"], "name", MAX_NAME),
                           theme=_text(body["theme"], "theme", MAX_THEME),
                           description=_text(body.get("description") or "", "description",
                                             MAX_DESCRIPTION, required=False),
                           starts_at=starts_at, ends_at=ends_at,
                           topics=_topics(body.get("topics"), starts_at, ends_at),
                           prizes=_prizes(body.get("prizes"), settings), created_by=admin_id)
    featured = _featured(session, body.get("banner"))
    if featured is not None:
        event.banner_id = _limited_banner(session, event, *featured).id
    session.add(event)
    session.commit()
    _write_topics(session, event, now)
    return event


def update_event(session: Session, event_id, body, settings) -> CommunityEvent:
    """Change the fields given (the same checks as creation). A running event's start stays."""
    event = get_event(session, event_id)
    _check_body(body, required=())
    if event.judged_at is not None:
        raise Conflict("event_judged", "This event is judged; it can no longer be changed.")
    now = utcnow()
    starts_at = _time(body["starts_at"], "starts_at") if "starts_at" in body else event.starts_at
    ends_at = _time(body["ends_at"], "ends_at") if "ends_at" in body else event.ends_at
    if starts_at != event.starts_at and event.starts_at <= now:
        raise Conflict("event_started", "The event has started: its start can no longer move.")
    _check_window(starts_at, ends_at, settings)
    if "ends_at" in body and ends_at != event.ends_at and ends_at <= now:
        raise KindredError("bad_window", "'ends_at' must be in the future.")
    changes = {"starts_at": starts_at, "ends_at": ends_at}
    for name, limit in (("name", MAX_NAME), ("theme", MAX_THEME)):
        if name in body:
            changes[name] = _text(body[name], name, limit)
    if "description" in body:
        changes["description"] = _text(body["description"] or "", "description",
                                       MAX_DESCRIPTION, required=False)
    if "topics" in body:
        changes["topics"] = _topics(body["topics"], starts_at, ends_at)
    if "prizes" in body:
        changes["prizes"] = _prizes(body["prizes"], settings)
    featured = None
    if body.get("banner") is not None:
        if event.banner_id is not None:
            raise Conflict("banner_fixed", "The event's banner is made; its pool is frozen so "
                                           "every pull stays verifiable.")
        featured = _featured(session, body["banner"])
    for name, value in changes.items():
        setattr(event, name, value)
    if featured is not None:
        event.banner_id = _limited_banner(session, event, *featured).id
    elif event.banner_id is not None:
        banner = session.get(Banner, event.banner_id)
        if banner is not None:  # the limited banner ends with the event
            banner.starts_at, banner.ends_at = event.starts_at, event.ends_at
            session.add(banner)
    event.updated_at = now
    session.add(event)
    session.commit()
    if "topics" in body or "starts_at" in body or "ends_at" in body:
        _write_topics(session, event, now)
    return event


def get_event(session: Session, event_id) -> CommunityEvent:
    event = session.get(CommunityEvent, event_id) if is_id(event_id) else None
    if event is None:
        raise not_found("event")
    return event


def public_events(session: Session, now: Optional[datetime] = None) -> list[CommunityEvent]:
    now = now or utcnow()
    return list(session.exec(select(CommunityEvent).where(CommunityEvent.ends_at > now)
                             .order_by(CommunityEvent.starts_at, CommunityEvent.id)))


def all_events(session: Session) -> list[CommunityEvent]:
    return list(session.exec(select(CommunityEvent).order_by(CommunityEvent.starts_at.desc(),
                                                             CommunityEvent.id.desc())))


def current_event(session: Session, now: Optional[datetime] = None) -> Optional[CommunityEvent]:
    now = now or utcnow()
    return session.exec(select(CommunityEvent).where(CommunityEvent.starts_at <= now,
                                                     CommunityEvent.ends_at > now)
                        .order_by(CommunityEvent.starts_at.desc(), CommunityEvent.id)).first()


def status(event: CommunityEvent, now: Optional[datetime] = None) -> str:
    now = now or utcnow()
    if event.judged_at is not None:
        return "judged"
    if now < event.starts_at:
        return "upcoming"
    return "running" if now < event.ends_at else "ended"


def is_running(event: CommunityEvent, now: datetime) -> bool:
    return event.starts_at <= now < event.ends_at


def topic_of_day(event: CommunityEvent, day) -> Optional[str]:
    """The event's topic for the UTC day `day`, or None (no topics, or not one of its days)."""
    first = event.starts_at.date()
    if not event.topics or not first <= day <= _last_day(event.ends_at):
        return None
    return event.topics[(day - first).days % len(event.topics)]


# -- checks -------------------------------------------------------------------------------

def _check_body(body, required: tuple) -> None:
    if not isinstance(body, dict):
        raise KindredError("bad_request", "Send a JSON object with the event's fields: "
                                          f"{', '.join(FIELDS)}.")
    check_known_fields(body, FIELDS, f"an event has: {', '.join(FIELDS)}.")
    missing = [name for name in required if body.get(name) in (None, "")]
    if missing:
        raise KindredError("missing_field", f"An event needs {', '.join(map(repr, missing))}.")


def _time(value, name: str) -> datetime:
    if not isinstance(value, str):
        raise KindredError("bad_time", f"'{name}' must be an ISO 8601 time, e.g. "
                                       "2026-12-24T18:00:00Z.")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise KindredError("bad_time", f"'{name}' is not an ISO 8601 time: {value[:40]!r}.") \
            from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _check_window(starts_at: datetime, ends_at: datetime, settings) -> None:
    if ends_at <= starts_at:
        raise KindredError("ends_before_start", "'ends_at' must be after 'starts_at'.")
    longest = settings["EVENT_MAX_DAYS"]
    if ends_at - starts_at > timedelta(days=longest):
        raise KindredError("event_too_long", f"An event lasts at most {longest} days.")


def _text(value, name: str, limit: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise KindredError("bad_field", f"'{name}' must be text.")
    text = check_text(value, name).strip()
    if required and not text:
        raise KindredError("missing_field", f"'{name}' must not be empty.")
    if len(text) > limit:
        raise KindredError("too_long", f"'{name}' is at most {limit} characters; this one has "
                                       f"{len(text)}.")
    return text


def _topics(value, starts_at: datetime, ends_at: datetime) -> list[str]:
    if value is None:
        return []
    days = (_last_day(ends_at) - starts_at.date()).days + 1
    if not isinstance(value, list) or len(value) > days:
        raise KindredError("bad_topics", f"'topics' is a list of at most {days} topics, one "
                                         "for each day of the event.")
    return [" ".join(_text(topic, "topics", MAX_TOPIC).split()) for topic in value]


def _prizes(value, settings) -> Optional[list[int]]:
    if value is None:
        return None
    most = settings["EVENT_MAX_PRIZES"]
    if not isinstance(value, list) or not 1 <= len(value) <= most or not all(
            type(gems) is int and 0 < gems <= MAX_PRIZE_GEMS for gems in value):
        raise KindredError("bad_prizes", f"'prizes' is a list of 1 to {most} positive whole "
                                         f"numbers of gems (at most {MAX_PRIZE_GEMS} each), for "
                                         "1st, 2nd, ... place.")
    return list(value)


def _featured(session: Session, value) -> Optional[tuple[str, list[Character]]]:
    """The limited banner's (name, featured characters), checked; None: no banner."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise KindredError("bad_banner", "'banner' is {featured_character_ids, name?}.")
    check_known_fields(value, ("featured_character_ids", "name"),
                       "a banner has featured_character_ids and an optional name.")
    ids = value.get("featured_character_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_FEATURED or \
            not all(is_id(i) for i in ids):
        raise KindredError("bad_banner", f"'featured_character_ids' is a list of 1 to "
                                         f"{MAX_FEATURED} character ids.")
    characters = [session.get(Character, i) for i in dict.fromkeys(ids)]
    if not all(can_view(c, None) for c in characters):
        raise not_found("public character to feature")
    name = value.get("name")
    return (_text(name, "banner name", 120) if name is not None else None), characters


def _limited_banner(session: Session, event: CommunityEvent, name: Optional[str],
                    featured: list[Character]):
    """Through gacha's banner service: the featured characters rated up over the seeded cast,
    open for the event's window only."""
    cast = list(session.exec(select(Character).where(Character.creator_id.is_(None))))
    pool = list({c.id: c for c in featured + cast}.values())
    banners.ensure_cards(session, pool)
    return banners.create_banner(session, name or f"{event.name} (limited)",
                                 [c.id for c in featured], [c.id for c in pool],
                                 starts_at=event.starts_at, ends_at=event.ends_at)


def _write_topics(session: Session, event: CommunityEvent, now: datetime) -> None:
    day = max(event.starts_at.date(), now.date())
    while event.topics and day <= _last_day(event.ends_at):
        try:
            set_topic(session, topic_of_day(event, day), day)
        except Conflict:  # characters answered that day's topic already: it keeps its own
            session.rollback()
        day += timedelta(days=1)


def _last_day(ends_at: datetime):
    """The last UTC day the event covers (an end at midnight does not cover the new day)."""
    return (ends_at - timedelta(microseconds=1)).date()
