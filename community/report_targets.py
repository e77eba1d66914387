"""Posts and comments as moderation targets: reported through POST /api/reports, shown in the
queue with their context, hidden and restored by moderators. app/wiring.py registers them with
moderation.targets.register_target, so moderation never imports community. No Flask here.

Hiding a post or comment sets its status `hidden` (gone for everyone but its author, who sees
it marked); restoring publishes it, which also releases one that was held for review."""
from typing import Optional

from sqlmodel import Session

from characters.models import Character
from community import comments, posts
from community.models import Comment, Post
from core.errors import not_found
from core.users import User
from moderation.targets import TargetProvider, register_target

MAX_CONTEXT_CHARS = 2000


def register() -> None:
    register_target("post", TargetProvider(
        author_of=_post_author, context=_post_context, visible_author=_visible_post_author,
        noun="post", set_hidden=_hide_post))
    register_target("comment", TargetProvider(
        author_of=_comment_author, context=_comment_context,
        visible_author=_visible_comment_author, noun="comment", set_hidden=_hide_comment))


def _post_author(session: Session, post_id: int) -> Optional[int]:
    post = session.get(Post, post_id)
    if post is None:
        raise not_found("post")
    return _author_id(session, post)


def _visible_post_author(session: Session, viewer_id: int, post_id: int) -> Optional[int]:
    post = posts.visible_post(session, post_id, session.get(User, viewer_id))
    return _author_id(session, post)


def _hide_post(session: Session, post_id: int, hidden: bool) -> None:
    post = session.get(Post, post_id)
    if post is not None:
        posts.set_status(session, post, "hidden" if hidden else "published")


def _post_context(session: Session, post_id: int) -> list[dict]:
    post = session.get(Post, post_id)
    if post is None:
        return []
    character = session.get(Character, post.character_id) if post.character_id else None
    lines = [{"field": "kind", "text": post.kind}, {"field": "status", "text": post.status},
             {"field": "body", "text": post.body[:MAX_CONTEXT_CHARS]}]
    if character is not None:
        lines.append({"field": "character", "text": character.name})
    lines += [{"field": f"excerpt: {line.get('name', '')}",
               "text": str(line.get("content", ""))[:MAX_CONTEXT_CHARS]}
              for line in post.excerpt or []]
    if post.tags:
        lines.append({"field": "tags", "text": " ".join(f"#{t}" for t in post.tags)})
    return lines


def _comment_author(session: Session, comment_id: int) -> Optional[int]:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise not_found("comment")
    return _author_id(session, comment)


def _visible_comment_author(session: Session, viewer_id: int, comment_id: int
                            ) -> Optional[int]:
    comment = comments.visible_comment(session, comment_id, session.get(User, viewer_id))
    return _author_id(session, comment)


def _hide_comment(session: Session, comment_id: int, hidden: bool) -> None:
    comment = session.get(Comment, comment_id)
    if comment is not None:
        comments.set_status(session, comment, "hidden" if hidden else "published")


def _comment_context(session: Session, comment_id: int) -> list[dict]:
    """The post it is on, the comment it answers, and the comment itself."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        return []
    post = session.get(Post, comment.post_id)
    parent = session.get(Comment, comment.parent_id) if comment.parent_id else None
    summary = f"#{post.id} ({post.kind}): {post.body}"
    lines = [{"field": "post", "text": summary[:MAX_CONTEXT_CHARS]}]
    if parent is not None:
        lines.append({"field": "replying to", "text": parent.body[:MAX_CONTEXT_CHARS]})
    lines += [{"field": "comment", "text": comment.body[:MAX_CONTEXT_CHARS]},
              {"field": "status", "text": comment.status}]
    return lines


def _author_id(session: Session, row) -> Optional[int]:
    """A person's post or comment is theirs; a character's is its creator's."""
    if row.author_id is not None:
        return row.author_id
    character = session.get(Character, row.author_character_id) if row.author_character_id \
        else None
    return character.creator_id if character is not None else None
