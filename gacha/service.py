"""The gacha economy on top of the pure core: ledger, check-in, gems earned by playing, admin
grants, draws, seeds, verification, collection, shard shop, gifts and level claims, ledger and
draw history, and the seeded cards and banner. No Flask here.

Every write for a user is one database transaction that first locks the user's wallet row
(`SELECT ... FOR UPDATE` on PostgreSQL; `BEGIN IMMEDIATE`, i.e. the single SQLite writer lock,
on SQLite), then checks, posts balanced ledger entries and updates pulls, pity and collection,
and commits; on any error it rolls back, leaving the ledger as it was.
"""
import csv
import io
import secrets
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from core.db import utcnow
from core.errors import Conflict, KindredError, not_found
from core.users import User
from characters.models import Character
from characters.service import avatar_file
from gacha.art import card_art
from gacha.disclosure import disclosure
from gacha.draw import PityState, Pool, draw_many, draw_one
from gacha.fairness import MAX_CLIENT_SEED_LENGTH, new_server_seed, seed_hash, seed_matches_hash
from gacha.models import (CURRENCIES, Banner, Card, CollectionItem, LedgerAccount, LedgerEntry,
                          LedgerTransaction, Pity, Pull, ServerSeed, Wallet)
from gacha.rates import RARITIES, BannerRules


CHECKIN_REWARD = 100           # gems per UTC day
DEFAULT_PULL_COST = 100        # gems (or premium) per pull
PAYMENT_CURRENCIES = ("gems", "premium")
GRANTABLE_CURRENCIES = ("gems", "premium")
PULL_COUNTS = (1, 10)
SHARDS_FOR_DUPLICATE = {"N": 1, "R": 5, "SR": 20, "SSR": 100}
SHARD_PRICE = {"N": 10, "R": 40, "SR": 150, "SSR": 600}
RARITY_TITLES = {"N": "Everyday", "R": "Bright", "SR": "Radiant", "SSR": "Legendary"}
MAX_IDEMPOTENCY_KEY = 100
MAX_GRANT = 10**9
HISTORY_DAYS = 90             # default export window; pulls are never deleted
MAX_HISTORY_DAYS = 3650
DEFAULT_BANNER_NAME = "First Light"
# Why gems were earned by playing; relationships posts them (see relationships/rewards.py).
EARN_REASONS = ("first_chat_of_day", "chat_streak", "story_chapter")
LEDGER_PAGE = 50
MAX_LEDGER_PAGE = 200

VERIFY_FORMULA = ("roll = int(HMAC-SHA256(key=server_seed, msg=f'{client_seed}:{nonce}'"
                  "[':{sub_index}']).hexdigest()[:13], 16) / 2**52; sub_index 0 picks the "
                  "rarity, 1 the featured 50/50, 2 the card (see gacha/draw.py)")


class InsufficientFunds(KindredError):
    status = 402


@dataclass
class DrawOutcome:
    transaction: LedgerTransaction
    pulls: list[Pull]
    pity: Pity
    replayed: bool = False


@dataclass
class Earning:
    transaction: LedgerTransaction | None  # None: nothing paid (amount 0 or daily limit reached)
    granted: bool                          # paid by this call (False: paid before, or not at all)
    amount: int


@dataclass
class CardMove:
    """A card that left (gift) or entered (claim) a collection outside draws and the shop."""
    transaction: LedgerTransaction
    card: Card
    replayed: bool = False


@dataclass
class CheckinOutcome:
    transaction: LedgerTransaction
    granted: bool
    amount: int
    day: str


# --- ledger -------------------------------------------------------------------------------

def balance(session: Session, user_id: int, currency: str) -> int:
    """The sum of the entries of the user's account in `currency` (0 if it has none)."""
    query = (select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
             .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
             .where(LedgerAccount.code == _wallet_code(user_id, currency)))
    return int(session.exec(query).one())


def balances(session: Session, user_id: int) -> dict[str, int]:
    query = (select(LedgerAccount.currency, sa.func.sum(LedgerEntry.amount))
             .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
             .where(LedgerAccount.user_id == user_id)
             .group_by(LedgerAccount.currency))
    found = {currency: int(total) for currency, total in session.exec(query)}
    return {currency: found.get(currency, 0) for currency in ("gems", "premium", "shards")}


def recent_entries(session: Session, user_id: int, limit: int = 20) -> list[dict]:
    query = (select(LedgerEntry, LedgerTransaction, LedgerAccount)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
             .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
             .where(LedgerAccount.user_id == user_id)
             .order_by(LedgerEntry.id.desc()).limit(limit))
    return [{"id": entry.id, "transaction_id": tx.id, "kind": tx.kind,
             "currency": account.currency, "amount": entry.amount,
             "created_at": tx.created_at.isoformat()}
            for entry, tx, account in session.exec(query)]


