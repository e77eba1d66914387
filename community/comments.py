"""Comments on posts, with one level of replies. No Flask here.

    add_comment(session, post, author, body, moderator, parent_id=None, *, author_character=None)
    edit_comment(session, comment_id, user, body, moderator)    your own, checked again
    delete_comment(session, comment_id, user)                   your own, or a moderator
    list_comments(session, post, viewer) -> list[dict]          threads, oldest first
    visible_comment(session, comment_id, viewer) -> Comment     404 unless `viewer` may read it

Decisions written down here (docs/community.md, "Reacting"):
- Only published posts take comments (a deleted post is 404, a held one 409 `not_published`).
- `parent_id` must be a comment on the same post that the commenter can see (404 otherwise). A
  reply to a reply joins that reply's thread: its parent becomes the thread's first comment,
  so there is one level of replies, never more.
- Bodies are trimmed, 1..MAX_BODY_CHARS characters, and checked on surface `comment` (mature
  allowed on a mature post for adults). A sure block or age gate is 422 `blocked_content` and
  stores nothing (a ContentFlagged on the author for moderators); hold stores it `held`, seen by
  its author only; what is stored is the pipeline's text (private details masked).
- comment_count counts published comments, changed in the same transaction as the comment.
- A deleted comment with replies stays in its thread as a placeholder without text or author."""
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from characters.models import Character
from characters.service import character_summary
from community.models import Comment, Post
from community import screening
from community.posts import rows_by_id, user_json, visible_post
from core import events
from core.auth.roles import has_role
from core.db import is_id, utcnow
from core.errors import Conflict, KindredError, not_found
from core.event_types import CommentAdded
from core.text import check_text
from core.users import User, check_standing

MAX_BODY_CHARS = 2000
MAX_THREADS = 500  # top-level comments listed at once
RECENT_FOR_REPEATS = 5  # the writer's last comments the repeat check reads
SURFACE = "comment"


def add_comment(session: Session, post: Post, author: Optional[User], body, moderator,
                parent_id=None, *, author_character: Optional[Character] = None,
                welcome: bool = False) -> Comment:
    """Check and store a comment (or a reply). Commits; raises KindredError, storing nothing.
    `welcome`: a character's welcome of a first post, announced as such (CommentAdded)."""
    if author_character is None:
        check_standing(author, "comment")
    _check_published(post)
    text = _body(body)
    parent = _parent(session, post, parent_id, author) if parent_id is not None else None
    session.commit()  # nothing written yet: the Moderator may use a connection of its own
    decision = screening.screen(moderator, text, SURFACE, post.content_rating, author,
                                author_character, _recent(session, author, author_character))
    screening.refuse_if_sure(session, SURFACE, decision, author, author_character)
    text = _stored_text(decision, text)
    held = screening.held(decision)
    comment = Comment(post_id=post.id, parent_id=parent.id if parent else None, body=text,
                      author_kind="character" if author_character else "user",
                      author_id=author.id if author_character is None else None,
                      author_character_id=author_character.id if author_character else None,
                      status="held" if held else "published")
    session.add(comment)
    session.flush()
    screening.flag_if_due(session, SURFACE, decision, "comment", comment.id, comment.author_id)
    if not held:
        _count(session, post.id, +1)
        events.record(session, CommentAdded(comment_id=comment.id, post_id=post.id,
                                            author_id=comment.author_id,
                                            author_character_id=comment.author_character_id,
                                            parent_id=comment.parent_id, welcome=welcome))
    session.commit()
    return comment


def edit_comment(session: Session, comment_id, user: User, body, moderator) -> Comment:
    """The author's new text, checked again. Commits; on any error nothing changed."""
    comment = _own(session, comment_id, user, "edit")
    check_standing(user, "comment")
    if comment.status == "hidden":
        raise Conflict("hidden", "A moderator hid this comment; it cannot be edited.")
    post = session.get(Post, comment.post_id)
    text = _body(body)
    session.commit()
    decision = screening.screen(moderator, text, SURFACE, post.content_rating, user, None)
    screening.refuse_if_sure(session, SURFACE, decision, user, None)
    text = _stored_text(decision, text)
    held = screening.held(decision)
    if held and comment.status == "published":
        _count(session, post.id, -1)
    elif not held and comment.status == "held":
        # An edit does not release a comment a moderator has not looked at yet.
        held = True
    comment.body, comment.edited_at = text, utcnow()
    comment.status = "held" if held else comment.status
    session.add(comment)
    screening.flag_if_due(session, SURFACE, decision, "comment", comment.id, comment.author_id)
    session.commit()
    return comment


def delete_comment(session: Session, comment_id, user: User) -> Comment:
    comment = visible_comment(session, comment_id, user)
    if comment.author_id != user.id and not has_role(user.role, "moderator"):
        raise KindredError("not_yours", "Only its author or a moderator can delete a comment.",
                           403)
    set_status(session, comment, "deleted")
    session.commit()
    return comment


def set_status(session: Session, comment: Comment, status: str) -> None:
    """Change a comment's status, keeping its post's comment_count right. No commit."""
    if comment.status == status or comment.status == "deleted":
        return
    was_counted, counted = comment.status == "published", status == "published"
    comment.status = status
    session.add(comment)
    if was_counted != counted:
        _count(session, comment.post_id, +1 if counted else -1)


