"""Cold start: on a fresh install the seeded cast fills the feed, so a new user's feed is never
empty (python -m app.setup seed, run by `make run`). No Flask here.

    seed_feed(db, settings, moderator=None, engine_factory=None, day=None) -> dict

- The seeded cast (characters without an owner) takes part in the community: their
  `community_replies` is turned on once, when they have no settings yet (an operator's later
  choice stays).
- Each posts an introduction (kind `intro`), written from its card fields: no model needed.
- Their answers to the day's topic (and its scene) need the model. By default the server's
  scheduler writes them right after the first start (community/scheduler.py: a feed that never
  had a topic answer runs the day's topic at once, in the background), so this step stays fast.
  With COMMUNITY_SEED_TOPIC=1 this step writes them itself, on a fresh install only (no topic
  answer yet, ever), loading the model with `engine_factory()` only then.
- Every seeded post is marked `seeded`, and written by the character (`author_kind`
  "character"), so it says it comes from a character. Seeding again posts nothing twice."""
import logging
import re
from datetime import date
from typing import Callable, Optional

from sqlmodel import Session, select

from characters.models import Character, CharacterCommunity
from characters.sharing import save_settings, settings_of
from community.models import Post
from community.posts import create_post
from community.topics import TopicRun, never_answered
from conversations.placeholders import fill_placeholders
from core.db import session_scope, utcnow
from core.errors import KindredError

log = logging.getLogger(__name__)

INTRO_SENTENCES = 2


def seed_feed(db, settings, moderator=None, engine_factory: Optional[Callable] = None,
              day: Optional[date] = None) -> dict:
    """Introductions of the seeded cast, and with an `engine_factory` on a fresh install their
    answers to the day's topic. Returns {intros, answers, scene}: what this call posted."""
    with session_scope(db) as session:
        cast = _seeded_cast(session)
        intros = sum(_introduce(session, character, moderator) for character in cast)
    posted = {"intros": intros, "answers": 0, "scene": False}
    if cast and engine_factory is not None and never_answered(db):
        run = TopicRun(db, engine_factory(), moderator, settings)
        result = run.run(day or utcnow().date(), seeded=True, characters=[c.id for c in cast])
        posted.update(answers=result["answers"], scene=result["scene"])
    return posted


def intro_text(character: Character) -> str:
    """The introduction a character posts, from its card: its tagline and the first sentences
    of its description, placeholders filled as if speaking to everyone."""
    fill = lambda text: " ".join(fill_placeholders(text or "", character.name,  # noqa: E731
                                                   "everyone").split())
    parts = [f"Hello, I'm {character.name}."]
    if tagline := fill(character.tagline).strip():
        parts.append(tagline if tagline[-1] in ".!?" else tagline + ".")
    sentences = re.split(r"(?<=[.!?])\s+", fill(character.description))
    described = " ".join(s for s in sentences[:INTRO_SENTENCES] if s)
    text = " ".join(parts)
    return f"{text}\n\n{described}".strip() if described else text


def _seeded_cast(session: Session) -> list[Character]:
    cast = list(session.exec(select(Character).where(Character.creator_id.is_(None))
                             .order_by(Character.id)))
    for character in cast:
        if session.get(CharacterCommunity, character.id) is None:
            save_settings(session, character.id, {"community_replies": True})
    return [c for c in cast if settings_of(session, c.id)["community_replies"]
            and c.visibility == "public" and not c.moderation_hidden]


def _introduce(session: Session, character: Character, moderator) -> bool:
    done = session.exec(select(Post.id).where(Post.author_character_id == character.id,
                                              Post.kind == "intro")).first()
    if done is not None:
        return False
    try:
        create_post(session, None, {"kind": "intro", "body": intro_text(character)}, moderator,
                    author_character=character, seeded=True)
    except KindredError as exc:
        log.warning("%s's introduction was not posted: %s", character.name, exc.code)
        return False
    return True