def ledger_problems(session: Session) -> list[str]:
    """Audit of the whole ledger: every transaction balances per currency, no wallet is negative."""
    problems = []
    unbalanced = (select(LedgerEntry.transaction_id, LedgerAccount.currency,
                         sa.func.sum(LedgerEntry.amount))
                  .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                  .group_by(LedgerEntry.transaction_id, LedgerAccount.currency)
                  .having(sa.func.sum(LedgerEntry.amount) != 0))
    for tx_id, currency, total in session.exec(unbalanced):
        problems.append(f"transaction {tx_id} does not balance in {currency}: {total}")
    negative = (select(LedgerAccount.code, sa.func.sum(LedgerEntry.amount))
                .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
                .where(LedgerAccount.user_id.is_not(None))
                .group_by(LedgerAccount.code)
                .having(sa.func.sum(LedgerEntry.amount) < 0))
    for code, total in session.exec(negative):
        problems.append(f"wallet {code} is negative: {total}")
    return problems


def daily_checkin(session: Session, user_id: int, now: datetime | None = None) -> CheckinOutcome:
    """Grant CHECKIN_REWARD gems once per UTC day; later calls that day return the same grant."""
    day = (now or utcnow()).astimezone(timezone.utc).date().isoformat()
    with user_transaction(session, user_id):
        existing = _transaction_by_key(session, user_id, f"checkin:{day}")
        if existing is not None:
            return CheckinOutcome(existing, False, CHECKIN_REWARD, day)
        tx = _post(session, user_id, "checkin", f"checkin:{day}", {"day": day},
                   [("gems", "checkin_rewards", CHECKIN_REWARD)])
    return CheckinOutcome(tx, True, CHECKIN_REWARD, day)


def checked_in_today(session: Session, user_id: int, now: datetime | None = None) -> bool:
    day = (now or utcnow()).astimezone(timezone.utc).date().isoformat()
    return _transaction_by_key(session, user_id, f"checkin:{day}") is not None


def admin_grant(session: Session, user_id: int, currency: str, amount: int,
                idempotency_key: str, reason: str = "") -> LedgerTransaction:
    """An admin gives gems or premium (the only way premium enters the economy)."""
    if currency not in GRANTABLE_CURRENCIES:
        raise KindredError("invalid_currency", f"Grants are in {', '.join(GRANTABLE_CURRENCIES)}.")
    if type(amount) is not int or not 0 < amount <= MAX_GRANT:
        raise KindredError("invalid_amount", f"Grant amounts are whole numbers from 1 to {MAX_GRANT}.")
    key = f"admin:{_valid_key(idempotency_key)}"
    details = {"currency": currency, "amount": amount, "reason": str(reason)[:200]}
    with user_transaction(session, user_id):
        existing = _transaction_by_key(session, user_id, key)
        if existing is not None:
            _same_request(existing, "admin_grant", details)
            return existing
        return _post(session, user_id, "admin_grant", key, details,
                     [(currency, "admin_grants", amount)])


def earn_gems(session: Session, user_id: int, reason: str, event_key: str, amount: int,
              details: dict | None = None, daily_limit: int | None = None,
              now: datetime | None = None) -> Earning:
    """Gems earned by playing (first chat of the day, a chat streak, a finished story chapter),
    posted at most once per (user, reason, event_key). The key comes from the event that earned
    them (relationships passes its affinity event's ref), so a replayed or retried event never
    pays twice. `daily_limit` caps how many payments for `reason` a user gets per UTC day.
    Relationships calls this; it is not an HTTP endpoint."""
    if reason not in EARN_REASONS:
        raise KindredError("invalid_reason", f"Gems are earned for {', '.join(EARN_REASONS)}.")
    if type(amount) is not int or not 0 <= amount <= MAX_GRANT:
        raise KindredError("invalid_amount", f"Earned amounts are whole numbers from 0 to {MAX_GRANT}.")
    key = f"earn:{reason}:{_valid_key(event_key)}"
    now = now or utcnow()
    with user_transaction(session, user_id):
        existing = _transaction_by_key(session, user_id, key)
        if existing is not None:
            return Earning(existing, False, existing.details.get("amount", 0))
        if amount == 0:
            return Earning(None, False, 0)
        if daily_limit is not None and _earned_today(session, user_id, reason, now) >= daily_limit:
            return Earning(None, False, 0)
        tx = _post(session, user_id, "play_reward", key,
                   {"reason": reason, "amount": amount, **(details or {})},
                   [("gems", "play_rewards", amount)], now=now)
    return Earning(tx, True, amount)


def is_admin(username: str, admins) -> bool:
    """Admins are configured by username (KINDRED_ADMINS), compared case-insensitively."""
    return isinstance(username, str) and username.strip().lower() in set(admins or ())


def user_id_by_name(session: Session, username) -> int:
    if not isinstance(username, str) or not username.strip():
        raise KindredError("invalid_username", "'username' must be the name of an existing user.")
    found = session.exec(select(User.id).where(User.username_key == username.strip().lower())).first()
    if found is None:
        raise not_found("user")
    return found