def visible_comment(session: Session, comment_id, viewer: Optional[User]) -> Comment:
    """The comment if `viewer` may read it (and its post); not_found otherwise."""
    comment = session.get(Comment, comment_id) if is_id(comment_id) else None
    if comment is None or comment.status == "deleted" or not _can_read(comment, viewer):
        raise not_found("comment")
    visible_post(session, comment.post_id, viewer)
    return comment


def list_comments(session: Session, post: Post, viewer: Optional[User]) -> list[dict]:
    """The post's threads, oldest first, each with its replies (oldest first)."""
    rows = list(session.exec(select(Comment).where(Comment.post_id == post.id)
                             .order_by(Comment.created_at, Comment.id)))
    viewer_id = getattr(viewer, "id", None)
    shown = [c for c in rows if c.status != "deleted" and _can_read(c, viewer)]
    users = rows_by_id(session, User, {c.author_id for c in shown})
    characters = rows_by_id(session, Character, {c.author_character_id for c in shown})
    replies: dict[int, list[dict]] = {}
    for reply in (c for c in shown if c.parent_id is not None):
        replies.setdefault(reply.parent_id, []).append(
            comment_json(reply, viewer_id, users, characters))
    threads = []
    for top in (c for c in rows if c.parent_id is None):
        if top in shown:
            threads.append({**comment_json(top, viewer_id, users, characters),
                            "replies": replies.get(top.id, [])})
        elif top.id in replies:  # gone, but its replies are not
            threads.append({**_placeholder(top), "replies": replies[top.id]})
    return threads[:MAX_THREADS]


def comment_json(comment: Comment, viewer_id: Optional[int], users: dict, characters: dict
                 ) -> dict:
    if comment.author_kind == "character":
        character = characters.get(comment.author_character_id)
        author = character_summary(character) if character else None
    else:
        author = user_json(users.get(comment.author_id))
    return {"id": comment.id, "post_id": comment.post_id, "parent_id": comment.parent_id,
            "body": comment.body, "author": author, "author_kind": comment.author_kind,
            "status": comment.status, "in_review": comment.status == "held",
            "deleted": False, "mine": viewer_id is not None and comment.author_id == viewer_id,
            "created_at": comment.created_at.isoformat(),
            "edited_at": comment.edited_at.isoformat() if comment.edited_at else None}


def one_comment_json(session: Session, comment: Comment, viewer_id: Optional[int]) -> dict:
    users = rows_by_id(session, User, {comment.author_id})
    characters = rows_by_id(session, Character, {comment.author_character_id})
    return comment_json(comment, viewer_id, users, characters)


def _placeholder(comment: Comment) -> dict:
    return {"id": comment.id, "post_id": comment.post_id, "parent_id": None, "body": "",
            "author": None, "author_kind": comment.author_kind, "status": "deleted",
            "in_review": False, "deleted": True, "mine": False,
            "created_at": comment.created_at.isoformat(), "edited_at": None}


def _can_read(comment: Comment, viewer) -> bool:
    if comment.status == "published":
        return True
    viewer_id = getattr(viewer, "id", None)
    return viewer_id is not None and (comment.author_id == viewer_id or
                                      has_role(getattr(viewer, "role", ""), "moderator"))


def _check_published(post: Post) -> None:
    if post.status != "published":
        raise Conflict("not_published", "Only published posts take comments; this one is "
                                        f"{'in review' if post.status == 'held' else post.status}.")


def _parent(session: Session, post: Post, parent_id, viewer: Optional[User]) -> Comment:
    parent = session.get(Comment, parent_id) if is_id(parent_id) else None
    if parent is None or parent.post_id != post.id or parent.status == "deleted" or \
            not _can_read(parent, viewer):
        raise not_found("comment on this post to reply to")
    if parent.parent_id is not None:  # one level: a reply to a reply joins its thread
        parent = session.get(Comment, parent.parent_id)
    return parent


def _own(session: Session, comment_id, user: User, doing: str) -> Comment:
    comment = visible_comment(session, comment_id, user)
    if comment.author_id != user.id:
        raise KindredError("not_yours", f"You can only {doing} your own comments.", 403)
    return comment


def _body(body) -> str:
    if body is not None and not isinstance(body, str):
        raise KindredError("bad_body", "'body' must be text.")
    text = check_text(body or "", "body").strip()
    if not text:
        raise KindredError("empty_body", "A comment needs some text in 'body'.")
    if len(text) > MAX_BODY_CHARS:
        raise KindredError("body_too_long", f"'body' is at most {MAX_BODY_CHARS} characters; "
                                            f"this one has {len(text)}.")
    return text


def _count(session: Session, post_id: int, delta: int) -> None:
    session.execute(sa.update(Post).where(Post.id == post_id)
                    .values(comment_count=Post.comment_count + delta))


def _recent(session: Session, author: Optional[User], character: Optional[Character]
            ) -> tuple[str, ...]:
    """The writer's last comments, for the pipeline's repeat (spam) check."""
    who = Comment.author_character_id == character.id if character is not None else \
        Comment.author_id == author.id
    return tuple(session.exec(select(Comment.body).where(who).order_by(Comment.id.desc())
                              .limit(RECENT_FOR_REPEATS)))


def _stored_text(decision, text: str) -> str:
    """The pipeline's text (private details masked where its policy masks them)."""
    return (decision.text.strip() or text) if decision is not None else text
