"""Notifications: what others did that concerns you, stored and pushed live. No Flask here.

    Notifier(db, on_new)              writes notifications in its own session, then calls
                                      on_new(user_id, payload) for each (app/wiring.py emits
                                      `notify:new` to the user's sockets)
    subscribe(bus, notifier)          the triggers, as domain event subscribers
    list_notifications(session, user_id, limit, before) -> {notifications, unread}
    mark_read(session, user_id, ids=None) -> {marked, unread}

The triggers (docs/community.md, "Notifications"):
- `reply`: a comment on your post, or a reply to your comment (CommentAdded), except a
  character's welcome of your first post, which is only the `welcome` below;
- `like`: a like on your post (PostLiked); liking again after an unlike while the first one is
  unread adds nothing;
- `follow`: someone followed you as a creator (CreatorFollowed), once while unread;
- `post`: a creator or a character you follow posted (PostPublished), to at most MAX_FANOUT
  followers (the most recent), and only to those who may read the post;
- `welcome`: a character welcomed your first post (community.members calls Notifier.notify);
- `event`: a community event started, or its winners were announced (events/announce.py calls
  Notifier.notify with the announcement post, to everyone).
Nobody is notified of what they did themselves, nor of what a creator they blocked did.
Notifications about a deleted post are not listed."""
import logging
from typing import Callable, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from characters.models import Character, CharacterFollow, CreatorFollow
from characters.service import character_summary
from community.models import NOTIFICATION_KINDS, Comment, Notification, Post
from community.posts import user_json, visible_post
from core.db import is_id, utcnow
from core.errors import KindredError
from core.event_types import CommentAdded, CreatorFollowed, PostLiked, PostPublished
from core.events import EventBus
from core.users import User
from discovery.models import DiscoveryPreferences

log = logging.getLogger(__name__)

MAX_FANOUT = 1000
DEFAULT_LIMIT, MAX_LIMIT = 30, 100
SNIPPET_CHARS = 140
DEDUPED = ("like", "follow")  # not repeated while an identical one is unread
TEXTS = {"reply": "{actor} replied to you", "like": "{actor} liked your post",
         "follow": "{actor} followed you", "post": "{actor} posted",
         "welcome": "{actor} welcomed you to the community",
         "event": "News of a community event"}

OnNew = Callable[[int, dict], None]


class Notifier:
    def __init__(self, db, on_new: Optional[OnNew] = None):
        self.db, self.on_new = db, on_new

    def notify(self, kind: str, user_ids, *, actor_id: Optional[int] = None,
               actor_character_id: Optional[int] = None, post_id: Optional[int] = None,
               comment_id: Optional[int] = None) -> list[Notification]:
        """Notify each of `user_ids` (their own acts and blocked actors left out); commits in a
        session of its own, then pushes each one live."""
        if kind not in NOTIFICATION_KINDS:
            raise ValueError(f"unknown notification kind {kind!r}")
        with Session(self.db, expire_on_commit=False) as session:
            made = []
            for user_id in dict.fromkeys(u for u in user_ids if u and u != actor_id):
                if not _wanted(session, user_id, kind, actor_id, actor_character_id, post_id):
                    continue
                row = Notification(user_id=user_id, kind=kind, actor_id=actor_id,
                                   actor_character_id=actor_character_id, post_id=post_id,
                                   comment_id=comment_id)
                session.add(row)
                made.append(row)
            session.commit()
            payloads = [(n.user_id, {"notification": notification_json(session, n),
                                     "unread": unread_count(session, n.user_id)})
                        for n in made]
        for user_id, payload in payloads:
            if self.on_new is not None:
                try:
                    self.on_new(user_id, payload)
                except Exception:  # the stored notification stands; the badge catches up
                    log.exception("could not push notification to user %s", user_id)
        return made

    # -- the triggers ---------------------------------------------------------------------

    def on_comment(self, event: CommentAdded) -> None:
        if event.welcome:  # community.members notifies the newcomer `welcome`: one, not two
            return
        with Session(self.db) as session:
            post = session.get(Post, event.post_id)
            parent = session.get(Comment, event.parent_id) if event.parent_id else None
            targets = [post.author_id if post else None, parent.author_id if parent else None]
        self.notify("reply", targets, actor_id=event.author_id,
                    actor_character_id=event.author_character_id, post_id=event.post_id,
                    comment_id=event.comment_id)

    def on_like(self, event: PostLiked) -> None:
        with Session(self.db) as session:
            post = session.get(Post, event.post_id)
            author_id = post.author_id if post else None
        self.notify("like", [author_id], actor_id=event.user_id, post_id=event.post_id)

    def on_follow(self, event: CreatorFollowed) -> None:
        self.notify("follow", [event.creator_id], actor_id=event.follower_id)

    def on_post(self, event: PostPublished) -> None:
        with Session(self.db) as session:
            followers = _followers(session, event.author_id, event.author_character_id)
        self.notify("post", followers, actor_id=event.author_id,
                    actor_character_id=event.author_character_id, post_id=event.post_id)


