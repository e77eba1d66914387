"""Editors' picks: admins feature a character, a post or a story. No Flask.

    add_pick(session, body, user_id) -> EditorsPick     {kind, id, note?}: 400 / 404 / 409; commits
    remove_pick(session, pick_id)                                       404 if unknown; commits
    public_picks(session, limit) -> list[dict]     the picks everyone may see, newest first
    all_picks(session) -> list[dict]               every pick, each with `visible` (admins)
    pick_payload(session, pick) -> dict            one pick as all_picks shows it

A pick shows only while its item is visible to the public, that is to a signed-out reader:
a public character moderation has not hidden and that is not mature; a published post such a
reader may read (community.posts.visible_post); a story still in its card, of such a
character. A pick whose item went away (hidden, deleted, made private) is kept and drops out;
it comes back if the item does. What is visible is read through the owners' services."""
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from characters.models import Character
from characters.service import age_allows, avatar_url, can_view
from community.posts import visible_post
from core.db import is_id
from core.errors import Conflict, KindredError, NotFound, check_known_fields, not_found
from core.text import check_text
from curation.models import PICK_KINDS, EditorsPick
from relationships.models import Story

LABEL = "Editors' pick"
MAX_NOTE_CHARS = 280
FIELDS = ("kind", "id", "note")


def add_pick(session: Session, body, user_id: int) -> EditorsPick:
    """Feature the item `{kind, id, note?}`. 400 for a bad body or kind, 404 for an item that
    does not exist or the public may not see, 409 `already_picked` for one already featured."""
    if not isinstance(body, dict):
        raise KindredError("bad_request", "Send a JSON object {kind, id, note?}.")
    check_known_fields(body, FIELDS, "a pick takes kind, id and an optional note.")
    kind, item_id, note = body.get("kind"), body.get("id"), body.get("note", "")
    if kind not in PICK_KINDS:
        raise KindredError("bad_kind", "'kind' must be one of " + ", ".join(PICK_KINDS) + ".")
    if not is_id(item_id):
        raise KindredError("bad_field", "'id' must be the whole-number id of the item.")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise KindredError("bad_field", "'note' must be a string.")
    note = check_text(note.strip(), "note")
    if len(note) > MAX_NOTE_CHARS:
        raise KindredError("too_long", f"'note' is at most {MAX_NOTE_CHARS} characters; "
                           f"this one has {len(note)}.")
    if _public_item(session, kind, item_id) is None:
        raise not_found(f"{kind} visible to the public")
    if _existing(session, kind, item_id) is not None:
        raise _already(kind)
    pick = EditorsPick(kind=kind, item_id=item_id, note=note, created_by=user_id)
    session.add(pick)
    try:
        session.commit()
    except sa.exc.IntegrityError:  # the same pick made at the same moment
        session.rollback()
        raise _already(kind) from None
    return pick


def remove_pick(session: Session, pick_id) -> None:
    pick = session.get(EditorsPick, pick_id) if is_id(pick_id) else None
    if pick is None:
        raise not_found("pick")
    session.delete(pick)
    session.commit()


def public_picks(session: Session, limit: int = 12) -> list[dict]:
    """The picks whose item the public may see, newest first, at most `limit`."""
    shown = []
    for pick in _newest(session):
        item = _public_item(session, pick.kind, pick.item_id)
        if item is not None:
            shown.append(pick_json(pick, item))
            if len(shown) >= limit:
                break
    return shown


def all_picks(session: Session) -> list[dict]:
    """Every pick, newest first, each with `visible`; an invisible one names no title."""
    return [pick_payload(session, pick) for pick in _newest(session)]


def pick_payload(session: Session, pick: EditorsPick) -> dict:
    """One pick as admins see it: its item as shown, and whether the public sees it now."""
    item = _public_item(session, pick.kind, pick.item_id)
    return {**pick_json(pick, item), "visible": item is not None}


def pick_json(pick: EditorsPick, item: Optional[dict]) -> dict:
    return {"id": pick.id, "kind": pick.kind, "item_id": pick.item_id, "note": pick.note,
            "label": LABEL, "created_at": pick.created_at.isoformat(),
            **(item or {"title": "", "summary": "", "url": None, "image_url": None})}


def _newest(session: Session) -> list[EditorsPick]:
    return list(session.exec(select(EditorsPick).order_by(EditorsPick.created_at.desc(),
                                                          EditorsPick.id.desc())))


def _public_item(session: Session, kind: str, item_id: int) -> Optional[dict]:
    """What a pick shows of its item ({title, summary, url, image_url}), or None when a
    signed-out reader may not see it."""
    if kind == "character":
        character = session.get(Character, item_id)
        if not _public_character(session, character):
            return None
        return {"title": character.name, "summary": character.tagline,
                "url": f"/characters/{character.id}", "image_url": avatar_url(character)}
    if kind == "post":
        try:
            post = visible_post(session, item_id, None)
        except NotFound:
            return None
        character = session.get(Character, post.character_id) if post.character_id else None
        return {"title": _first_line(post.body) or (character.name if character else "A post"),
                "summary": character.name if character else "",
                "url": f"/posts/{post.id}",
                "image_url": avatar_url(character) if character else None}
    story = session.get(Story, item_id)
    character = session.get(Character, story.character_id) if story else None
    if story is None or story.removed or not _public_character(session, character):
        return None
    return {"title": story.title, "summary": f"A story with {character.name}",
            "url": f"/characters/{character.id}", "image_url": avatar_url(character)}


def _public_character(session: Session, character: Optional[Character]) -> bool:
    return (character is not None and character.visibility == "public"
            and can_view(character, None) and age_allows(session, character, None))


def _existing(session: Session, kind: str, item_id: int) -> Optional[EditorsPick]:
    return session.exec(select(EditorsPick).where(EditorsPick.kind == kind,
                                                  EditorsPick.item_id == item_id)).first()


def _already(kind: str) -> Conflict:
    return Conflict("already_picked", f"That {kind} is already an editors' pick.")


def _first_line(text: str, limit: int = 80) -> str:
    line = (text or "").strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[:limit - 1] + "…"
