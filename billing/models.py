"""The tables of billing: each user's membership, the billing events already processed and the
redeem codes (only a hash of each code is stored)."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import characters.models  # noqa: F401  (characters, for paid content's keys)
import gacha.models  # noqa: F401  (the ledger's transactions)
from core.db import UTCDateTime, utcnow
from core.users import User

USERS = User.__tablename__  # imported so the users table is mapped first

SOURCES = ("webhook", "stripe", "code", "admin")


class Membership(SQLModel, table=True):
    """A user's paid tier until `expires_at`; one row per user, extended in place. A row whose
    `expires_at` has passed is a lapsed membership: the user is on the free tier."""
    __tablename__ = "memberships"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    tier: str = Field(max_length=20)
    starts_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    source: str = Field(max_length=10)  # one of SOURCES
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BillingEvent(SQLModel, table=True):
    """One provider event that was processed: a replay of (provider, event_id) changes nothing."""
    __tablename__ = "billing_events"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id",
                                          name="uq_billing_events_provider_event"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)  # webhook | stripe
    event_id: str = Field(max_length=255)
    type: str = Field(max_length=60)
    user_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True,
                                   ondelete="SET NULL")
    tier: str = Field(max_length=20)
    days: int
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RedeemCode(SQLModel, table=True):
    """A code an admin generated; it grants `tier` for `days` once, until `expires_at`."""
    __tablename__ = "redeem_codes"

    id: Optional[int] = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)  # sha256 hex of the normalised code
    tier: str = Field(max_length=20)
    days: int
    expires_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    redeemed_by: Optional[int] = Field(default=None, foreign_key="users.id", index=True,
                                       ondelete="SET NULL")
    redeemed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class RewardRun(SQLModel, table=True):
    """One month's creator-rewards run (billing/rewards.py): the pool and what was counted,
    written before anything is paid, so a run that stopped half-way is finished by the next one
    from the same figures. `excluded` is {creator_id: [user ids]}: the creator's own and their
    alts' accounts whose chats with the creator's characters were left out."""
    __tablename__ = "reward_runs"

    id: Optional[int] = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, unique=True)  # YYYY-MM, UTC
    pool: int
    user_days: int                # of every creator together
    paid: int = 0                 # gems paid so far (the pool once done, or 0 with no user-days)
    status: str = Field(default="counted", max_length=10)  # counted | done
    excluded: dict = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class RewardPayout(SQLModel, table=True):
    """A creator's share of a run: their retained user-days, per character too, the gems the
    split gives them and the ledger transaction that paid them (None until paid, and for 0)."""
    __tablename__ = "reward_payouts"
    __table_args__ = (sa.UniqueConstraint("run_id", "creator_id",
                                          name="uq_reward_payouts_run_creator"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="reward_runs.id", index=True, ondelete="CASCADE")
    creator_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    user_days: int
    characters: dict = Field(default_factory=dict, sa_type=sa.JSON)  # {"<id>": user-days}
    gems: int
    transaction_id: Optional[int] = None  # gacha_transactions.id (the ledger's, append-only)


PAID_KINDS = ("story", "card")  # a story of story mode, a gacha card (docs/billing.md)


class PaidPrice(SQLModel, table=True):
    """The price a creator (or an admin) set on one of their character's stories or cards. No
    row: the story is free, the card is not sold."""
    __tablename__ = "paid_prices"
    __table_args__ = (sa.UniqueConstraint("kind", "item_id", name="uq_paid_prices_kind_item"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)  # one of PAID_KINDS
    item_id: int  # stories.id or gacha_cards.id
    character_id: int = Field(foreign_key="characters.id", index=True, ondelete="CASCADE")
    gems: int
    set_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Purchase(SQLModel, table=True):
    """One purchase of paid content: the ledger transaction that paid it and, once refunded,
    the one that reversed it. A user holds at most one active purchase of an item."""
    __tablename__ = "paid_purchases"
    __table_args__ = (sa.Index("uq_paid_purchases_active", "buyer_id", "kind", "item_id",
                               unique=True, sqlite_where=sa.text("status = 'active'"),
                               postgresql_where=sa.text("status = 'active'")),)

    id: Optional[int] = Field(default=None, primary_key=True)
    buyer_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=8)
    item_id: int
    character_id: Optional[int] = Field(default=None, foreign_key="characters.id", index=True,
                                        ondelete="SET NULL")
    creator_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True)
    title: str = Field(max_length=200)
    gems: int            # what the buyer paid
    creator_gems: int    # what the creator was paid (gems minus the operator's fee)
    status: str = Field(default="active", max_length=10)  # active | refunded
    transaction_id: int = Field(foreign_key="gacha_transactions.id", unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    refund_transaction_id: Optional[int] = Field(default=None, foreign_key="gacha_transactions.id")
    refunded_by: Optional[int] = Field(default=None, foreign_key="users.id")
    refund_reason: Optional[str] = Field(default=None, max_length=500)
    refunded_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
