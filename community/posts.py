"""Posts: what a person (or a character) shares with the community. No Flask here.

    preview(session, author, data) -> dict              what would be posted, masked; stores nothing
    create_post(session, author, data, moderator, *, author_character=None, seeded=False) -> Post
    visible_post(session, post_id, viewer) -> Post      404 unless `viewer` (a User or None) may see it
    delete_post(session, post, user)                    its author or a moderator
    post_json(session, post, viewer_id) / posts_json(session, posts, viewer_id)   the payloads

Decisions written down here (docs/community.md, "Posts"):
- The body's fields: kind, body, conversation_id, message_ids, character_id, story_id, pull_id,
  tags. A field no kind takes is 400 `unknown_field`; one this kind does not take is 400
  `field_not_for_kind` (a `pull_id` on a chat post is a mistake, not something to ignore).
- `chat` needs conversation_id and message_ids; `character` a character_id; `story` a story_id of
  a story you played in story mode (optionally with an excerpt of that play-through's
  conversation); `card` the pull_id of a pull of yours; `text` a body. `text` may name a
  character_id. A caption (`body`) is optional for the other kinds.
- What a post is about must be visible to its author and shareable: a private character, or one
  moderation hid, cannot be posted (404, as for something you cannot see).
- The content rating is the character's; a post about no character is sfw.
- The caption and the excerpt are masked (e-mails, phones, street addresses) before anything
  else, then checked together on surface `post`, with mature allowed when the post is mature and
  its author an adult. Refused (422 `blocked_content`, nothing stored, a ContentFlagged on the
  author for moderators): a sure block or age gate. Held (stored, status `held`, seen by its
  author only, `in_review`): hold, until a moderator restores it. A borderline classifier refusal
  is stored as written, unflagged, as profiles do.
- A held post is published when a moderator restores it (PostPublished then)."""
import re
from dataclasses import dataclass, field
from typing import Optional

from sqlmodel import Session, select

from characters.models import Character
from characters.service import age_allows, can_view, character_summary
from community import screening
from community.excerpts import chat_excerpt, masked_text, merge_kinds
from community.models import CHARACTER_KINDS, USER_KINDS, Post, PostLike
from core import events
from core.auth.roles import has_role
from core.db import is_id, utcnow
from core.errors import KindredError, check_known_fields, not_found
from core.event_types import PostPublished
from core.text import check_text
from core.users import User, check_standing, is_adult
from discovery.models import DiscoveryPreferences
from gacha.collection import card_payload
from gacha.models import Card, Pull
from relationships.models import Story, StoryProgress

MAX_BODY_CHARS = 2000
MAX_TAGS = 5
MAX_TAG_CHARS = 30
MAX_SCENE_LINES = 12
SURFACE = "post"
FIELDS = ("kind", "body", "conversation_id", "message_ids", "character_id", "story_id",
          "pull_id", "tags")
KIND_FIELDS = {
    "chat": {"conversation_id", "message_ids"},
    "character": {"character_id"},
    "story": {"story_id", "conversation_id", "message_ids"},
    "card": {"pull_id"},
    "text": {"character_id"},
    # characters' own posts (community.members): an introduction, a topic answer, a scene
    "intro": {"character_id"},
    "topic": {"character_id"},
    "scene": {"character_id", "excerpt"},
}
_TAG = re.compile(r"^[\w-]+$")


@dataclass
class Draft:
    """A post as it would be stored, before moderation."""
    kind: str
    body: str
    tags: list[str]
    character: Optional[Character] = None
    conversation_id: Optional[int] = None
    excerpt: list[dict] = field(default_factory=list)
    story: Optional[Story] = None
    pull: Optional[Pull] = None
    masked: list[str] = field(default_factory=list)

    @property
    def content_rating(self) -> str:
        return self.character.content_rating if self.character is not None else "sfw"


def preview(session: Session, author: User, data) -> dict:
    """What `data` would post, masked, with what was masked. Stores nothing."""
    check_standing(author, "post")
    draft = build_draft(session, author, data)
    return {"kind": draft.kind, "body": draft.body, "excerpt": draft.excerpt,
            "tags": draft.tags, "content_rating": draft.content_rating,
            "character": character_summary(draft.character) if draft.character else None,
            "story": _story_json(draft.story), "card": _card_json(session, draft.pull),
            "masked": draft.masked}