def ledger_history(session: Session, user_id: int, currency: str | None = None,
                   limit: int = LEDGER_PAGE, before_id: int | None = None) -> dict:
    """The user's ledger entries, newest first, each with the balance of its currency right
    after it (a running sum over the append-only ledger). Page with `before_id`."""
    if currency is not None and currency not in CURRENCIES:
        raise KindredError("invalid_currency", f"'currency' must be one of {', '.join(CURRENCIES)}.")
    if type(limit) is not int or not 1 <= limit <= MAX_LEDGER_PAGE:
        raise KindredError("invalid_limit", f"'limit' must be a whole number from 1 to {MAX_LEDGER_PAGE}.")
    if before_id is not None and not _valid_id(before_id):
        raise KindredError("invalid_before", "'before' must be a positive entry id.")
    running = sa.func.sum(LedgerEntry.amount).over(partition_by=LedgerEntry.account_id,
                                                   order_by=LedgerEntry.id)
    entries = (select(LedgerEntry.id.label("id"), LedgerEntry.amount.label("amount"),
                      running.label("balance_after"), LedgerAccount.currency.label("currency"),
                      LedgerEntry.transaction_id.label("transaction_id"))
               .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
               .where(LedgerAccount.user_id == user_id).subquery())
    query = (select(entries, LedgerTransaction)
             .join(LedgerTransaction, LedgerTransaction.id == entries.c.transaction_id)
             .order_by(entries.c.id.desc()).limit(limit))
    if currency is not None:
        query = query.where(entries.c.currency == currency)
    if before_id is not None:
        query = query.where(entries.c.id < before_id)
    rows = [{"id": entry_id, "transaction_id": tx.id, "kind": tx.kind,
             "description": describe_transaction(tx), "currency": entry_currency,
             "amount": int(amount), "balance_after": int(balance_after),
             "created_at": tx.created_at.isoformat()}
            for entry_id, amount, balance_after, entry_currency, _tx_id, tx
            in session.execute(query)]
    return {"entries": rows, "balances": balances(session, user_id),
            "next_before": rows[-1]["id"] if len(rows) == limit else None}


def describe_transaction(tx: LedgerTransaction) -> str:
    """One line a user understands, from the transaction's kind and recorded details."""
    details = tx.details or {}
    if tx.kind == "draw":
        request = details.get("request", {})
        return f"{request.get('count')}-pull on banner {details.get('banner_id')}"
    if tx.kind == "checkin":
        return f"Daily check-in {details.get('day', '')}".strip()
    if tx.kind == "admin_grant":
        return "Granted by an admin" + (f": {details['reason']}" if details.get("reason") else "")
    if tx.kind == "shard_exchange":
        return f"Shard shop: card {details.get('card_id')}"
    if tx.kind == "play_reward":
        return {"first_chat_of_day": "First chat of the day",
                "chat_streak": f"Chat streak ({details.get('day', '')})",
                "story_chapter": "Story chapter finished"}.get(details.get("reason"), "Reward")
    return tx.kind.replace("_", " ")


# --- draws --------------------------------------------------------------------------------

def draw(session: Session, user_id: int, banner_id: int, count: int, idempotency_key: str,
         client_seed: str | None = None, currency: str = "gems",
         now: datetime | None = None) -> DrawOutcome:
    """Pay for and draw `count` (1 or 10) cards on a banner as one transaction.

    The same idempotency key with the same request returns the original outcome (replayed=True)
    and changes nothing; with a different request it is a 409."""
    count = _valid_count(count)
    key = f"draw:{_valid_key(idempotency_key)}"
    if client_seed is not None:
        client_seed = _valid_client_seed(client_seed)
    if currency not in PAYMENT_CURRENCIES:
        raise KindredError("invalid_currency",
                           f"Draws are paid in {' or '.join(PAYMENT_CURRENCIES)}.")
    now = now or utcnow()
    request = {"banner_id": banner_id, "count": count, "client_seed": client_seed,
               "currency": currency}
    with user_transaction(session, user_id):
        existing = _transaction_by_key(session, user_id, key)
        if existing is not None:
            _same_request(existing, "draw", request, field="request")
            return _outcome_of(session, existing, user_id, banner_id)
        banner = _banner(session, banner_id)
        _check_open(banner, now)
        cost = banner.pull_cost * count
        have = balance(session, user_id, currency)
        if have < cost:
            raise InsufficientFunds("insufficient_funds",
                                    f"A {count}-pull on this banner costs {cost} {currency}; "
                                    f"you have {have}.")
        seed = _active_seed(session, user_id)
        pity = _pity_row(session, user_id, banner.id)
        rules = banner_rules(banner)
        used_client_seed = client_seed or seed.client_seed
        first_nonce = seed.next_nonce
        results, state = draw_many(rules, banner_pool(banner), _pity_state(pity), seed.seed,
                                   used_client_seed, first_nonce, count)
        seed.next_nonce = first_nonce + count
        owned = _collection_rows(session, user_id, [int(r.card_id) for r in results])
        granted_shards, pull_rows = 0, []
        for result in results:
            card_id = int(result.card_id)
            item = owned.get(card_id)
            duplicate = item is not None and item.count > 0
            shards = SHARDS_FOR_DUPLICATE[result.rarity] if duplicate else 0
            granted_shards += shards
            owned[card_id] = _add_to_collection(session, user_id, card_id, item, now)
            pull_rows.append(Pull(user_id=user_id, banner_id=banner.id, transaction_id=0,
                                  server_seed_id=seed.id, nonce=result.nonce,
                                  client_seed=used_client_seed, card_id=card_id,
                                  rarity=result.rarity, featured=result.featured,
                                  duplicate=duplicate, shards=shards,
                                  pity_before=result.pity_before,
                                  pulls_since_sr_before=result.pulls_since_sr_before,
                                  lost_5050_before=result.lost_5050_before, created_at=now))
        details = {"request": request, "banner_id": banner.id, "cost": cost,
                   "server_seed_id": seed.id, "first_nonce": first_nonce,
                   "shards": granted_shards}
        tx = _post(session, user_id, "draw", key, details,
                   [(currency, "draw_sink", -cost), ("shards", "shard_mint", granted_shards)],
                   now=now)
        for row in pull_rows:
            row.transaction_id = tx.id
            session.add(row)
        pity.pulls_since_ssr, pity.pulls_since_sr = state.pulls_since_ssr, state.pulls_since_sr
        pity.lost_5050, pity.total_pulls = state.lost_5050, pity.total_pulls + count
        pity.updated_at = now
        session.flush()
    return DrawOutcome(tx, pull_rows, pity)


