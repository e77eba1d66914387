"""Rooms: creating and changing them, their members and their characters' stints, and the room's
messages as each person and each character may see them. No Flask here.

Entry points the turns (rooms/turns.py) and sockets (rooms/events.py) call:
    member_room(session, user_id, room_id)          the Room, or 404 not_found for non-members
    active_characters(session, room_id)             the stints now in the room, in list order
    history_for_character(session, room_id, character_id, limit)   what that character saw
    store_message(session, room_id, speaker, ...)   a RoomMessage, flushed (the caller commits)
"""
from datetime import datetime
from typing import Iterable, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from characters.models import Character
from characters.service import avatar_url, visible_character
from core import events
from core.db import is_id, utcnow
from core.errors import BlockedContent, KindredError, NotFound, not_found
from core.event_types import RoomMemberJoined, RoomMemberRemoved
from core.text import check_text
from core.users import User, check_standing, is_adult
from moderation.queue import hidden_targets
from rooms.models import (MESSAGE_STATUSES, SPEAKERS, STRATEGIES, VISIBILITIES, Room,
                          RoomCharacter, RoomMember, RoomMessage)

TITLE_LIMIT = 120
SCENARIO_LIMIT = 4000
TAG_LIMIT = 40
MAX_CHARACTERS = 8  # characters in a room at once
MAX_AUTO_CONTINUE = 10
HISTORY_PAGE = 50
SURFACE = "room_message"  # the moderation surface for what people type in a room
TARGET_TYPE = "room_message"  # what moderation's queue, reports and actions point to


class Forbidden(KindredError):
    status = 403


# --- rooms -----------------------------------------------------------------------------------

def create_room(session: Session, guard, owner: User, body: dict, limits=None) -> Room:
    """A room owned by `owner` with the characters of `character_ids` (each visible to the
    owner), or none when `assistant` is true. Nothing is stored on bad input. `limits(session,
    user_id)` (the app wires the owner's membership) gives `max_rooms`; None: no limit."""
    check_standing(owner, "create a room")
    assistant = _flag(body, "assistant", False)
    character_ids = _id_list(body.get("character_ids", []), "character_ids")
    if not character_ids and not assistant:
        raise KindredError("no_characters", "A room needs at least one character, unless the "
                                            "assistant is on call ('assistant': true).")
    characters = [_visible(session, character_id, owner.id) for character_id in character_ids]
    title = _screen(guard, owner, _title(body.get("title")), "title")
    scenario = _screen(guard, owner, _scenario(body.get("scenario", "")), "scenario")
    visibility, tag = _listing(body.get("visibility", "invite"), body.get("listed_tag"))
    if limits is not None:  # after the screening, so the lock is held only for the write
        _check_room_count(session, owner.id, limits(session, owner.id).max_rooms)
    room = Room(title=title, owner_id=owner.id, strategy=_strategy(body.get("strategy", "natural")),
                scenario=scenario, assistant=assistant, visibility=visibility, listed_tag=tag,
                auto_continue=_auto_continue(body.get("auto_continue", 0)))
    session.add(room)
    session.flush()
    session.add(RoomMember(room_id=room.id, user_id=owner.id, role="owner"))
    for position, character in enumerate(characters):
        session.add(RoomCharacter(room_id=room.id, character_id=character.id, position=position))
    session.commit()
    return room


def my_rooms(session: Session, user_id: int) -> list[Room]:
    """The rooms `user_id` is a member of, the latest changed first."""
    query = (select(Room).join(RoomMember, RoomMember.room_id == Room.id)
             .where(RoomMember.user_id == user_id)
             .order_by(Room.updated_at.desc(), Room.id.desc()))
    return list(session.exec(query))


def member_room(session: Session, user_id: int, room_id) -> Room:
    """The room, if `user_id` is one of its members; otherwise 404 not_found (a non-member
    cannot tell a room they are not in from one that does not exist)."""
    room = session.get(Room, room_id) if is_id(room_id) else None
    if room is None or membership(session, room.id, user_id) is None:
        raise not_found("room")
    return room


def listed_rooms(session: Session, tag: Optional[str] = None, limit: int = 50) -> list[Room]:
    """Rooms their owners listed (for `tag` when given), the latest changed first: anyone signed
    in may see them and join."""
    query = select(Room).where(Room.visibility == "listed")
    if tag is not None:
        query = query.where(Room.listed_tag == _tag(tag))
    return list(session.exec(query.order_by(Room.updated_at.desc(), Room.id.desc()).limit(limit)))