def create_post(session: Session, author: Optional[User], data, moderator, *,
                author_character: Optional[Character] = None, seeded: bool = False) -> Post:
    """Validate, build the excerpt, mask, moderate and store a post. Commits; raises
    KindredError (nothing stored) on bad input or a refusal. `author_character`: a character
    posting as itself (author may then be None)."""
    if author_character is None:
        if author is None:
            raise KindredError("bad_request", "A post needs an author.")
        check_standing(author, "post")
    draft = build_draft(session, author, data, author_character=author_character)
    session.commit()  # nothing written yet: the Moderator may use a connection of its own
    text = "\n".join([draft.body] + [line["content"] for line in draft.excerpt])
    decision = screening.screen(moderator, text, SURFACE, draft.content_rating, author,
                                author_character)
    screening.refuse_if_sure(session, SURFACE, decision, author, author_character)
    held = screening.held(decision)
    post = Post(kind=draft.kind, body=draft.body, tags=draft.tags, excerpt=draft.excerpt,
                author_kind="character" if author_character else "user",
                author_id=author.id if author is not None and author_character is None else None,
                author_character_id=author_character.id if author_character else None,
                character_id=draft.character.id if draft.character else None,
                conversation_id=draft.conversation_id,
                story_id=draft.story.id if draft.story else None,
                pull_id=draft.pull.id if draft.pull else None,
                content_rating=draft.content_rating, status="held" if held else "published",
                seeded=seeded)
    session.add(post)
    session.flush()
    screening.flag_if_due(session, SURFACE, decision, "post", post.id, post.author_id)
    if not held:
        events.record(session, published_event(post))
    session.commit()
    return post


def build_draft(session: Session, author: Optional[User], data, *,
                author_character: Optional[Character] = None) -> Draft:
    """The validated, masked post `data` describes; raises KindredError."""
    if not isinstance(data, dict):
        raise KindredError("bad_request", "Send a JSON object describing the post.")
    kinds = CHARACTER_KINDS + ("text",) if author_character is not None else USER_KINDS
    kind = data.get("kind")
    if kind not in kinds:
        raise KindredError("bad_kind", f"'kind' must be one of {', '.join(kinds)}.")
    allowed = {"kind", "body", "tags"} | KIND_FIELDS[kind]
    given = {name for name, value in data.items() if value is not None}
    check_known_fields(given, set(FIELDS) | {"excerpt"}, f"a post has: {', '.join(FIELDS)}.")
    wrong = sorted(given - allowed)
    if wrong:
        raise KindredError("field_not_for_kind", f"A {kind} post does not take "
                                                 f"{', '.join(map(repr, wrong))}.")
    body, body_kinds = masked_text(_body(data.get("body"), required=kind in ("text", "topic")))
    draft = Draft(kind=kind, body=body, tags=_tags(data.get("tags")))
    viewer_id = author.id if author is not None else None
    if author_character is not None:
        _character_draft(session, draft, data, author_character)
    elif kind == "chat":
        excerpt = chat_excerpt(session, author, data.get("conversation_id"),
                               data.get("message_ids"))
        draft.character = _shareable(session, excerpt.character.id, viewer_id)
        draft.conversation_id, draft.excerpt = excerpt.conversation.id, excerpt.lines
        merge_kinds(draft.masked, excerpt.masked)
    elif kind == "character" or (kind == "text" and data.get("character_id") is not None):
        draft.character = _shareable(session, _required_id(data, "character_id"), viewer_id)
    elif kind == "story":
        _story_draft(session, draft, author, data)
    elif kind == "card":
        pull = session.get(Pull, data.get("pull_id")) if is_id(data.get("pull_id")) else None
        if pull is None or pull.user_id != author.id:
            raise not_found("card pull of yours")
        draft.pull = pull
        draft.character = _shareable(session, session.get(Card, pull.card_id).character_id,
                                     viewer_id)
    merge_kinds(draft.masked, body_kinds)
    return draft


def visible_post(session: Session, post_id, viewer) -> Post:
    """The post if `viewer` (a User or the signed-in current_user, with `id` and `role`; None:
    signed out) may read it; not_found otherwise. Its author sees it while held or hidden; moderators see everything but deleted posts; others see published
    posts about characters they may see, mature ones only with mature content turned on."""
    post = session.get(Post, post_id) if is_id(post_id) else None
    if post is None or post.status == "deleted":
        raise not_found("post")
    viewer_id = getattr(viewer, "id", None)  # None too for Flask-Login's anonymous user
    if viewer_id is not None and (post.author_id == viewer_id or
                                  has_role(getattr(viewer, "role", ""), "moderator")):
        return post
    if post.status != "published" or not _readable(session, post, viewer):
        raise not_found("post")
    return post


