"""Gacha tables: the double-entry currency ledger, banners, cards, seeds, pulls, pity, collection.

The ledger is append-only: a `LedgerTransaction` holds `LedgerEntry` rows whose amounts sum to
zero per currency, moving value between a user's wallet account and a system account. A balance
is the sum of an account's entries; nothing stores it. Every write for one user runs under a lock
on that user's `Wallet` row, which is what makes concurrent draws exact.
"""
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Field, SQLModel

import core.users  # noqa: F401  (users)
import characters.models  # noqa: F401  (characters)
from core.db import UTCDateTime, utcnow

CURRENCIES = ("gems", "premium", "shards")
TRANSACTION_KINDS = ("checkin", "draw", "admin_grant", "shard_exchange", "play_reward",
                     "gift", "card_claim",  # gift and card_claim move cards, not currency
                     "paid_purchase", "paid_refund")  # paid content (billing/purchases.py)
CARD_RARITIES = ("N", "R", "SR", "SSR")


class Wallet(SQLModel, table=True):
    """One row per user: the row every gacha write for that user locks first."""
    __tablename__ = "gacha_wallets"

    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LedgerAccount(SQLModel, table=True):
    """A user's wallet for one currency (code "user:<id>:<currency>") or a system account
    (code "system:<name>:<currency>", user_id NULL) that is the other side of every entry."""
    __tablename__ = "gacha_accounts"

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=80, unique=True, index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True)
    currency: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LedgerTransaction(SQLModel, table=True):
    __tablename__ = "gacha_transactions"
    __table_args__ = (sa.UniqueConstraint("user_id", "idempotency_key",
                                          name="uq_gacha_transactions_user_key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=24)
    idempotency_key: str = Field(max_length=160)
    # What the request asked for (banner, count, seeds...), so a replay can be matched to it.
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "gacha_entries"

    id: Optional[int] = Field(default=None, primary_key=True)
    transaction_id: int = Field(foreign_key="gacha_transactions.id", index=True)
    account_id: int = Field(foreign_key="gacha_accounts.id", index=True)
    amount: int = Field(sa_type=sa.BigInteger)  # positive = credit to the account


class Card(SQLModel, table=True):
    __tablename__ = "gacha_cards"
    __table_args__ = (sa.UniqueConstraint("character_id", "rarity",
                                          name="uq_gacha_cards_character_rarity"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    character_id: int = Field(foreign_key="characters.id", index=True)
    rarity: str = Field(max_length=4)
    title: str = Field(max_length=160)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Banner(SQLModel, table=True):
    __tablename__ = "gacha_banners"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    featured_character_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)  # None: permanent
    # gacha.rates.BannerRules fields; the draw and the disclosure both read them from here.
    rules: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # gacha.draw.Pool.to_mapping() with card ids as strings, frozen when the banner is made so
    # that every past pull can be recomputed; pool_digest is published with it.
    pool: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    pool_digest: str = Field(max_length=64)
    pull_cost: int = Field(default=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ServerSeed(SQLModel, table=True):
    """A user's commit-reveal server seed: the hash is shown before draws, the seed after
    rotation (revealed_at set). The unrevealed one is the active seed."""
    __tablename__ = "gacha_server_seeds"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    seed: str = Field(max_length=64)
    seed_hash: str = Field(max_length=64)
    client_seed: str = Field(max_length=128)  # default client seed for draws that send none
    next_nonce: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revealed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class Pull(SQLModel, table=True):
    __tablename__ = "gacha_pulls"
    __table_args__ = (sa.UniqueConstraint("server_seed_id", "nonce",
                                          name="uq_gacha_pulls_seed_nonce"),
                      sa.Index("ix_gacha_pulls_user_created", "user_id", "created_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    banner_id: int = Field(foreign_key="gacha_banners.id", index=True)
    transaction_id: int = Field(foreign_key="gacha_transactions.id", index=True)
    server_seed_id: int = Field(foreign_key="gacha_server_seeds.id", index=True)
    nonce: int = Field(sa_type=sa.BigInteger)
    client_seed: str = Field(max_length=128)
    card_id: int = Field(foreign_key="gacha_cards.id")
    rarity: str = Field(max_length=4)
    featured: bool = Field(default=False)
    duplicate: bool = Field(default=False)
    shards: int = Field(default=0)  # shards granted because the card was a duplicate
    # The pity state the pull was drawn from: enough to recompute it from the revealed seed.
    pity_before: int
    pulls_since_sr_before: int
    lost_5050_before: bool
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Pity(SQLModel, table=True):
    __tablename__ = "gacha_pity"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    banner_id: int = Field(foreign_key="gacha_banners.id", primary_key=True)
    pulls_since_ssr: int = Field(default=0)
    pulls_since_sr: int = Field(default=0)
    lost_5050: bool = Field(default=False)
    total_pulls: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CollectionItem(SQLModel, table=True):
    """Copies of a card a user has obtained (draws and shard exchanges); count >= 1."""
    __tablename__ = "gacha_collection"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    card_id: int = Field(foreign_key="gacha_cards.id", primary_key=True)
    count: int = Field(default=0)
    first_obtained_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
@event.listens_for(LedgerTransaction, "before_update")
@event.listens_for(LedgerTransaction, "before_delete")
def _ledger_is_append_only(_mapper, _connection, target):
    raise RuntimeError(f"the gacha ledger is append-only; {type(target).__name__} rows are "
                       "never changed or deleted (post a correcting transaction instead)")