def exchange_shards(session: Session, user_id: int, card_id: int,
                    idempotency_key: str) -> LedgerTransaction:
    """Buy any card with shards at SHARD_PRICE[rarity]: every card can be had without luck."""
    key = f"exchange:{_valid_key(idempotency_key)}"
    card = session.get(Card, card_id) if _valid_id(card_id) else None
    if card is None:
        raise not_found("card")
    price = SHARD_PRICE[card.rarity]
    details = {"card_id": card.id, "price": price}
    with user_transaction(session, user_id):
        existing = _transaction_by_key(session, user_id, key)
        if existing is not None:
            _same_request(existing, "shard_exchange", details)
            return existing
        have = balance(session, user_id, "shards")
        if have < price:
            raise InsufficientFunds("insufficient_funds",
                                    f"This {card.rarity} card costs {price} shards; you have {have}.")
        now = utcnow()
        item = _collection_rows(session, user_id, [card.id]).get(card.id)
        _add_to_collection(session, user_id, card.id, item, now)
        return _post(session, user_id, "shard_exchange", key, details,
                     [("shards", "shard_shop", -price)], now=now)


def give_card(session: Session, user_id: int, card_id, character_id: int, idempotency_key: str,
              now: datetime | None = None) -> CardMove:
    """Give one owned copy of a card to its own character (relationships turns it into affinity):
    the copy leaves the collection and a "gift" transaction records it, together or not at all.
    Unknown card: 404; another character's card: 400; no copy owned: 409. The same key again
    returns the first gift (replayed=True) and changes nothing."""
    key = f"gift:{_valid_key(idempotency_key)}"
    card = card_of_character(session, card_id, character_id)
    details = {"card_id": card.id, "character_id": card.character_id}
    now = now or utcnow()
    with user_transaction(session, user_id):
        existing = _transaction_by_key(session, user_id, key)
        if existing is not None:
            _same_request(existing, "gift", details)
            return CardMove(existing, card, replayed=True)
        item = _collection_rows(session, user_id, [card.id]).get(card.id)
        if item is None or item.count < 1:
            raise Conflict("card_not_owned", f"You have no copy of '{card.title}' to give; draw "
                                             "it or buy it with shards first.")
        item.count -= 1
        item.updated_at = now
        tx = _post(session, user_id, "gift", key, details, [], now=now)
    return CardMove(tx, card)


def gift_made(session: Session, user_id: int, idempotency_key: str) -> LedgerTransaction | None:
    """The gift already made with this key, if any (to tell a retry from a new gift)."""
    return _transaction_by_key(session, user_id, f"gift:{_valid_key(idempotency_key)}")


def claim_card(session: Session, user_id: int, card_id, reason: str,
               now: datetime | None = None) -> CardMove:
    """One free copy of a card, at most once per user and card, ever (relationships grants it
    when a level unlocks the card). A second claim returns the first (replayed=True)."""
    card = session.get(Card, card_id) if _valid_id(card_id) else None
    if card is None:
        raise not_found("card")
    key = f"claim:{card.id}"
    now = now or utcnow()
    with user_transaction(session, user_id):
        existing = _transaction_by_key(session, user_id, key)
        if existing is not None:
            return CardMove(existing, card, replayed=True)
        item = _collection_rows(session, user_id, [card.id]).get(card.id)
        _add_to_collection(session, user_id, card.id, item, now)
        tx = _post(session, user_id, "card_claim", key,
                   {"card_id": card.id, "reason": str(reason)[:200]}, [], now=now)
    return CardMove(tx, card)


def claimed_card_ids(session: Session, user_id: int, card_ids) -> set[int]:
    keys = {f"claim:{card_id}": card_id for card_id in card_ids}
    if not keys:
        return set()
    found = session.exec(select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.user_id == user_id, LedgerTransaction.idempotency_key.in_(keys)))
    return {keys[key] for key in found}