def delete_post(session: Session, post: Post, user: User) -> Post:
    """Its author, or a moderator, deletes it (kept as `deleted`, gone for everyone). Commits."""
    if post.author_id != user.id and not has_role(user.role, "moderator"):
        raise KindredError("not_yours", "Only its author or a moderator can delete a post.", 403)
    post.status, post.updated_at = "deleted", utcnow()
    session.add(post)
    session.commit()
    return post


def set_status(session: Session, post: Post, status: str) -> None:
    """A moderator's hide (`hidden`) or restore (`published`); a held post restored is published
    now. No commit: moderation's action commits it with its audit row."""
    if post.status == "deleted" or post.status == status:
        return
    was_held = post.status == "held"
    post.status, post.updated_at = status, utcnow()
    session.add(post)
    if status == "published" and was_held:
        events.record(session, published_event(post))


def published_event(post: Post) -> PostPublished:
    return PostPublished(post_id=post.id, author_id=post.author_id,
                         author_character_id=post.author_character_id,
                         character_id=post.character_id, kind=post.kind)


def post_json(session: Session, post: Post, viewer_id: Optional[int]) -> dict:
    """The `{post}` payload (GET /api/posts/<id>)."""
    return posts_json(session, [post], viewer_id)[0]


def posts_json(session: Session, posts: list[Post], viewer_id: Optional[int],
               users: Optional[dict] = None, characters: Optional[dict] = None) -> list[dict]:
    """Payloads of many posts in a few queries (authors, characters and likes at once).
    `users`, `characters`: {id: row with at least SHOWN_COLUMNS} already loaded for these posts
    (the feed's re-check reads them), so they are not read again."""
    if users is None:
        users = rows_by_id(session, User, {p.author_id for p in posts if p.author_id})
    if characters is None:
        characters = rows_by_id(session, Character, {
            i for p in posts for i in (p.character_id, p.author_character_id) if i})
    liked = set()
    if viewer_id is not None and posts:
        liked = set(session.exec(select(PostLike.post_id).where(
            PostLike.user_id == viewer_id, PostLike.post_id.in_([p.id for p in posts]))))
    return [_post_json(session, p, viewer_id, users, characters, p.id in liked) for p in posts]


def user_json(user: Optional[User]) -> Optional[dict]:
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def _post_json(session, post: Post, viewer_id, users, characters, liked: bool) -> dict:
    character = characters.get(post.character_id)
    if post.author_kind == "character":
        author = character_summary(characters[post.author_character_id]) \
            if post.author_character_id in characters else None
    else:
        author = user_json(users.get(post.author_id))
    return {"id": post.id, "kind": post.kind, "body": post.body, "author": author,
            "author_kind": post.author_kind,
            "character": character_summary(character) if character else None,
            "excerpt": post.excerpt, "tags": post.tags, "content_rating": post.content_rating,
            "likes": post.like_count, "comments": post.comment_count, "liked": liked,
            "status": post.status, "in_review": post.status == "held", "seeded": post.seeded,
            "mine": viewer_id is not None and post.author_id == viewer_id,
            "story": _story_json(session.get(Story, post.story_id) if post.story_id else None),
            "card": _card_json(session, session.get(Pull, post.pull_id) if post.pull_id else None),
            "url": f"/posts/{post.id}", "card_url": f"/posts/{post.id}/card.png",
            "created_at": post.created_at.isoformat(), "updated_at": post.updated_at.isoformat()}


def _readable(session: Session, post: Post, viewer) -> bool:
    viewer_id = getattr(viewer, "id", None)
    if post.author_id is not None:
        author = session.get(User, post.author_id)
        if author is None or author.banned_at is not None:
            return False
    for character_id in (post.character_id, post.author_character_id):
        if character_id and not can_view(session.get(Character, character_id), viewer_id):
            return False
    if post.content_rating == "mature":
        prefs = session.get(DiscoveryPreferences, viewer_id) if viewer_id else None
        return bool(prefs and prefs.show_mature and is_adult(session.get(User, viewer_id)))
    return True


def _shareable(session: Session, character_id, viewer_id: Optional[int]) -> Character:
    """A character the author may see and everyone else may too (not private, not hidden)."""
    character = session.get(Character, character_id) if is_id(character_id) else None
    if character is None or not can_view(character, None) or \
            not age_allows(session, character, viewer_id):
        raise not_found("character you can share")
    return character


