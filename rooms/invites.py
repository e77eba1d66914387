"""Invite links to a room: a random token with a number of uses and an end date. No Flask here.

    create_invite(session, user, room_id, max_uses=1, expires_in_hours=168)   any member
    accept_invite(session, user, token)   -> (room, joined): a member already keeps their place
                                             and spends no use
An expired or used-up invite is refused (410 `invite_expired` / `invite_used_up`) and nothing
changes; an unknown token is 404."""
import secrets
from datetime import timedelta

from sqlmodel import Session

from core.db import is_id, utcnow
from core.errors import KindredError, NotFound
from core.users import User, check_standing
from rooms import service
from rooms.models import Room, RoomInvite

DEFAULT_USES = 1
DEFAULT_HOURS = 7 * 24
MAX_USES = 100
MAX_HOURS = 30 * 24
TOKEN_BYTES = 24


class Gone(KindredError):
    status = 410


def create_invite(session: Session, user: User, room_id, max_uses=None,
                  expires_in_hours=None) -> RoomInvite:
    room = service.member_room(session, user.id, room_id)
    check_standing(user, "invite people")
    uses = _bounded(DEFAULT_USES if max_uses is None else max_uses, "max_uses", MAX_USES)
    hours = _bounded(DEFAULT_HOURS if expires_in_hours is None else expires_in_hours,
                     "expires_in_hours", MAX_HOURS)
    now = utcnow()
    invite = RoomInvite(token=secrets.token_urlsafe(TOKEN_BYTES), room_id=room.id,
                        created_by=user.id, max_uses=uses, expires_at=now + timedelta(hours=hours),
                        created_at=now)
    session.add(invite)
    session.commit()
    return invite


def accept_invite(session: Session, user: User, token, limits=None) -> tuple[Room, bool]:
    """Join the invite's room. Returns the room and whether `user` is a new member. `limits`:
    the room's size limit (see service.add_member)."""
    invite = session.get(RoomInvite, token) if isinstance(token, str) and token else None
    room = session.get(Room, invite.room_id) if invite is not None else None
    if room is None:
        raise NotFound("invite_not_found", "That invite link does not exist.")
    if service.membership(session, room.id, user.id) is not None:
        return room, False
    check_standing(user, "join a room")
    if invite.expires_at <= utcnow():
        raise Gone("invite_expired", "That invite link has expired; ask for a new one. You "
                                     "did not join the room.")
    if invite.uses >= invite.max_uses:
        raise Gone("invite_used_up", "That invite link has been used as many times as it "
                                     "allows; ask for a new one. You did not join the room.")
    invite.uses += 1
    session.add(invite)
    service.add_member(session, room, user.id, via="invite", limits=limits)
    session.commit()
    return room, True


def invite_payload(invite: RoomInvite, url: str) -> dict:
    return {"token": invite.token, "url": url, "room_id": invite.room_id,
            "max_uses": invite.max_uses, "uses": invite.uses,
            "expires_at": invite.expires_at.isoformat()}


def _bounded(value, key: str, most: int) -> int:
    if not is_id(value) or value > most:
        raise KindredError("bad_field", f"'{key}' is a whole number from 1 to {most}.")
    return value
