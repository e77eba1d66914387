"""What a user's tier entitles them to, read from the operator's MEMBERSHIP_TIERS setting.

`entitlements_for(session, user_id, tiers)` is what other parts of the app ask: the inference
queue's priority, the context budget, the rooms' limits, the monthly gems and whether house ads
may be shown. A user with no membership, or whose membership has lapsed, is on `free`."""
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Mapping, Optional

from sqlmodel import Session

from billing.models import Membership
from core.db import utcnow

FREE = "free"
TIERS = ("free", "plus")
QUEUE_PRIORITIES = ("normal", "high")


@dataclass(frozen=True)
class Entitlements:
    tier: str
    queue_priority: str        # "high" is scheduled first (with a guard against starvation)
    max_context_tokens: int
    memory_tokens: Optional[int]  # what the character's memories may take of a prompt (None:
                                  # the MEMORY_TOKEN_BUDGET setting)
    max_rooms: int             # rooms the user may own
    max_room_members: int      # people in a room the user owns, the owner included
    monthly_gems: int          # the stipend a grant of the tier pays per 30 days
    ads: bool                  # house ads may be shown (when the operator turns them on)

    def to_dict(self) -> dict:
        return asdict(self)


def entitlements_for(session: Session, user_id: int, tiers: Mapping[str, Mapping],
                     now: Optional[datetime] = None) -> Entitlements:
    """The entitlements of the user's current tier (free when no membership is running)."""
    return tier_entitlements(tiers, current_tier(session, user_id, now))


def current_tier(session: Session, user_id: int, now: Optional[datetime] = None) -> str:
    membership = session.get(Membership, user_id)
    if membership is None or not is_running(membership, now):
        return FREE
    return membership.tier


def is_running(membership: Membership, now: Optional[datetime] = None) -> bool:
    return membership.expires_at > (now or utcnow())


def tier_entitlements(tiers: Mapping[str, Mapping], tier: str) -> Entitlements:
    """The configured entitlements of `tier`; a tier the settings lack falls back to free's."""
    settings = tiers.get(tier) or tiers.get(FREE) or {}
    return Entitlements(
        tier=tier if tier in tiers else FREE,
        queue_priority=str(settings.get("queue_priority", "normal")),
        max_context_tokens=int(settings.get("max_context_tokens", 2048)),
        memory_tokens=(int(settings["memory_tokens"]) if settings.get("memory_tokens") is not None
                       else None),
        max_rooms=int(settings.get("max_rooms", 3)),
        max_room_members=int(settings.get("max_room_members", 8)),
        monthly_gems=int(settings.get("monthly_gems", 0)),
        ads=bool(settings.get("ads", True)))


def known_tier(tiers: Mapping[str, Mapping], tier) -> bool:
    return isinstance(tier, str) and tier in tiers
