"""Redeem codes: an admin generates them (`flask --app app.cli billing codes`), a user redeems
one once for a tier and a number of days. Only the SHA-256 of a code is stored. No Flask here.

    generate(session, tiers, tier, days, count, expires_in_days=None) -> [code, ...]
    redeem(session, tiers, user_id, code) -> Grant

A code is used once: the redemption's conditional UPDATE (`... WHERE redeemed_at IS NULL`)
claims it inside the grant's transaction, so two people redeeming it at once get one grant and
one 409 `code_used`. Unknown is 404 `unknown_code`, expired 410 `code_expired`; nothing changes."""
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Mapping, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from billing.grants import Grant, check_grant, grant
from billing.models import RedeemCode
from core.db import utcnow
from core.errors import Conflict, KindredError, NotFound

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
GROUPS, GROUP_LENGTH = 4, 4
MAX_COUNT = 10_000
MAX_CODE = 64


class Gone(KindredError):
    status = 410


def generate(session: Session, tiers: Mapping[str, Mapping], tier: str, days: int, count: int,
             expires_in_days: Optional[int] = None, now: Optional[datetime] = None) -> list[str]:
    """`count` new codes for `tier` and `days`, stored as hashes; returns the codes themselves
    (the only time they are seen)."""
    check_grant(tiers, tier, days)
    if type(count) is not int or not 1 <= count <= MAX_COUNT:
        raise KindredError("invalid_count", f"The count is a whole number from 1 to {MAX_COUNT}.")
    if expires_in_days is not None and (type(expires_in_days) is not int or expires_in_days < 1):
        raise KindredError("invalid_expiry", "'expires_in_days' is a whole number of days, "
                                             "at least 1.")
    now = now or utcnow()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    codes = {_new_code() for _ in range(count)}
    while len(codes) < count:
        codes.add(_new_code())
    for code in codes:
        session.add(RedeemCode(code_hash=code_hash(code), tier=tier, days=days,
                               expires_at=expires_at, created_at=now))
    session.commit()
    return sorted(codes)


def redeem(session: Session, tiers: Mapping[str, Mapping], user_id: int, code,
           now: Optional[datetime] = None) -> Grant:
    now = now or utcnow()
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE:
        raise KindredError("invalid_code", "'code' must be the redeem code you were given, "
                                           "like ABCD-EFGH-JKLM-NPQR.")
    found = session.exec(select(RedeemCode).where(
        RedeemCode.code_hash == code_hash(code))).first()
    if found is None:
        raise NotFound("unknown_code", "That redeem code does not exist; check it for typos.")
    _check_usable(found, now)
    code_id, tier, days = found.id, found.tier, found.days
    session.rollback()  # the grant's transaction starts afresh, under the user's lock

    def claim(session: Session) -> None:
        claimed = session.execute(sa.update(RedeemCode).where(
            RedeemCode.id == code_id, RedeemCode.redeemed_at.is_(None))
            .values(redeemed_by=user_id, redeemed_at=now)).rowcount
        if claimed != 1:
            raise _used()

    granted = grant(session, tiers, user_id, tier, days, "code", f"code:{code_id}",
                    {"code_id": code_id}, now=now, before_post=claim)
    if granted.duplicate:  # the same person redeeming it twice at once: the first one counts
        raise _used()
    return granted


def code_hash(code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


def _check_usable(code: RedeemCode, now: datetime) -> None:
    if code.redeemed_at is not None:
        raise _used()
    if code.expires_at is not None and code.expires_at <= now:
        raise Gone("code_expired", "That redeem code has expired.")


def _used() -> Conflict:
    return Conflict("code_used", "That redeem code has already been used.")


def _new_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(chars[i:i + GROUP_LENGTH] for i in range(0, len(chars), GROUP_LENGTH))
