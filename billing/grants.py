"""Granting a membership: one ledger transaction per grant (gacha's `idempotent`, keyed by the
billing event or the redeem code), holding the membership change and the tier's gem stipend.
No Flask here.

    grant(session, tiers, user_id, tier, days, source, key, details, event=None) -> Grant
    membership_payload(session, user_id, tiers) -> {tier, expires_at, source, entitlements}

A grant of the tier the user already has extends it from its current expiry; a grant to a user
on free (or whose membership lapsed) starts now. A different paid tier replaces the running one
from now. The stipend is `monthly_gems * days // 30` gems (a 30-day grant pays one month's)."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Optional

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from billing.entitlements import FREE, entitlements_for, is_running, tier_entitlements
from billing.models import BillingEvent, Membership
from core import events
from core.db import utcnow
from core.errors import KindredError
from core.event_types import MembershipGranted
from gacha.ledger import idempotent

KIND = "membership"            # the ledger transaction's kind
STIPEND_ACCOUNT = "membership_stipends"
MAX_DAYS = 3660


@dataclass
class Grant:
    user_id: int
    tier: str
    expires_at: Optional[datetime]
    gems: int
    duplicate: bool            # the key (event or code) had already granted: nothing changed


def grant(session: Session, tiers: Mapping[str, Mapping], user_id: int, tier, days,
          source: str, key: str, details: dict, event: Optional[BillingEvent] = None,
          now: Optional[datetime] = None, before_post=None) -> Grant:
    """Grant `tier` for `days` to `user_id` once per `key`; `event`, when given, is stored in
    the same transaction (its (provider, event_id) is unique: a second delivery is a duplicate).
    `before_post(session)` runs under the user's lock before anything is written (the redeem
    code's conditional update); it raises to refuse. Commits; rolls back on any error."""
    check_grant(tiers, tier, days)
    now = now or utcnow()
    try:
        with idempotent(session, user_id, KIND, key) as write:
            first = _processed(session, event) if event is not None else None
            if write.replayed or first is not None:  # answered for whom the event named first
                return _duplicate(session, first or user_id, write.transaction)
            if before_post is not None:
                before_post(session)
            membership = _extend(session, user_id, tier, days, source, now)
            gems = tier_entitlements(tiers, tier).monthly_gems * days // 30
            write.post({**details, "tier": tier, "days": days, "gems": gems,
                        "expires_at": membership.expires_at.isoformat()},
                       [("gems", STIPEND_ACCOUNT, gems)], now=now)
            if event is not None:
                event.user_id = user_id
                session.add(event)
                session.flush()
            events.record(session, MembershipGranted(
                user_id, tier, days, source, now.isoformat(), membership.expires_at.isoformat()))
    except IntegrityError:  # the same event delivered at once for another user, or a lost race
        return _duplicate(session, user_id, None)
    return Grant(user_id, tier, membership.expires_at, gems, duplicate=False)


def check_grant(tiers: Mapping[str, Mapping], tier, days) -> None:
    if not isinstance(tier, str) or tier not in tiers or tier == FREE:
        paid = ", ".join(sorted(name for name in tiers if name != FREE))
        raise KindredError("unknown_tier", f"'tier' must be a paid tier: {paid}.")
    if type(days) is not int or not 1 <= days <= MAX_DAYS:
        raise KindredError("invalid_days", f"'days' must be a whole number from 1 to {MAX_DAYS}.")


def membership_payload(session: Session, user_id: int, tiers: Mapping[str, Mapping],
                       now: Optional[datetime] = None) -> dict:
    """The user's current tier (free once lapsed), when it ends, where it came from, and its
    entitlements."""
    entitlements = entitlements_for(session, user_id, tiers, now)
    membership = session.get(Membership, user_id)
    running = membership is not None and is_running(membership, now)
    return {"tier": entitlements.tier,
            "expires_at": membership.expires_at.isoformat() if running else None,
            "source": membership.source if running else None,
            "entitlements": entitlements.to_dict()}


# --- helpers ----------------------------------------------------------------------------------

def _extend(session: Session, user_id: int, tier: str, days: int, source: str,
            now: datetime) -> Membership:
    membership = session.get(Membership, user_id, populate_existing=True)
    if membership is None:
        membership = Membership(user_id=user_id, tier=tier, starts_at=now,
                                expires_at=now + timedelta(days=days), source=source,
                                updated_at=now)
    elif membership.tier == tier and is_running(membership, now):
        membership.expires_at += timedelta(days=days)
        membership.source, membership.updated_at = source, now
    else:
        membership.tier, membership.starts_at, membership.source = tier, now, source
        membership.expires_at, membership.updated_at = now + timedelta(days=days), now
    session.add(membership)
    session.flush()
    return membership


def _processed(session: Session, event: BillingEvent) -> Optional[int]:
    """The user an already processed (provider, event_id) granted to, or None if it is new."""
    return session.exec(select(BillingEvent.user_id).where(
        BillingEvent.provider == event.provider,
        BillingEvent.event_id == event.event_id)).first()


def _duplicate(session: Session, user_id: int, transaction) -> Grant:
    details = transaction.details if transaction is not None else {}
    membership = session.get(Membership, user_id)
    return Grant(user_id, details.get("tier", membership.tier if membership else FREE),
                 membership.expires_at if membership else None, 0, duplicate=True)