def _story_draft(session: Session, draft: Draft, author: User, data: dict) -> None:
    story_id = _required_id(data, "story_id")
    story = session.get(Story, story_id)
    played = story is not None and session.exec(select(StoryProgress).where(
        StoryProgress.story_id == story.id, StoryProgress.user_id == author.id)).first()
    if story is None or story.removed or not played:
        raise not_found("story you played")
    draft.story = story
    draft.character = _shareable(session, story.character_id, author.id)
    if data.get("message_ids") is None and data.get("conversation_id") is None:
        return
    excerpt = chat_excerpt(session, author, data.get("conversation_id"), data.get("message_ids"))
    of_story = session.exec(select(StoryProgress).where(
        StoryProgress.story_id == story.id, StoryProgress.user_id == author.id,
        StoryProgress.conversation_id == excerpt.conversation.id)).first()
    if of_story is None:
        raise not_found("conversation of that story")
    draft.conversation_id, draft.excerpt = excerpt.conversation.id, excerpt.lines
    merge_kinds(draft.masked, excerpt.masked)


def _character_draft(session: Session, draft: Draft, data: dict, author: Character) -> None:
    """A character's own post is about itself unless it names another (a scene's partner)."""
    character_id = data.get("character_id") or author.id
    draft.character = session.get(Character, character_id) if is_id(character_id) else None
    if draft.character is None:
        raise not_found("character")
    lines = data.get("excerpt") or []
    if not isinstance(lines, list) or len(lines) > MAX_SCENE_LINES or not all(
            isinstance(line, dict) and isinstance(line.get("content"), str) for line in lines):
        raise KindredError("bad_excerpt", f"'excerpt' is a list of at most {MAX_SCENE_LINES} "
                                          "{role, name, content} lines.")
    for line in lines:
        content, kinds = masked_text(check_text(line["content"], "excerpt")[:MAX_BODY_CHARS])
        draft.excerpt.append({"role": "character", "name": str(line.get("name") or "")[:120],
                              "content": content})
        merge_kinds(draft.masked, kinds)


def _body(value, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise KindredError("bad_body", "'body' must be text.")
    body = check_text(value or "", "body").strip()
    if required and not body:
        raise KindredError("empty_body", "This kind of post needs some text in 'body'.")
    if len(body) > MAX_BODY_CHARS:
        raise KindredError("body_too_long", f"'body' is at most {MAX_BODY_CHARS} characters; "
                                            f"this one has {len(body)}.")
    return body


def _tags(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise KindredError("bad_tags", "'tags' must be a list of words.")
    tags = list(dict.fromkeys(t.strip().lstrip("#").lower() for t in value if t.strip()))
    if len(tags) > MAX_TAGS:
        raise KindredError("too_many_tags", f"A post has at most {MAX_TAGS} tags.")
    for tag in tags:
        if len(tag) > MAX_TAG_CHARS or not _TAG.match(tag):
            raise KindredError("bad_tag", f"Tags are words of letters, digits, '-' or '_', at "
                                          f"most {MAX_TAG_CHARS} characters: not {tag[:40]!r}.")
    return tags


def _required_id(data: dict, name: str) -> int:
    value = data.get(name)
    if value is None:
        raise KindredError("missing_field", f"'{name}' is required for a {data['kind']} post.")
    if not is_id(value):
        raise KindredError("bad_request", f"'{name}' must be a positive integer id.")
    return value


# What a post or a comment shows of its people and characters (user_json, character_summary):
# only these columns, not whole rows (a card's lorebook and greetings are JSON to decode).
SHOWN_COLUMNS = {User: (User.id, User.username, User.display_name),
                 Character: (Character.id, Character.name, Character.tagline, Character.tags)}


def rows_by_id(session: Session, model, ids) -> dict:
    """{id: row of SHOWN_COLUMNS[model]} of the users or characters with these ids."""
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(*SHOWN_COLUMNS[model])
                                                .where(model.id.in_(ids)))}


def _story_json(story: Optional[Story]) -> Optional[dict]:
    return {"id": story.id, "title": story.title} if story is not None else None


def _card_json(session: Session, pull: Optional[Pull]) -> Optional[dict]:
    if pull is None:
        return None
    card = session.get(Card, pull.card_id)
    return {**card_payload(card, session.get(Character, card.character_id)), "pull_id": pull.id}

