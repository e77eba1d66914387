"""Remixing a character: a private draft copy owned by the remixer that records its parent, and
the lineage of remixes around a character. No Flask here.

Who sees what in a lineage: ancestors are always named (a remix always says "remixed from X by Y",
with X and Y as they were at the remix), but an ancestor the viewer cannot open now (made private,
hidden, deleted) comes without its id. Descendants are listed only when the viewer could open
them from a list (public and not hidden, or their own), so a private draft or an unlisted remix is
never revealed; `descendant_count` counts them all, as a number only."""
import copy
from collections import deque
from typing import Optional

from sqlmodel import Session, select

from core import events
from core.event_types import CharacterCreated
from core.errors import KindredError
from core.users import User, check_standing
from characters.models import Character, CharacterRemix
from characters.service import (EDITABLE_FIELDS, age_allows, can_view,
                                visible_character)
from characters.sharing import settings_of

# Copied from the parent; `creator` becomes the remixer and `character_version` starts again.
COPIED_FIELDS = tuple(f for f in EDITABLE_FIELDS if f not in ("creator", "character_version"))
MAX_LISTED_DESCENDANTS = 100
MAX_ANCESTORS = 100  # a chain this long is nobody's remix history; stop walking there


def remix_character(session: Session, user_id: int, character_id: int) -> Character:
    """A private draft copy of the character, owned by the user, recording its parent. Raises 404
    if the user cannot see it, 403 `no_remix` if its creator turned remixing off (a creator may
    always copy their own), 403 `suspended`/`banned` for an account not in good standing."""
    user = session.get(User, user_id)
    check_standing(user, "remix characters")
    parent = visible_character(session, character_id, user.id)
    if parent.creator_id != user.id and not settings_of(session, parent.id)["allow_remix"]:
        raise KindredError("no_remix", f"The creator of {parent.name} does not allow remixes "
                                       "of it. Nothing was stored.", 403)
    remix = Character(**{f: copy.deepcopy(getattr(parent, f)) for f in COPIED_FIELDS},
                      creator=user.username, creator_id=user.id, visibility="private",
                      avatar_filename=parent.avatar_filename)
    session.add(remix)
    session.flush()
    session.add(CharacterRemix(character_id=remix.id, parent_id=parent.id,
                               parent_name=parent.name,
                               parent_creator=creator_names(session, [parent])[parent.id]))
    events.record(session, CharacterCreated(remix.id, user.id, "remix"))
    session.commit()
    return remix


def lineage(session: Session, character_id: int, viewer_id: Optional[int]) -> dict:
    """{ancestors, descendants, descendant_count} of a character the viewer can see (404
    otherwise). Ancestors nearest first; descendants by depth, then oldest first."""
    visible_character(session, character_id, viewer_id)
    descendants, count = _listed_descendants(session, character_id, viewer_id)
    return {"ancestors": _ancestors(session, character_id, viewer_id),
            "descendants": descendants, "descendant_count": count}


def remix_summary(session: Session, character_id: int, viewer_id: int, recent: int = 10) -> dict:
    """For the creator's dashboard: how many remixes (at any depth, private drafts counted),
    how many are direct, and the newest ones the creator may open."""
    descendants, count = _listed_descendants(session, character_id, viewer_id)
    direct = session.exec(select(CharacterRemix.character_id)
                          .where(CharacterRemix.parent_id == character_id)).all()
    newest = sorted(descendants, key=lambda d: d["id"], reverse=True)[:recent]
    return {"count": count, "direct": len(direct), "recent": newest}


def creator_names(session: Session, characters: list[Character]) -> dict[int, str]:
    """character id -> who made it: the creator's username, or the card's `creator` text for a
    character without an owner (the seeded cast: "Kindred")."""
    owner_ids = {c.creator_id for c in characters if c.creator_id is not None}
    usernames = dict(session.exec(select(User.id, User.username)
                                  .where(User.id.in_(owner_ids))).all()) if owner_ids else {}
    return {c.id: usernames.get(c.creator_id) or c.creator or "unknown" for c in characters}


def _ancestors(session: Session, character_id: int, viewer_id: Optional[int]) -> list[dict]:
    ancestors, row = [], session.get(CharacterRemix, character_id)
    while row is not None and len(ancestors) < MAX_ANCESTORS:
        parent = session.get(Character, row.parent_id) if row.parent_id is not None else None
        if parent is not None and _openable(session, parent, viewer_id):
            ancestors.append({"id": parent.id, "name": parent.name,
                              "creator": creator_names(session, [parent])[parent.id],
                              "available": True})
        else:
            ancestors.append({"id": None, "name": row.parent_name,
                              "creator": row.parent_creator, "available": False})
        row = session.get(CharacterRemix, parent.id) if parent is not None else None
    return ancestors


def _listed_descendants(session: Session, character_id: int,
                        viewer_id: Optional[int]) -> tuple[list[dict], int]:
    """(the descendants the viewer may see listed, the number of all descendants)."""
    found: dict[int, tuple[int, int]] = {}  # id -> (parent id, depth)
    frontier, depth = deque([character_id]), 0
    while frontier:
        depth += 1
        rows = session.exec(select(CharacterRemix.character_id, CharacterRemix.parent_id)
                            .where(CharacterRemix.parent_id.in_(list(frontier)))).all()
        frontier = deque(child for child, _ in rows if child not in found)
        found.update({child: (parent, depth) for child, parent in rows if child not in found})
    if not found:
        return [], 0
    characters = session.exec(select(Character).where(Character.id.in_(list(found)))
                              .order_by(Character.id)).all()
    listable = [c for c in characters if _listable(session, c, viewer_id)]
    listable.sort(key=lambda c: (found[c.id][1], c.id))
    names = creator_names(session, listable)
    listed = [{"id": c.id, "name": c.name, "creator": names[c.id], "parent_id": found[c.id][0],
               "depth": found[c.id][1], "created_at": c.created_at.isoformat()}
              for c in listable[:MAX_LISTED_DESCENDANTS]]
    return listed, len(found)


def _openable(session: Session, character: Character, viewer_id: Optional[int]) -> bool:
    """The viewer could open it by its id (public or unlisted and not hidden, or their own)."""
    return can_view(character, viewer_id) and age_allows(session, character, viewer_id)


def _listable(session: Session, character: Character, viewer_id: Optional[int]) -> bool:
    """The viewer may find it in a list: public and not hidden, or their own."""
    own = viewer_id is not None and character.creator_id == viewer_id
    return (own or (character.visibility == "public" and not character.moderation_hidden)) \
        and age_allows(session, character, viewer_id)
