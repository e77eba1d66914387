"""Characters as members of the community: a character whose creator turned `community_replies`
on answers comments that ask it something or name it, and welcomes a new member's first post.
Both run in the background (domain event subscribers registered in app/wiring.py), speak through
the local model at low priority (community.voice), are stored through the comment service (so
through moderation, as `author_kind` "character") and never answer a character. No Flask here.

    Members(db, engine, moderator, settings, notify=None)
        .on_comment(CommentAdded) -> Comment | None       a character's answer, if one is due
        .on_post(PostPublished) -> Comment | None         a welcome, if one is due
    subscribe(bus, members)

Decisions written down here (docs/community.md, "Characters as members"):
- Who may answer a comment: the character the post is about and the character that wrote the
  post, if it takes part and anyone may see it.
- When: the comment names it (its full name or its first name, whole words, `@` optional), or
  asks a question ("?") of it: a reply to one of its comments, or a top-level comment on a post
  the character wrote itself. A question on a person's post is taken as asked of that person.
- Limits: at most COMMUNITY_REPLIES_PER_THREAD_HOUR answers of one character on one post (the
  thread: one level of replies) in the last hour, counted per process under one lock; a comment
  written by a character is never answered, so two characters cannot talk each other into a loop.
- The answer goes into the comment's thread. Refused by moderation: nothing is stored (the flag
  goes to moderators); held: stored as held, seen by moderators only.
- Welcome: a person's first post ever (no earlier post of theirs, in any state) gets one comment
  from a character they follow (newest follow first), or else liked, that takes part, that anyone
  may see and that suits the author's age, and a `welcome` notification."""
import logging
import re
import threading
from datetime import timedelta
from typing import Callable, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from characters.models import Character, CharacterFollow, CharacterLike
from characters.service import age_allows, can_view
from characters.sharing import taking_part
from community.comments import add_comment
from community.models import Comment, Post
from community.voice import Turn, speak
from core.db import session_scope, utcnow
from core.errors import KindredError
from core.event_types import CommentAdded, PostPublished
from core.events import EventBus
from core.users import User

log = logging.getLogger(__name__)

CONTEXT_CHARS = 300  # of the post, in what the character reads
Notify = Callable[..., object]  # community.notifications.Notifier.notify


class Members:
    def __init__(self, db, engine, moderator, settings, notify: Optional[Notify] = None,
                 clock=utcnow):
        self.db, self.engine, self.moderator, self.settings = db, engine, moderator, settings
        self.notify, self.clock = notify, clock
        self._one_at_a_time = threading.Lock()  # the per-thread limit, checked and kept

    def on_comment(self, event: CommentAdded) -> Optional[Comment]:
        if event.author_character_id is not None:  # never answer a character: no bot loops
            return None
        with self._one_at_a_time:
            with session_scope(self.db) as session:
                found = self._addressed(session, event)
                if found is None:
                    return None
                character, post, comment, turns, listener, situation = found
            text = speak(self.engine, self.settings, character, turns, listener, situation)
            if not text:
                return None
            with session_scope(self.db) as session:
                if self._limit_reached(session, post.id, character.id):
                    return None
                return self._comment(session, post.id, character.id, text,
                                     comment.parent_id or comment.id)

    def on_post(self, event: PostPublished) -> Optional[Comment]:
        if event.author_id is None:
            return None
        with session_scope(self.db) as session:
            post = session.get(Post, event.post_id)
            author = session.get(User, event.author_id)
            if post is None or author is None or post.status != "published" or \
                    _posted_before(session, post):
                return None
            character = _welcomer(session, author)
            if character is None or _has_commented(session, post.id, character.id):
                return None
            name = author.display_name or author.username
            said = _post_text(post) or "(a first post)"
            situation = (f"You are {character.name}, a character taking part in the Kindred "
                         f"community feed. {name}, who likes you, just made their very first "
                         f"post. Welcome them to the community warmly, in one or two short "
                         f"sentences, in your own voice.")
        text = speak(self.engine, self.settings, character, [Turn("user", said)], name,
                     situation) or f"Welcome to the community, {name}!"
        with session_scope(self.db) as session:
            if _has_commented(session, post.id, character.id):
                return None
            welcome = self._comment(session, post.id, character.id, text, None, welcome=True)
        if welcome is not None and self.notify is not None:
            self.notify("welcome", [author.id], actor_character_id=character.id,
                        post_id=post.id, comment_id=welcome.id)
        return welcome

    def _addressed(self, session: Session, event: CommentAdded):
        """(character, post, comment, turns, listener, situation) when a character is asked."""
        comment, post = session.get(Comment, event.comment_id), session.get(Post, event.post_id)
        if comment is None or post is None or comment.author_id is None or \
                comment.status != "published" or post.status != "published":
            return None
        parent = session.get(Comment, comment.parent_id) if comment.parent_id else None
        candidates = list(dict.fromkeys(i for i in (post.author_character_id, post.character_id)
                                        if i is not None))
        willing = taking_part(session, candidates)
        for character_id in (i for i in candidates if i in willing):
            character = session.get(Character, character_id)
            if character is None or not can_view(character, None):
                continue
            its_comment = parent is not None and parent.author_character_id == character.id
            its_post = parent is None and post.author_character_id == character.id
            asked = "?" in comment.body and (its_comment or its_post)
            if not (names(comment.body, character.name) or asked):
                continue
            if self._limit_reached(session, post.id, character.id):
                log.info("%s has answered on post %s enough this hour", character.name, post.id)
                return None
            author = session.get(User, comment.author_id)
            listener = author.display_name or author.username
            turns = ([Turn("assistant", parent.body)] if its_comment else []) + [
                Turn("user", comment.body)]
            about = "you wrote" if post.author_character_id == character.id else "about you"
            situation = (f"You are {character.name}, a character taking part in the Kindred "
                         f"community feed as yourself. {listener} commented on a post {about}: "
                         f"\"{_post_text(post)[:CONTEXT_CHARS]}\". Answer their comment in one "
                         f"or two short sentences, in your own voice.")
            return character, post, comment, turns, listener, situation
        return None

    def _limit_reached(self, session: Session, post_id: int, character_id: int) -> bool:
        since = self.clock() - timedelta(hours=1)
        answered = session.exec(select(sa.func.count()).select_from(Comment).where(
            Comment.post_id == post_id, Comment.author_character_id == character_id,
            Comment.status != "deleted", Comment.created_at >= since)).one()
        return answered >= self.settings["COMMUNITY_REPLIES_PER_THREAD_HOUR"]

    def _comment(self, session: Session, post_id: int, character_id: int, text: str,
                 parent_id: Optional[int], welcome: bool = False) -> Optional[Comment]:
        post, character = session.get(Post, post_id), session.get(Character, character_id)
        try:
            return add_comment(session, post, None, text, self.moderator, parent_id,
                               author_character=character, welcome=welcome)
        except KindredError as exc:  # refused by moderation, or the post went meanwhile
            log.info("%s's comment on post %s was not stored: %s", character.name, post_id,
                     exc.code)
            return None


