"""Follows and likes of characters, follows of creators, and public creator profiles.
No Flask here."""
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from core import events
from core.errors import KindredError, not_found
from core.event_types import CreatorFollowed
from core.users import User
from characters.models import Character, CharacterFollow, CharacterLike, CreatorFollow

KINDS = {"follow": CharacterFollow, "like": CharacterLike}


def set_character_mark(session: Session, user_id: int, character: Character, kind: str,
                       on: bool) -> dict:
    """Follow/like (on=True) or unfollow/unlike a character; idempotent either way."""
    model = KINDS[kind]
    row = session.get(model, (user_id, character.id))
    if on and row is None:
        session.add(model(user_id=user_id, character_id=character.id))
        try:
            session.commit()
        except sa.exc.IntegrityError:  # a concurrent identical request won; same outcome
            session.rollback()
    elif not on and row is not None:
        session.delete(row)
        session.commit()
    return character_marks(session, character.id, user_id)


def character_marks(session: Session, character_id: int, user_id: Optional[int]) -> dict:
    counts = {kind: _count(session, model, model.character_id == character_id)
              for kind, model in KINDS.items()}
    mine = {kind: user_id is not None and session.get(model, (user_id, character_id)) is not None
            for kind, model in KINDS.items()}
    return {"character_id": character_id, "followers": counts["follow"], "likes": counts["like"],
            "following": mine["follow"], "liked": mine["like"]}


def creator_by_username(session: Session, username: str) -> User:
    if not isinstance(username, str) or not 0 < len(username) <= 32:
        raise not_found("creator")
    user = session.exec(select(User).where(User.username_key == username.lower())).first()
    if user is None:
        raise not_found("creator")
    return user


def set_creator_follow(session: Session, follower_id: int, creator: User, on: bool) -> dict:
    if creator.id == follower_id:
        raise KindredError("cannot_follow_self", "You cannot follow yourself.")
    row = session.get(CreatorFollow, (follower_id, creator.id))
    if on and row is None:
        session.add(CreatorFollow(follower_id=follower_id, creator_id=creator.id))
        events.record(session, CreatorFollowed(follower_id=follower_id, creator_id=creator.id))
        try:
            session.commit()
        except sa.exc.IntegrityError:
            session.rollback()
    elif not on and row is not None:
        session.delete(row)
        session.commit()
    return creator_marks(session, creator.id, follower_id)


def creator_marks(session: Session, creator_id: int, viewer_id: Optional[int]) -> dict:
    return {"followers": _count(session, CreatorFollow, CreatorFollow.creator_id == creator_id),
            "following": viewer_id is not None and
            session.get(CreatorFollow, (viewer_id, creator_id)) is not None}


def creator_profile(session: Session, creator: User, viewer_id: Optional[int]) -> dict:
    """The public profile: name, display name and bio (core/profiles.py), join date,
    followers, and the creator's public characters (unlisted and private ones stay off it,
    even for the creator)."""
    from characters.service import character_summary, listed, viewer_is_adult
    characters = list(session.exec(select(Character).where(Character.creator_id == creator.id)
                                   .where(listed(viewer_is_adult(session, viewer_id)))
                                   .order_by(Character.updated_at.desc(), Character.id.desc())))
    likes = _counts_by_character(session, CharacterLike, [c.id for c in characters])
    return {"username": creator.username, "display_name": creator.display_name,
            "bio": creator.bio, "joined_at": creator.created_at.isoformat(),
            **creator_marks(session, creator.id, viewer_id), "is_me": viewer_id == creator.id,
            "characters": [{**character_summary(c), "likes": likes.get(c.id, 0)}
                           for c in characters]}


def _count(session: Session, model, condition) -> int:
    return session.exec(select(sa.func.count()).select_from(model).where(condition)).one()


def _counts_by_character(session: Session, model, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.exec(select(model.character_id, sa.func.count())
                        .where(model.character_id.in_(ids)).group_by(model.character_id))
    return dict(rows.all())