def card_of_character(session: Session, card_id, character_id: int) -> Card:
    card = session.get(Card, card_id) if _valid_id(card_id) else None
    if card is None:
        raise not_found("card")
    if card.character_id != character_id:
        raise KindredError("wrong_character", f"'{card.title}' is a card of character "
                                              f"{card.character_id}; a card can only be given "
                                              "to its own character.")
    return card


def cards_of_character(session: Session, character_id: int) -> list[Card]:
    return list(session.exec(select(Card).where(Card.character_id == character_id)
                             .order_by(Card.id)))


def owned_count(session: Session, user_id: int, card_id: int) -> int:
    item = session.get(CollectionItem, (user_id, card_id))
    return item.count if item else 0


def pity_of(session: Session, user_id: int, banner_id: int) -> PityState:
    row = session.get(Pity, (user_id, banner_id))
    return _pity_state(row) if row else PityState()


# --- seeds and verification -----------------------------------------------------------------

def current_seed(session: Session, user_id: int) -> ServerSeed:
    """The user's active server seed (its hash is the commitment); made on first use."""
    seed = session.exec(_active_seed_query(user_id)).first()
    if seed is not None:
        return seed
    with user_transaction(session, user_id):
        seed = _active_seed(session, user_id)
    return seed


def rotate_seed(session: Session, user_id: int,
                client_seed: str | None = None) -> tuple[ServerSeed, ServerSeed]:
    """Reveal the active seed and commit to a new one; returns (revealed, new)."""
    if client_seed is not None:
        client_seed = _valid_client_seed(client_seed)
    with user_transaction(session, user_id):
        old = _active_seed(session, user_id)
        old.revealed_at = utcnow()
        session.flush()
        new = _new_seed(session, user_id, client_seed)
    return old, new


def verify_pull(session: Session, user_id: int, pull_id: int) -> dict:
    """Recompute a pull from its revealed server seed with the pure core."""
    pull = session.get(Pull, pull_id) if _valid_id(pull_id) else None
    if pull is None or pull.user_id != user_id:
        raise not_found("pull")
    seed = session.get(ServerSeed, pull.server_seed_id)
    if seed.revealed_at is None:
        raise Conflict("seed_not_revealed",
                       f"Pull {pull.id} used server seed {seed.id}, which is still active; rotate "
                       "it (POST /api/gacha/seed/rotate) to reveal it, then verify.")
    banner = session.get(Banner, pull.banner_id)
    pool = banner_pool(banner)
    state = PityState(pull.pity_before, pull.pulls_since_sr_before, pull.lost_5050_before)
    result, _ = draw_one(banner_rules(banner), pool, state, seed.seed, pull.client_seed, pull.nonce)
    recorded = {"card_id": str(pull.card_id), "rarity": pull.rarity, "featured": pull.featured}
    recomputed = {"card_id": result.card_id, "rarity": result.rarity, "featured": result.featured}
    hash_ok = seed_matches_hash(seed.seed, seed.seed_hash)
    digest_ok = pool.digest() == banner.pool_digest
    return {"pull_id": pull.id, "banner_id": banner.id, "server_seed_id": seed.id,
            "server_seed": seed.seed, "seed_hash": seed.seed_hash, "seed_matches_hash": hash_ok,
            "pool_digest": banner.pool_digest, "pool_digest_matches": digest_ok,
            "rules": banner.rules, "pool": banner.pool,
            "client_seed": pull.client_seed, "nonce": pull.nonce, "state_before": asdict(state),
            "recorded": recorded, "recomputed": recomputed, "rolls": result.to_dict(),
            "formula": VERIFY_FORMULA,
            "verified": hash_ok and digest_ok and recorded == recomputed}


def seed_payload(seed: ServerSeed, reveal: bool = False) -> dict:
    payload = {"id": seed.id, "seed_hash": seed.seed_hash, "client_seed": seed.client_seed,
               "next_nonce": seed.next_nonce, "created_at": seed.created_at.isoformat(),
               "revealed_at": seed.revealed_at.isoformat() if seed.revealed_at else None}
    if reveal and seed.revealed_at is not None:
        payload["server_seed"] = seed.seed
    return payload


# --- banners, cards, collection, history ---------------------------------------------------

def banner_rules(banner: Banner) -> BannerRules:
    return BannerRules(**banner.rules)


def banner_pool(banner: Banner) -> Pool:
    return Pool.from_mapping(banner.pool)


def banner_status(banner: Banner, now: datetime | None = None) -> str:
    now = now or utcnow()
    if now < banner.starts_at:
        return "upcoming"
    if banner.ends_at is not None and now >= banner.ends_at:
        return "ended"
    return "open"


def list_banners(session: Session) -> list[Banner]:
    return list(session.exec(select(Banner).order_by(Banner.id)))


def get_banner(session: Session, banner_id: int) -> Banner:
    return _banner(session, banner_id)


def banner_payload(banner: Banner, now: datetime | None = None) -> dict:
    return {"id": banner.id, "name": banner.name,
            "featured_character_ids": list(banner.featured_character_ids),
            "starts_at": banner.starts_at.isoformat(),
            "ends_at": banner.ends_at.isoformat() if banner.ends_at else None,
            "status": banner_status(banner, now), "pull_cost": banner.pull_cost,
            "pool_digest": banner.pool_digest, "rules": dict(banner.rules)}