def subscribe(bus: EventBus, notifier: Notifier) -> None:
    # Inline: each opens its own session after the producer's commit; the fan-out is bounded.
    bus.subscribe(CommentAdded, notifier.on_comment, name="community.notify_reply")
    bus.subscribe(PostLiked, notifier.on_like, name="community.notify_like")
    bus.subscribe(CreatorFollowed, notifier.on_follow, name="community.notify_follow")
    bus.subscribe(PostPublished, notifier.on_post, name="community.notify_post")


def list_notifications(session: Session, user_id: int, limit=None, before=None) -> dict:
    """The user's notifications, newest first (`before`: an id, for the next page)."""
    limit = _limit(limit)
    query = _listed(user_id).order_by(Notification.id.desc()).limit(limit)
    if before is not None:
        if not is_id(before):
            raise KindredError("bad_request", "'before' must be a notification id.")
        query = query.where(Notification.id < before)
    rows = list(session.exec(query))
    return {"notifications": [notification_json(session, n) for n in rows],
            "unread": unread_count(session, user_id)}


def mark_read(session: Session, user_id: int, ids=None) -> dict:
    """Mark the user's given notifications (all unread ones when `ids` is None) read. Commits."""
    if ids is not None and (not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids)):
        raise KindredError("bad_request", "'ids' must be a list of notification ids (or left "
                                          "out, for all).")
    update = sa.update(Notification).where(Notification.user_id == user_id,
                                           Notification.read_at.is_(None))
    if ids is not None:
        update = update.where(Notification.id.in_(ids or [0]))
    marked = session.execute(update.values(read_at=utcnow())).rowcount
    session.commit()
    return {"marked": marked, "unread": unread_count(session, user_id)}


def unread_count(session: Session, user_id: int) -> int:
    query = _listed(user_id).where(Notification.read_at.is_(None))
    return session.exec(select(sa.func.count()).select_from(query.subquery())).one()


def notification_json(session: Session, n: Notification) -> dict:
    actor = session.get(User, n.actor_id) if n.actor_id else None
    character = session.get(Character, n.actor_character_id) if n.actor_character_id else None
    name = character.name if character is not None else (
        (actor.display_name or actor.username) if actor is not None else "Someone")
    return {"id": n.id, "kind": n.kind, "read": n.read_at is not None,
            "created_at": n.created_at.isoformat(), "actor": user_json(actor),
            "actor_character": character_summary(character) if character else None,
            "post_id": n.post_id, "comment_id": n.comment_id,
            "text": TEXTS[n.kind].format(actor=name), "snippet": _snippet(session, n),
            "url": f"/posts/{n.post_id}" if n.post_id else (
                f"/creators/{actor.username}" if actor is not None else None)}


def _listed(user_id: int):
    """The user's notifications, without those about a deleted post."""
    return (select(Notification).outerjoin(Post, Post.id == Notification.post_id)
            .where(Notification.user_id == user_id,
                   sa.or_(Notification.post_id.is_(None), Post.status != "deleted")))


def _wanted(session: Session, user_id: int, kind: str, actor_id, actor_character_id,
            post_id) -> bool:
    prefs = session.get(DiscoveryPreferences, user_id)
    if prefs is not None and actor_id is not None and actor_id in (prefs.blocked_creator_ids
                                                                   or []):
        return False
    if kind == "post" and post_id is not None:
        try:
            visible_post(session, post_id, session.get(User, user_id))
        except KindredError:
            return False
    if kind in DEDUPED:
        same = select(Notification.id).where(
            Notification.user_id == user_id, Notification.kind == kind,
            Notification.actor_id == actor_id, Notification.read_at.is_(None))
        if post_id is not None:
            same = same.where(Notification.post_id == post_id)
        if session.exec(same).first() is not None:
            return False
    return True


def _followers(session: Session, author_id: Optional[int], character_id: Optional[int]
               ) -> list[int]:
    ids: list[int] = []
    if author_id is not None:
        ids += session.exec(select(CreatorFollow.follower_id)
                            .where(CreatorFollow.creator_id == author_id)
                            .order_by(CreatorFollow.created_at.desc()).limit(MAX_FANOUT)).all()
    if character_id is not None:
        ids += session.exec(select(CharacterFollow.user_id)
                            .where(CharacterFollow.character_id == character_id)
                            .order_by(CharacterFollow.created_at.desc()).limit(MAX_FANOUT)).all()
    return list(dict.fromkeys(ids))[:MAX_FANOUT]


def _snippet(session: Session, n: Notification) -> str:
    source = session.get(Comment, n.comment_id) if n.comment_id else (
        session.get(Post, n.post_id) if n.post_id else None)
    text = getattr(source, "body", "") or ""
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS - 1].rstrip() + "…"


def _limit(value) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise KindredError("bad_request", f"'limit' must be from 1 to {MAX_LIMIT}.")
    return value