def subscribe(bus: EventBus, members: Members) -> None:
    bus.subscribe(CommentAdded, members.on_comment, background=True,
                  name="community.character_replies")
    bus.subscribe(PostPublished, members.on_post, background=True,
                  name="community.character_welcome")


def names(text: str, name: str) -> bool:
    """`text` names the character: its full name or its first name (3+ letters), as whole words,
    case-insensitive, with or without a leading @."""
    forms = {name.strip()}
    first = name.split()[0] if name.split() else ""
    if len(first) >= 3:
        forms.add(first)
    return any(re.search(rf"(?<!\w)@?{re.escape(form)}(?!\w)", text, re.IGNORECASE)
               for form in forms if form)


def _posted_before(session: Session, post: Post) -> bool:
    return session.exec(select(Post.id).where(Post.author_id == post.author_id,
                                              Post.id != post.id).limit(1)).first() is not None


def _welcomer(session: Session, author: User) -> Optional[Character]:
    """A character the author follows (newest first), or else liked, that takes part, anyone may
    see and suits the author's age."""
    followed = session.exec(select(CharacterFollow.character_id)
                            .where(CharacterFollow.user_id == author.id)
                            .order_by(CharacterFollow.created_at.desc())).all()
    liked = session.exec(select(CharacterLike.character_id)
                         .where(CharacterLike.user_id == author.id)
                         .order_by(CharacterLike.created_at.desc())).all()
    ordered = list(dict.fromkeys([*followed, *liked]))
    willing = taking_part(session, ordered)
    for character_id in (i for i in ordered if i in willing):
        character = session.get(Character, character_id)
        if can_view(character, None) and age_allows(session, character, author.id):
            return character
    return None


def _has_commented(session: Session, post_id: int, character_id: int) -> bool:
    return session.exec(select(Comment.id).where(
        Comment.post_id == post_id, Comment.author_character_id == character_id)
        .limit(1)).first() is not None


def _post_text(post: Post) -> str:
    """What a reader sees first: the caption, else the first line of the exchange."""
    if post.body.strip():
        return post.body.strip()
    for line in post.excerpt or []:
        if isinstance(line, dict) and str(line.get("content") or "").strip():
            return f"{line.get('name') or 'someone'}: {line['content'].strip()}"
    return ""