def banner_disclosure(session: Session, banner_id: int) -> dict:
    """The published odds, from the same rules and pool the draw uses, with card names."""
    banner = _banner(session, banner_id)
    published = disclosure(banner_rules(banner), banner_pool(banner))
    cards = _cards_by_id(session, [int(item["card_id"]) for item in published["items"]])
    for item in published["items"]:
        item["card"] = card_payload(cards[int(item["card_id"])])
    return {"banner": banner_payload(banner), **published}


def pity_payload(state: PityState, banner: Banner) -> dict:
    rules = banner_rules(banner)
    return {"banner_id": banner.id, "pulls_since_ssr": state.pulls_since_ssr,
            "pulls_since_sr": state.pulls_since_sr, "featured_guaranteed": state.lost_5050,
            "soft_pity_start": rules.soft_pity_start, "hard_pity": rules.hard_pity,
            "pulls_to_hard_pity": rules.hard_pity - state.pulls_since_ssr,
            "next_ssr_chance": rules.ssr_probability(state.pulls_since_ssr)}


def card_payload(card: Card, character: Character | None = None) -> dict:
    payload = {"id": card.id, "character_id": card.character_id, "rarity": card.rarity,
               "title": card.title, "art_url": f"/gacha/cards/{card.id}.png"}
    if character is not None:
        payload["character_name"] = character.name
    return payload


def pull_payload(pull: Pull, card: Card) -> dict:
    return {"id": pull.id, "card": card_payload(card), "rarity": pull.rarity,
            "featured": pull.featured, "duplicate": pull.duplicate, "shards": pull.shards,
            "pity_before": pull.pity_before, "nonce": pull.nonce,
            "server_seed_id": pull.server_seed_id, "client_seed": pull.client_seed,
            "created_at": pull.created_at.isoformat()}


def pulls_payload(session: Session, pulls: list[Pull]) -> list[dict]:
    cards = _cards_by_id(session, [p.card_id for p in pulls])
    return [pull_payload(p, cards[p.card_id]) for p in pulls]


def collection(session: Session, user_id: int) -> list[dict]:
    """Every card with how many copies the user has obtained (0 = not owned yet) and its price."""
    owned = {item.card_id: item.count for item in
             session.exec(select(CollectionItem).where(CollectionItem.user_id == user_id))}
    rows = session.exec(select(Card, Character).join(Character, Character.id == Card.character_id)
                        .order_by(Card.character_id, Card.id))
    return [{**card_payload(card, character), "count": owned.get(card.id, 0),
             "shard_price": SHARD_PRICE[card.rarity]} for card, character in rows]


HISTORY_COLUMNS = ("pull_id", "created_at", "banner_id", "banner_name", "card_id", "character",
                   "card_title", "rarity", "featured", "duplicate", "shards", "pity_before",
                   "transaction_id", "server_seed_id", "seed_hash", "server_seed", "client_seed",
                   "nonce")


def history_csv(session: Session, user_id: int, days: int = HISTORY_DAYS,
                now: datetime | None = None) -> str:
    """The user's pulls of the last `days` days as CSV (server seeds only once revealed)."""
    since = (now or utcnow()) - timedelta(days=days)
    query = (select(Pull, Banner, Card, Character, ServerSeed)
             .join(Banner, Banner.id == Pull.banner_id)
             .join(Card, Card.id == Pull.card_id)
             .join(Character, Character.id == Card.character_id)
             .join(ServerSeed, ServerSeed.id == Pull.server_seed_id)
             .where(Pull.user_id == user_id, Pull.created_at >= since)
             .order_by(Pull.id))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for pull, banner, card, character, seed in session.exec(query):
        writer.writerow([pull.id, pull.created_at.isoformat(), banner.id, banner.name, card.id,
                         character.name, card.title, pull.rarity, int(pull.featured),
                         int(pull.duplicate), pull.shards, pull.pity_before, pull.transaction_id,
                         seed.id, seed.seed_hash, seed.seed if seed.revealed_at else "",
                         pull.client_seed, pull.nonce])
    return out.getvalue()


def card_art_file(session: Session, card_id: int, cache_dir: Path, avatars_dir: Path) -> Path:
    """The card's picture on disk, drawn from the character's avatar the first time it is asked for."""
    card = session.get(Card, card_id) if _valid_id(card_id) else None
    if card is None:
        raise not_found("card")
    path = cache_dir / f"card-{card.id}.png"
    if not path.exists():
        character = session.get(Character, card.character_id)
        avatar = avatar_file(character, avatars_dir).read_bytes()
        cache_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        temporary.write_bytes(card_art(avatar, card.rarity, card.title))
        temporary.replace(path)
    return path


