"""Likes on posts: idempotent both ways, with the post's like_count changed in the same
transaction as the like row (an SQL increment, so two people liking at once both count).
No Flask here.

    like(session, post, user_id) -> dict      {liked: True, likes}; PostLiked only for a new like
    unlike(session, post, user_id) -> dict    {liked: False, likes}

Only published posts take likes (a held post's author sees it, but cannot like it into the
feed): 409 `not_published`."""
import sqlalchemy as sa
from sqlmodel import Session

from community.models import Post, PostLike
from core import events
from core.errors import Conflict
from core.event_types import PostLiked


def like(session: Session, post: Post, user_id: int) -> dict:
    _check_published(post)
    if session.get(PostLike, (user_id, post.id)) is None:
        try:
            session.add(PostLike(user_id=user_id, post_id=post.id))
            session.flush()
            _count(session, post, +1)
            events.record(session, PostLiked(post_id=post.id, user_id=user_id))
            session.commit()
        except sa.exc.IntegrityError:  # the same like sent twice at once: the first one counts
            session.rollback()
    return _state(session, post, True)


def unlike(session: Session, post: Post, user_id: int) -> dict:
    removed = session.execute(sa.delete(PostLike).where(PostLike.user_id == user_id,
                                                        PostLike.post_id == post.id))
    if removed.rowcount:  # a second unlike racing this one removes nothing and counts nothing
        _count(session, post, -1)
    session.commit()
    return _state(session, post, False)


def _check_published(post: Post) -> None:
    if post.status != "published":
        raise Conflict("not_published", "Only published posts can be liked; this one is "
                                        f"{'in review' if post.status == 'held' else post.status}.")


def _count(session: Session, post: Post, delta: int) -> None:
    session.execute(sa.update(Post).where(Post.id == post.id)
                    .values(like_count=Post.like_count + delta))


def _state(session: Session, post: Post, liked: bool) -> dict:
    session.refresh(post)
    return {"post_id": post.id, "liked": liked, "likes": post.like_count}