def join_listed_room(session: Session, user: User, room_id, limits=None) -> tuple[Room, bool]:
    """Join a listed room without an invite. An invite-only room answers 404, as to anyone who
    is not a member. Returns the room and whether `user` is a new member."""
    room = session.get(Room, room_id) if is_id(room_id) else None
    if room is None or (room.visibility != "listed" and membership(session, room.id, user.id)
                        is None):
        raise not_found("room")
    if membership(session, room.id, user.id) is not None:
        return room, False
    check_standing(user, "join a room")
    add_member(session, room, user.id, via="listed", limits=limits)
    session.commit()
    return room, True


def membership(session: Session, room_id: int, user_id: int) -> Optional[RoomMember]:
    return session.get(RoomMember, (room_id, user_id)) if is_id(user_id) else None


def owned_room(session: Session, user_id: int, room_id) -> Room:
    room = member_room(session, user_id, room_id)
    if room.owner_id != user_id:
        raise Forbidden("not_owner", "Only the room's owner can do that.")
    return room


def update_room(session: Session, guard, user: User, room_id, body: dict) -> Room:
    """PATCH: title, strategy, scenario, and characters to add, remove or (un)mute, all checked
    before anything is written."""
    room = owned_room(session, user.id, room_id)
    check_standing(user, "change a room")
    known = {"title", "strategy", "scenario", "auto_continue", "visibility", "listed_tag",
             "add_character_ids",
             "remove_character_ids", "mute_character_ids", "unmute_character_ids"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise KindredError("bad_field", f"Unknown field(s): {', '.join(unknown)}. A room's "
                                        f"changeable fields are {', '.join(sorted(known))}.")
    changes = {}
    if "title" in body:
        changes["title"] = _screen(guard, user, _title(body["title"]), "title")
    if "strategy" in body:
        changes["strategy"] = _strategy(body["strategy"])
    if "scenario" in body:
        changes["scenario"] = _screen(guard, user, _scenario(body["scenario"]), "scenario")
    if "auto_continue" in body:
        changes["auto_continue"] = _auto_continue(body["auto_continue"])
    if "visibility" in body or "listed_tag" in body:
        changes["visibility"], changes["listed_tag"] = _listing(
            body.get("visibility", room.visibility), body.get("listed_tag", room.listed_tag))
    active = {stint.character_id: stint for stint in active_characters(session, room.id)}
    adding = _id_list(body.get("add_character_ids", []), "add_character_ids")
    removing = _id_list(body.get("remove_character_ids", []), "remove_character_ids")
    muting = _id_list(body.get("mute_character_ids", []), "mute_character_ids")
    unmuting = _id_list(body.get("unmute_character_ids", []), "unmute_character_ids")
    new = [_visible(session, cid, room.owner_id) for cid in adding if cid not in active]
    for cid in removing + muting + unmuting:
        if cid not in active:
            raise KindredError("not_in_room", f"Character {cid} is not in this room.")
    if set(muting) & set(unmuting):
        raise KindredError("bad_field", "A character cannot be muted and unmuted at once.")
    staying = len(set(active) - set(removing)) + len(new)
    if staying > MAX_CHARACTERS:
        raise KindredError("too_many_characters", f"A room holds at most {MAX_CHARACTERS} "
                                                  f"characters at once.")
    if staying == 0 and not room.assistant:
        raise KindredError("no_characters", "That would leave the room with no character and "
                                            "no assistant; nothing was changed.")

    for name, value in changes.items():
        setattr(room, name, value)
    last = last_message_id(session, room.id)
    now = utcnow()
    for cid in removing:
        active[cid].seen_until_id, active[cid].removed_at = last, now
        session.add(active[cid])
    for cid in muting:
        active[cid].muted = True
    for cid in unmuting:
        active[cid].muted = False
    position = max([s.position for s in active.values()], default=-1) + 1
    for offset, character in enumerate(new):
        session.add(RoomCharacter(room_id=room.id, character_id=character.id,
                                  position=position + offset, seen_after_id=last))
    room.updated_at = now
    session.add(room)
    session.commit()
    return room


# --- members ---------------------------------------------------------------------------------

def members(session: Session, room_id: int) -> list[tuple[RoomMember, User]]:
    query = (select(RoomMember, User).join(User, User.id == RoomMember.user_id)
             .where(RoomMember.room_id == room_id).order_by(RoomMember.joined_at, User.id))
    return list(session.exec(query))


def add_member(session: Session, room: Room, user_id: int, via: str,
               limits=None) -> RoomMember:
    """Flushes a new member (joining twice keeps the first membership) and records
    RoomMemberJoined; the caller commits. A room holds at most the owner's
    `limits(session, owner_id).max_room_members` people (409 room_full); None: no limit."""
    member = membership(session, room.id, user_id)
    if member is None:
        if limits is not None:
            _check_room_size(session, room, limits(session, room.owner_id).max_room_members)
        member = RoomMember(room_id=room.id, user_id=user_id, role="member")
        session.add(member)
        session.flush()
        events.record(session, RoomMemberJoined(room_id=room.id, user_id=user_id, via=via))
    return member


def remove_member(session: Session, actor_id: int, room_id, user_id) -> None:
    """Kick (the owner removes someone) or leave (someone removes themselves). The owner cannot
    be removed. Records RoomMemberRemoved, on which the sockets leave the room."""
    room = member_room(session, actor_id, room_id)
    if user_id != actor_id and room.owner_id != actor_id:
        raise Forbidden("not_owner", "Only the room's owner can remove someone else.")
    if user_id == room.owner_id:
        raise KindredError("owner_stays", "The owner cannot be removed from their own room.",
                           409)
    member = membership(session, room.id, user_id)
    if member is None:
        raise NotFound("not_member", "That person is not a member of this room.")
    session.delete(member)
    events.record(session, RoomMemberRemoved(room_id=room.id, user_id=user_id, by_id=actor_id,
                                             kicked=user_id != actor_id))
    session.commit()


# --- characters ------------------------------------------------------------------------------

def active_characters(session: Session, room_id: int) -> list[RoomCharacter]:
    """The stints of the characters now in the room (muted ones too), in `list` order."""
    query = (select(RoomCharacter)
             .where(RoomCharacter.room_id == room_id, RoomCharacter.removed_at.is_(None))
             .order_by(RoomCharacter.position, RoomCharacter.id))
    return list(session.exec(query))


def stints(session: Session, room_id: int, character_id: int) -> list[RoomCharacter]:
    query = (select(RoomCharacter).where(RoomCharacter.room_id == room_id,
                                         RoomCharacter.character_id == character_id)
             .order_by(RoomCharacter.id))
    return list(session.exec(query))


# --- messages --------------------------------------------------------------------------------

def last_message_id(session: Session, room_id: int) -> int:
    """The room's highest message id, 0 for an empty room."""
    query = select(sa.func.max(RoomMessage.id)).where(RoomMessage.room_id == room_id)
    return session.exec(query).one() or 0


def store_message(session: Session, room_id: int, speaker: str, content: str, *,
                  user_id: Optional[int] = None, character_id: Optional[int] = None,
                  ooc: bool = False, private_to: Optional[int] = None,
                  status: str = "complete", moderation: Optional[dict] = None) -> RoomMessage:
    """Add a message to the room and flush it (so it has an id); the caller commits. The text
    is stored as given: checking it (moderation, length) is the caller's job."""
    if speaker not in SPEAKERS:
        raise ValueError(f"speaker must be one of {SPEAKERS}, not {speaker!r}")
    if status not in MESSAGE_STATUSES:
        raise ValueError(f"status must be one of {MESSAGE_STATUSES}, not {status!r}")
    message = RoomMessage(room_id=room_id, speaker=speaker, content=content, user_id=user_id,
                          character_id=character_id, ooc=ooc, private_to=private_to,
                          status=status, moderation=moderation)
    session.add(message)
    room = session.get(Room, room_id)
    if room is not None:
        room.updated_at = utcnow()
        session.add(room)
    session.flush()
    return message


def visible_to(user_id: int):
    """The messages a person sees: all but the assistant's private suggestions to others and
    what moderation hid."""
    return sa.and_(sa.or_(RoomMessage.private_to.is_(None), RoomMessage.private_to == user_id),
                   not_hidden())


def not_hidden():
    """Not hidden by moderation: a moderator's hide, or a hold of the safety pipeline, until a
    moderator restores it (the queue item's `hidden` is the one record of it)."""
    return RoomMessage.id.not_in(hidden_targets(TARGET_TYPE))


def history(session: Session, user_id: int, room_id, before=None,
            limit: int = HISTORY_PAGE) -> list[RoomMessage]:
    """A page of the room's messages that `user_id` (a member) may see, oldest first: the
    `limit` latest ones with an id below `before` (None: the latest)."""
    room = member_room(session, user_id, room_id)
    query = select(RoomMessage).where(RoomMessage.room_id == room.id, visible_to(user_id))
    if before is not None:
        query = query.where(RoomMessage.id < before)
    query = query.order_by(RoomMessage.id.desc()).limit(limit)
    return list(reversed(list(session.exec(query))))


def history_for_character(session: Session, room_id: int, character_id: int,
                          limit: int = HISTORY_PAGE) -> list[RoomMessage]:
    """The `limit` latest messages the character may see, oldest first: those from while one of
    its stints was in the room (seen_after_id < id <= seen_until_id), never OOC, never a
    private suggestion, never a blocked or hidden message."""
    windows = []
    for stint in stints(session, room_id, character_id):
        window = [RoomMessage.id > stint.seen_after_id]
        if stint.seen_until_id is not None:
            window.append(RoomMessage.id <= stint.seen_until_id)
        windows.append(sa.and_(*window))
    if not windows:
        return []
    query = (select(RoomMessage)
             .where(RoomMessage.room_id == room_id, sa.or_(*windows),
                    RoomMessage.ooc.is_(False), RoomMessage.private_to.is_(None),
                    RoomMessage.speaker != "assistant", RoomMessage.status != "blocked",
                    not_hidden())
             .order_by(RoomMessage.id.desc()).limit(limit))
    return list(reversed(list(session.exec(query))))


def mark_read(session: Session, user_id: int, room_id: int, message_id: int) -> None:
    """Remember the last message the person saw ("catch me up" starts after it)."""
    member = membership(session, room_id, user_id)
    if member is not None and (member.last_read_message_id or 0) < message_id:
        member.last_read_message_id = message_id
        session.add(member)


# --- payloads --------------------------------------------------------------------------------

def room_payload(session: Session, room: Room, online: Iterable[int] = ()) -> dict:
    """The room as its members see it: settings, members with their roles, characters now in
    it (name, avatar, muted)."""
    online = set(online)
    people = [{"user_id": user.id, "username": user.username,
               "display_name": user.display_name or user.username, "role": member.role,
               "online": user.id in online}
              for member, user in members(session, room.id)]
    cast = []
    for stint in active_characters(session, room.id):
        character = session.get(Character, stint.character_id)
        cast.append({"character_id": stint.character_id, "name": character.name,
                     "avatar_url": avatar_url(character), "muted": stint.muted,
                     "position": stint.position})
    return {"id": room.id, "title": room.title, "owner_id": room.owner_id,
            "strategy": room.strategy, "scenario": room.scenario, "assistant": room.assistant,
            "visibility": room.visibility, "listed_tag": room.listed_tag,
            "auto_continue": room.auto_continue, "members": people, "characters": cast,
            "created_at": _iso(room.created_at), "updated_at": _iso(room.updated_at)}


def room_summary(session: Session, room: Room) -> dict:
    count = session.exec(select(sa.func.count()).select_from(RoomMember)
                         .where(RoomMember.room_id == room.id)).one()
    names = [session.get(Character, s.character_id).name
             for s in active_characters(session, room.id)]
    return {"id": room.id, "title": room.title, "owner_id": room.owner_id,
            "strategy": room.strategy, "assistant": room.assistant, "members": count,
            "visibility": room.visibility, "listed_tag": room.listed_tag,
            "characters": names, "updated_at": _iso(room.updated_at)}


def message_payload(message: RoomMessage, names: Optional[dict] = None) -> dict:
    """A room message as the Socket.IO contract and the history route send it. `names` maps
    ("user", id) and ("character", id) to display names, when the caller has them."""
    names = names or {}
    if message.speaker == "character":
        name = names.get(("character", message.character_id))
    elif message.speaker == "assistant":
        name = "Assistant"
    else:
        name = names.get(("user", message.user_id))
    return {"id": message.id, "room_id": message.room_id, "speaker": message.speaker,
            "user_id": message.user_id, "character_id": message.character_id, "name": name,
            "avatar_url": (f"/characters/{message.character_id}/avatar.png"
                           if message.character_id is not None else None),
            "content": message.content, "ooc": message.ooc,
            "private": message.private_to is not None, "status": message.status,
            "created_at": _iso(message.created_at)}


def speaker_names(session: Session, messages: Iterable[RoomMessage]) -> dict:
    """("user", id) / ("character", id) -> display name, for message_payload."""
    messages = list(messages)
    user_ids = {m.user_id for m in messages if m.user_id is not None}
    character_ids = {m.character_id for m in messages if m.character_id is not None}
    names = {}
    if user_ids:
        for user in session.exec(select(User).where(User.id.in_(user_ids))):
            names[("user", user.id)] = user.display_name or user.username
    if character_ids:
        for character in session.exec(select(Character).where(Character.id.in_(character_ids))):
            names[("character", character.id)] = character.name
    return names


# --- checks ----------------------------------------------------------------------------------

def _check_room_count(session: Session, owner_id: int, most: int) -> None:
    _lock(session, select(User.id).where(User.id == owner_id))  # two at once: one passes
    owned = session.exec(select(sa.func.count()).select_from(Room)
                         .where(Room.owner_id == owner_id)).one()
    if owned >= most:
        raise Forbidden("room_limit", f"Your membership lets you own {most} rooms; delete one "
                                      "or upgrade your membership for more.")


def _check_room_size(session: Session, room: Room, most: int) -> None:
    _lock(session, select(Room.id).where(Room.id == room.id))  # two joining at once: one passes
    people = session.exec(select(sa.func.count()).select_from(RoomMember)
                          .where(RoomMember.room_id == room.id)).one()
    if people >= most:
        raise KindredError("room_full", f"This room is full: it holds at most {most} people "
                                        "on its owner's membership. You did not join.", 409)


def _lock(session: Session, query) -> None:
    """The row of `query` locked until commit: SELECT ... FOR UPDATE on PostgreSQL; on SQLite,
    its one write lock (BEGIN IMMEDIATE) taken before the count that follows is read."""
    connection = session.connection()
    if (connection.dialect.name == "sqlite"
            and not connection.connection.dbapi_connection.in_transaction):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    session.exec(query.with_for_update()).one()


def _visible(session: Session, character_id: int, owner_id: int) -> Character:
    try:
        return visible_character(session, character_id, owner_id)
    except NotFound:
        raise KindredError("unknown_character", f"No character {character_id} exists that "
                                                f"the room's owner can see; nothing was "
                                                f"stored.") from None


def _title(value) -> str:
    title = check_text(value, "title").strip() if value is not None else ""
    if not title:
        raise KindredError("bad_title", "A room needs a 'title'.")
    if len(title) > TITLE_LIMIT:
        raise KindredError("field_too_long", f"'title' is at most {TITLE_LIMIT} characters.")
    return title


def _scenario(value) -> str:
    scenario = check_text(value, "scenario").strip() if value else ""
    if len(scenario) > SCENARIO_LIMIT:
        raise KindredError("field_too_long", f"'scenario' is at most {SCENARIO_LIMIT} "
                                             f"characters.")
    return scenario


def _strategy(value) -> str:
    if value not in STRATEGIES:
        raise KindredError("bad_strategy", f"'strategy' must be one of {', '.join(STRATEGIES)}.")
    return value


def _listing(visibility, tag) -> tuple[str, Optional[str]]:
    """(visibility, listed_tag): a listed room needs a tag; an invite-only room keeps none."""
    if visibility not in VISIBILITIES:
        raise KindredError("bad_visibility", f"'visibility' must be one of "
                                             f"{', '.join(VISIBILITIES)}.")
    if visibility == "invite":
        return visibility, None
    if tag is None:
        raise KindredError("bad_tag", "A listed room needs a 'listed_tag' people can find it "
                                      "by.")
    return visibility, _tag(tag)


def _tag(value) -> str:
    tag = value.strip().lower() if isinstance(value, str) else ""
    if not tag or len(tag) > TAG_LIMIT:
        raise KindredError("bad_tag", f"A room's tag is 1 to {TAG_LIMIT} characters.")
    return tag


def _auto_continue(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not \
            0 <= value <= MAX_AUTO_CONTINUE:
        raise KindredError("bad_auto_continue", f"'auto_continue' is a number of character "
                                                f"turns from 0 (off) to {MAX_AUTO_CONTINUE}.")
    return value


def _flag(body: dict, key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise KindredError("bad_field", f"'{key}' is true or false.")
    return value


def _id_list(value, key: str) -> list[int]:
    if not isinstance(value, list) or not all(is_id(v) for v in value):
        raise KindredError("bad_field", f"'{key}' is a list of character ids.")
    return list(dict.fromkeys(value))


def _screen(guard, user: User, text: str, label: str) -> str:
    """The text as the chat's guard (conversations.guard.ChatGuard, surface room_message) lets
    it be stored, masked where it masks; refused -> 422 blocked_content. No guard: as it is."""
    if guard is None or not text:
        return text
    verdict = guard.check_text(text, SURFACE, {"mature_allowed": False,
                                               "under_18": not is_adult(user), "user_id": user.id})
    if verdict.blocked:
        decision = verdict.decision
        raise BlockedContent(decision.category, decision.rule,
                             f"The room's {label} breaks the community rules ({decision.rule}: "
                             f"{decision.category}); nothing was stored.")
    return verdict.text


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() if value is not None else None
