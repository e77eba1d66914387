"""Announcing events in the feed and through notifications, once each however many processes
serve the app. No Flask here.

    Announcer(db, moderator, notify, lock).started(event_id, now=None) -> bool   posted by this call
    Announcer(...).winners(event_id, now=None) -> bool

An announcement is a `text` post tagged `event`, by the admin who made the event (the feed's
contracts stay as they are: a post has a user or a character for author), through the post
service and so through moderation; then a notification `event` about that post goes to everyone
in good standing who was not notified of it yet (the admin's followers already were, `post`).
Once: the run takes the (job, day) lock of community.scheduler (the database row or Redis key
the topic of the day uses), and the post id and `announced_at` on the event say what is done, so
a run taken over after a crash posts nothing twice."""
import logging
from datetime import datetime
from typing import Callable, Optional

from sqlmodel import Session, select

from characters.models import Character
from community.models import Notification
from community.posts import create_post
from core import events as domain_events
from core.db import session_scope, utcnow
from core.errors import KindredError
from core.event_types import CommunityEventStarted
from core.users import User
from events.entries import entries_of
from events.models import CommunityEvent
from events.service import get_event, is_running

log = logging.getLogger(__name__)

NOTIFY_BATCH = 500


class Announcer:
    def __init__(self, db, moderator, notify: Callable, lock):
        self.db, self.moderator, self.notify, self.lock = db, moderator, notify, lock

    def started(self, event_id: int, now: Optional[datetime] = None) -> bool:
        """Announce a running event that was not announced yet."""
        now = now or utcnow()
        with session_scope(self.db) as session:
            event = get_event(session, event_id)
            if event.announced_at is not None or not is_running(event, now):
                return False
            day = event.starts_at.date()
        return self._once(f"event_start:{event_id}", day,
                          lambda: self._announce_start(event_id, now))

    def winners(self, event_id: int, now: Optional[datetime] = None) -> bool:
        """Announce a judged contest's winners, once."""
        with session_scope(self.db) as session:
            event = get_event(session, event_id)
            if event.judged_at is None or event.winners_announced_at is not None:
                return False
            day = event.ends_at.date()
        return self._once(f"event_winners:{event_id}", day,
                          lambda: self._announce_winners(event_id, now or utcnow()))

    def _once(self, job: str, day, work: Callable[[], None]) -> bool:
        if not self.lock.acquire(job, day):
            return False
        work()
        self.lock.finish(job, day)
        return True

    def _announce_start(self, event_id: int, now: datetime) -> None:
        def started(event: CommunityEvent, post_id: Optional[int]):
            return CommunityEventStarted(
                event_id=event.id, name=event.name, starts_at=event.starts_at,
                ends_at=event.ends_at, contest=event.prizes is not None,
                banner_id=event.banner_id, post_id=post_id)
        self._announce(event_id, now, "announcement_post_id", "announced_at",
                       lambda session, event: _start_text(event), started)

    def _announce_winners(self, event_id: int, now: datetime) -> None:
        self._announce(event_id, now, "winners_post_id", "winners_announced_at", _winners_text)

    def _announce(self, event_id: int, now: datetime, post_field: str, done_field: str,
                  text: Callable[[Session, CommunityEvent], str],
                  recorded: Optional[Callable] = None) -> None:
        """Post once (the post id is kept on the event, so a run taken over after a crash does
        not post again), notify everyone not yet told, then mark it done (`done_field`)."""
        with session_scope(self.db) as session:
            event = get_event(session, event_id)
            if getattr(event, done_field) is not None:
                return
            if getattr(event, post_field) is None:
                setattr(event, post_field, self._post(session, event, text(session, event)))
                session.add(event)
                session.commit()
            post_id = getattr(event, post_field)
        self._notify_everyone(post_id)
        with session_scope(self.db) as session:
            event = get_event(session, event_id)
            setattr(event, done_field, now)
            session.add(event)
            if recorded is not None:
                domain_events.record(session, recorded(event, post_id))
            session.commit()

    def _post(self, session: Session, event: CommunityEvent, body: str) -> Optional[int]:
        author = session.get(User, event.created_by) if event.created_by else None
        author = author or session.exec(select(User).where(User.role == "admin")
                                        .order_by(User.id)).first()
        if author is None:
            log.warning("event %s has no admin left to announce it in the feed", event.id)
            return None
        try:
            post = create_post(session, author, {"kind": "text", "body": body,
                                                 "tags": ["event"]}, self.moderator)
        except KindredError as exc:  # refused by moderation: the notifications still go out
            log.warning("event %s's announcement was not posted: %s", event.id, exc.code)
            return None
        return post.id

    def _notify_everyone(self, post_id: Optional[int]) -> None:
        if post_id is None:
            return
        last = 0
        while True:
            with session_scope(self.db) as session:
                ids = list(session.exec(select(User.id).where(User.id > last,
                                                              User.banned_at.is_(None))
                                        .order_by(User.id).limit(NOTIFY_BATCH)))
                told = set(session.exec(select(Notification.user_id).where(
                    Notification.post_id == post_id, Notification.user_id.in_(ids or [0]))))
            if not ids:
                return
            self.notify("event", [i for i in ids if i not in told], post_id=post_id)
            last = ids[-1]


def _start_text(event: CommunityEvent) -> str:
    lines = [f"Event: {event.name}", f"Theme: {event.theme}",
             f"From {event.starts_at:%Y-%m-%d %H:%M} to {event.ends_at:%Y-%m-%d %H:%M} UTC."]
    if event.description:
        lines.append(event.description)
    if event.prizes:
        lines.append("Creator contest: enter one of your public characters; prizes of "
                     + ", ".join(f"{gems} gems" for gems in event.prizes) + ".")
    if event.banner_id:
        lines.append("A limited card banner runs while the event does.")
    return "\n".join(lines)[:2000]


def _winners_text(session: Session, event: CommunityEvent) -> str:
    placed = sorted((e for e in entries_of(session, event.id) if e.place), key=lambda e: e.place)
    lines = [f"Winners of {event.name}:"]
    for entry in placed:
        character = session.get(Character, entry.character_id)
        creator = session.get(User, entry.creator_id)
        lines.append(f"{entry.place}. {character.name if character else 'A character'} by "
                     f"{creator.username if creator else 'a creator'}: {entry.score} returning "
                     f"people, {entry.prize_gems} gems")
    if not placed:
        lines.append("No entry brought people back on two days this time.")
    return "\n".join(lines)[:2000]