def seed_gacha(session: Session, now: datetime | None = None) -> Banner:
    """Cards in every rarity for the seeded cast and one default banner; safe to run again."""
    now = now or utcnow()
    cast = list(session.exec(select(Character).where(Character.creator_id.is_(None))
                             .order_by(Character.id)))
    ensure_cards(session, cast)
    banner = session.exec(select(Banner).where(Banner.name == DEFAULT_BANNER_NAME)).first()
    if banner is None:
        banner = create_banner(session, DEFAULT_BANNER_NAME, [c.id for c in cast[:1]],
                               [c.id for c in cast], starts_at=now)
    session.commit()
    return banner


def ensure_cards(session: Session, characters: list[Character]) -> None:
    """Make the N, R, SR and SSR cards of each character that lacks them."""
    have = {(c.character_id, c.rarity) for c in session.exec(select(Card))}
    for character in characters:
        for rarity in reversed(RARITIES):
            if (character.id, rarity) not in have:
                session.add(Card(character_id=character.id, rarity=rarity,
                                 title=f"{character.name} · {RARITY_TITLES[rarity]}"))
    session.flush()


def create_banner(session: Session, name: str, featured_character_ids: list[int],
                  character_ids: list[int], starts_at: datetime,
                  ends_at: datetime | None = None, rules: BannerRules | None = None,
                  pull_cost: int = DEFAULT_PULL_COST) -> Banner:
    """A banner over the cards of `character_ids`; featured characters' N cards are not rated up.
    The pool is frozen into the banner so every pull stays verifiable."""
    rules = rules or BannerRules()
    featured = set(featured_character_ids)
    cards = session.exec(select(Card).where(Card.character_id.in_(character_ids))
                         .order_by(Card.character_id, Card.id))
    pool: dict[str, list] = {rarity: [] for rarity in RARITIES}
    for card in cards:
        is_featured = card.character_id in featured and card.rarity != "N"
        pool[card.rarity].append({"id": str(card.id), "featured": is_featured})
    frozen = Pool.from_mapping(pool)
    banner = Banner(name=name, featured_character_ids=sorted(featured), starts_at=starts_at,
                    ends_at=ends_at, rules=asdict(rules), pool=frozen.to_mapping(),
                    pool_digest=frozen.digest(), pull_cost=pull_cost)
    banner_rules(banner)  # validates
    session.add(banner)
    session.flush()
    return banner


# --- helpers ----------------------------------------------------------------------------------

@contextmanager
def user_transaction(session: Session, user_id: int):
    """One write transaction holding the user's wallet lock; commits at the end, rolls back on
    any error. PostgreSQL: row lock (SELECT ... FOR UPDATE). SQLite: BEGIN IMMEDIATE takes the
    database's single write lock before anything is read."""
    try:
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            if not connection.connection.dbapi_connection.in_transaction:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        _insert_ignore(session, Wallet, {"user_id": user_id, "created_at": utcnow()},
                       ["user_id"])
        session.exec(select(Wallet).where(Wallet.user_id == user_id).with_for_update()).one()
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _post(session: Session, user_id: int, kind: str, key: str, details: dict,
          movements: list[tuple[str, str, int]], now: datetime | None = None) -> LedgerTransaction:
    """Record a transaction: for each (currency, system account, amount to the user) one entry
    on the user's wallet and the opposite one on the system account. Wallets stay >= 0."""
    tx = LedgerTransaction(user_id=user_id, kind=kind, idempotency_key=key, details=details,
                           created_at=now or utcnow())
    session.add(tx)
    session.flush()
    for currency, system, amount in movements:
        if amount == 0:
            continue
        wallet = _account(session, _wallet_code(user_id, currency), user_id, currency)
        other = _account(session, f"system:{system}:{currency}", None, currency)
        session.add(LedgerEntry(transaction_id=tx.id, account_id=wallet.id, amount=amount))
        session.add(LedgerEntry(transaction_id=tx.id, account_id=other.id, amount=-amount))
    session.flush()
    for currency, _system, amount in movements:
        if amount < 0 and balance(session, user_id, currency) < 0:
            raise InsufficientFunds("insufficient_funds", f"Not enough {currency}.")
    return tx


def _account(session: Session, code: str, user_id: int | None, currency: str) -> LedgerAccount:
    query = select(LedgerAccount).where(LedgerAccount.code == code)
    account = session.exec(query).first()
    if account is None:
        _insert_ignore(session, LedgerAccount, {"code": code, "user_id": user_id,
                                                "currency": currency, "created_at": utcnow()},
                       ["code"])
        account = session.exec(query).one()
    return account


def _insert_ignore(session: Session, model, values: dict, conflict_columns: list[str]) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values)
                    .on_conflict_do_nothing(index_elements=conflict_columns))


def _wallet_code(user_id: int, currency: str) -> str:
    return f"user:{user_id}:{currency}"


def _transaction_by_key(session: Session, user_id: int, key: str) -> LedgerTransaction | None:
    return session.exec(select(LedgerTransaction).where(LedgerTransaction.user_id == user_id,
                                                        LedgerTransaction.idempotency_key == key)
                        .execution_options(populate_existing=True)).first()


def _same_request(existing: LedgerTransaction, kind: str, request: dict,
                  field: str | None = None) -> None:
    recorded = existing.details.get(field) if field else {k: existing.details.get(k) for k in request}
    if existing.kind != kind or recorded != request:
        raise Conflict("idempotency_key_reused",
                       "This idempotency_key was already used for a different request; "
                       "send a new key for a new request.")


def _earned_today(session: Session, user_id: int, reason: str, now: datetime) -> int:
    start = datetime.combine(now.astimezone(timezone.utc).date(), datetime.min.time(), timezone.utc)
    return int(session.exec(select(sa.func.count()).select_from(LedgerTransaction).where(
        LedgerTransaction.user_id == user_id, LedgerTransaction.kind == "play_reward",
        LedgerTransaction.idempotency_key.like(f"earn:{reason}:%"),
        LedgerTransaction.created_at >= start,
        LedgerTransaction.created_at < start + timedelta(days=1))).one())


def _outcome_of(session: Session, tx: LedgerTransaction, user_id: int, banner_id: int) -> DrawOutcome:
    pulls = list(session.exec(select(Pull).where(Pull.transaction_id == tx.id).order_by(Pull.nonce)))
    pity = session.get(Pity, (user_id, banner_id)) or Pity(user_id=user_id, banner_id=banner_id)
    return DrawOutcome(tx, pulls, pity, replayed=True)


def _banner(session: Session, banner_id: int) -> Banner:
    banner = session.get(Banner, banner_id) if _valid_id(banner_id) else None
    if banner is None:
        raise not_found("banner")
    return banner


def _check_open(banner: Banner, now: datetime) -> None:
    status = banner_status(banner, now)
    if status == "ended":
        raise Conflict("banner_ended", f"The banner '{banner.name}' ended at "
                                       f"{banner.ends_at.isoformat()}; draw on an open banner.")
    if status == "upcoming":
        raise Conflict("banner_not_started", f"The banner '{banner.name}' opens at "
                                             f"{banner.starts_at.isoformat()}.")


def _active_seed_query(user_id: int):
    return (select(ServerSeed).where(ServerSeed.user_id == user_id,
                                     ServerSeed.revealed_at.is_(None))
            .order_by(ServerSeed.id.desc()).execution_options(populate_existing=True))


def _active_seed(session: Session, user_id: int) -> ServerSeed:
    """Call under the user's lock."""
    return session.exec(_active_seed_query(user_id)).first() or _new_seed(session, user_id)


def _new_seed(session: Session, user_id: int, client_seed: str | None = None) -> ServerSeed:
    server_seed = new_server_seed()
    seed = ServerSeed(user_id=user_id, seed=server_seed, seed_hash=seed_hash(server_seed),
                      client_seed=client_seed or secrets.token_hex(8))
    session.add(seed)
    session.flush()
    return seed


def _pity_row(session: Session, user_id: int, banner_id: int) -> Pity:
    row = session.exec(select(Pity).where(Pity.user_id == user_id, Pity.banner_id == banner_id)
                       .execution_options(populate_existing=True)).first()
    if row is None:
        row = Pity(user_id=user_id, banner_id=banner_id)
        session.add(row)
    return row


def _pity_state(row: Pity) -> PityState:
    return PityState(row.pulls_since_ssr, row.pulls_since_sr, row.lost_5050)


def _collection_rows(session: Session, user_id: int, card_ids: list[int]) -> dict[int, CollectionItem]:
    query = (select(CollectionItem).where(CollectionItem.user_id == user_id,
                                          CollectionItem.card_id.in_(set(card_ids)))
             .execution_options(populate_existing=True))
    return {item.card_id: item for item in session.exec(query)}


def _add_to_collection(session: Session, user_id: int, card_id: int,
                       item: CollectionItem | None, now: datetime) -> CollectionItem:
    if item is None:
        item = CollectionItem(user_id=user_id, card_id=card_id, count=0, first_obtained_at=now)
        session.add(item)
    item.count += 1
    item.updated_at = now
    return item


def _cards_by_id(session: Session, ids) -> dict[int, Card]:
    return {card.id: card for card in session.exec(select(Card).where(Card.id.in_(set(ids))))}


def _valid_count(count) -> int:
    if type(count) is not int or count not in PULL_COUNTS:
        raise KindredError("invalid_count", f"'count' must be 1 or 10 (a whole number); got "
                                            f"{str(count)[:20]!r}.")
    return count


def _valid_key(key) -> str:
    if (not isinstance(key, str) or not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY
            or not key.isprintable()):
        raise KindredError("invalid_idempotency_key",
                           f"'idempotency_key' must be a printable string of 1-"
                           f"{MAX_IDEMPOTENCY_KEY} characters, new for each request "
                           "(a UUID is ideal).")
    return key


def _valid_client_seed(client_seed) -> str:
    if (not isinstance(client_seed, str) or not client_seed
            or len(client_seed) > MAX_CLIENT_SEED_LENGTH or ":" in client_seed
            or not client_seed.isprintable()):
        raise KindredError("invalid_client_seed",
                           f"'client_seed' must be 1-{MAX_CLIENT_SEED_LENGTH} printable "
                           "characters without ':'.")
    return client_seed


def _valid_id(value) -> bool:
    return type(value) is int and 0 < value < 2**31
