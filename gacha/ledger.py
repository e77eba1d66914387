"""The gacha ledger: accounts, balances, balanced postings, history, check-in, admin grants and
gems earned by playing. No Flask here.

Every money-like write for a user (draws, shard shop, gifts, claims, check-in, grants, earnings)
is one `idempotent` block: it locks the user's wallet row (`SELECT ... FOR UPDATE` on PostgreSQL;
`BEGIN IMMEDIATE`, the single SQLite writer lock, on SQLite), hands back what the idempotency key
already did or lets the caller check, change and post, commits, and on any error rolls back.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from core.db import utcnow
from core.errors import Conflict, KindredError, not_found
from core.users import User
from gacha.models import CURRENCIES, LedgerAccount, LedgerEntry, LedgerTransaction, Wallet


CHECKIN_REWARD = 100           # gems per UTC day
GRANTABLE_CURRENCIES = ("gems", "premium")
MAX_IDEMPOTENCY_KEY = 100
MAX_GRANT = 10**9
# Why gems were earned by playing; relationships posts them (see relationships/rewards.py).
EARN_REASONS = ("first_chat_of_day", "chat_streak", "story_chapter")
LEDGER_PAGE = 50
MAX_LEDGER_PAGE = 200

Movement = tuple[str, str, int]  # (currency, system account, amount to the user's wallet)


class InsufficientFunds(KindredError):
    status = 402


@dataclass
class Earning:
    transaction: LedgerTransaction | None  # None: nothing paid (amount 0 or daily limit reached)
    granted: bool                          # paid by this call (False: paid before, or not at all)
    amount: int


@dataclass
class CheckinOutcome:
    transaction: LedgerTransaction
    granted: bool
    amount: int
    day: str


@dataclass
class Posting:
    """What `idempotent` yields. `replayed`: the key already made `transaction`, so the caller
    returns that and changes nothing. Otherwise `transaction` is None until the caller `post`s."""
    session: Session = field(repr=False)
    user_id: int
    kind: str
    key: str
    transaction: LedgerTransaction | None
    replayed: bool

    def post(self, details: dict, movements: Sequence[Movement] = (),
             now: datetime | None = None) -> LedgerTransaction:
        """Record this key's transaction: for each movement one entry on the user's wallet and
        the opposite one on the system account. A wallet going below 0 is InsufficientFunds."""
        if self.transaction is not None:
            raise RuntimeError(f"idempotency key {self.key!r} already has its transaction")
        self.transaction = _post(self.session, self.user_id, self.kind, self.key, details,
                                 list(movements), now)
        return self.transaction

    def credit(self, user_id: int, currency: str, system: str, amount: int) -> None:
        """Add to the posted transaction one more balanced pair: `amount` to another user's
        wallet from the system account (paid content pays its creator this way). Only a
        credit (amount > 0): taking from another user needs that user's lock (`lock_wallet`)."""
        if self.transaction is None:
            raise RuntimeError("post the transaction before crediting another wallet")
        if type(amount) is not int or amount <= 0:
            raise ValueError("a credit to another wallet is a positive whole amount")
        wallet = _account(self.session, _wallet_code(user_id, currency), user_id, currency)
        other = _account(self.session, f"system:{system}:{currency}", None, currency)
        self.session.add(LedgerEntry(transaction_id=self.transaction.id, account_id=wallet.id,
                                     amount=amount))
        self.session.add(LedgerEntry(transaction_id=self.transaction.id, account_id=other.id,
                                     amount=-amount))
        self.session.flush()


# --- the one idempotent write -----------------------------------------------------------------

@contextmanager
def idempotent(session: Session, user_id: int, kind: str, key: str,
               request: dict | None = None, request_field: str | None = None
               ) -> Iterator[Posting]:
    """One money-like write of `kind`, done at most once per (user, key), under the user's lock.

    Yields a Posting: replayed, with the transaction this key already made; or fresh, for the
    caller to check, change what it changes and `post` (or post nothing, e.g. nothing earned).
    With `request`, a key already used for another kind or another request is a 409; the
    request is compared with the recorded details' top-level keys, or with the one detail
    `request_field` when it was recorded there. Commits at the end, rolls back on any error."""
    with user_transaction(session, user_id):
        existing = transaction_by_key(session, user_id, key)
        if existing is not None and request is not None:
            _same_request(existing, kind, request, request_field)
        yield Posting(session, user_id, kind, key, existing, replayed=existing is not None)


@contextmanager
def user_transaction(session: Session, user_id: int):
    """One write transaction holding the user's wallet lock; commits at the end, rolls back on
    any error. PostgreSQL: row lock (SELECT ... FOR UPDATE). SQLite: BEGIN IMMEDIATE takes the
    database's single write lock before anything is read. `idempotent` writes take it."""
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


def lock_wallet(session: Session, user_id: int) -> None:
    """Inside a `user_transaction` of someone else: lock this user's wallet row too (a write
    that also changes what they hold, e.g. a refund taking a card back)."""
    _insert_ignore(session, Wallet, {"user_id": user_id, "created_at": utcnow()}, ["user_id"])
    session.exec(select(Wallet).where(Wallet.user_id == user_id).with_for_update()).one()


# --- balances and history ---------------------------------------------------------------------

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


def ledger_history(session: Session, user_id: int, currency: str | None = None,
                   limit: int = LEDGER_PAGE, before_id: int | None = None) -> dict:
    """The user's ledger entries, newest first, each with the balance of its currency right
    after it (a running sum over the append-only ledger). Page with `before_id`."""
    if currency is not None and currency not in CURRENCIES:
        raise KindredError("invalid_currency", f"'currency' must be one of {', '.join(CURRENCIES)}.")
    if type(limit) is not int or not 1 <= limit <= MAX_LEDGER_PAGE:
        raise KindredError("invalid_limit", f"'limit' must be a whole number from 1 to {MAX_LEDGER_PAGE}.")
    if before_id is not None and not valid_id(before_id):
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
    if tx.kind in ("paid_purchase", "paid_refund"):
        what = f"{details.get('kind', 'item')} '{details.get('title', '')}'"
        return f"Bought {what}" if tx.kind == "paid_purchase" else f"Refund of {what}"
    return tx.kind.replace("_", " ")


def transaction_by_key(session: Session, user_id: int, key: str) -> LedgerTransaction | None:
    """The transaction the user's idempotency key (with its kind's prefix) made, if any."""
    return session.exec(select(LedgerTransaction).where(LedgerTransaction.user_id == user_id,
                                                        LedgerTransaction.idempotency_key == key)
                        .execution_options(populate_existing=True)).first()


# --- gems and premium coming in -----------------------------------------------------------------

def daily_checkin(session: Session, user_id: int, now: datetime | None = None) -> CheckinOutcome:
    """Grant CHECKIN_REWARD gems once per UTC day; later calls that day return the same grant."""
    day = (now or utcnow()).astimezone(timezone.utc).date().isoformat()
    with idempotent(session, user_id, "checkin", f"checkin:{day}") as write:
        if not write.replayed:
            write.post({"day": day}, [("gems", "checkin_rewards", CHECKIN_REWARD)])
    return CheckinOutcome(write.transaction, not write.replayed, CHECKIN_REWARD, day)


def checked_in_today(session: Session, user_id: int, now: datetime | None = None) -> bool:
    day = (now or utcnow()).astimezone(timezone.utc).date().isoformat()
    return transaction_by_key(session, user_id, f"checkin:{day}") is not None


def admin_grant(session: Session, user_id: int, currency: str, amount: int,
                idempotency_key: str, reason: str = "") -> LedgerTransaction:
    """An admin gives gems or premium (the only way premium enters the economy)."""
    if currency not in GRANTABLE_CURRENCIES:
        raise KindredError("invalid_currency", f"Grants are in {', '.join(GRANTABLE_CURRENCIES)}.")
    if type(amount) is not int or not 0 < amount <= MAX_GRANT:
        raise KindredError("invalid_amount", f"Grant amounts are whole numbers from 1 to {MAX_GRANT}.")
    key = f"admin:{valid_key(idempotency_key)}"
    details = {"currency": currency, "amount": amount, "reason": str(reason)[:200]}
    with idempotent(session, user_id, "admin_grant", key, details) as write:
        if not write.replayed:
            write.post(details, [(currency, "admin_grants", amount)])
    return write.transaction


def earn_gems(session: Session, user_id: int, reason: str, event_key: str, amount: int,
              details: dict | None = None, daily_limit: int | None = None,
              now: datetime | None = None) -> Earning:
    """Gems earned by playing (first chat of the day, a chat streak, a finished story chapter),
    posted at most once per (user, reason, event_key). The key comes from the event that earned
    them (relationships passes its affinity event's ref), so a replayed or retried event never
    pays twice. `daily_limit` caps how many payments for `reason` a user gets per UTC day.
    gacha/rewards.py calls this for affinity events; it is not an HTTP endpoint."""
    if reason not in EARN_REASONS:
        raise KindredError("invalid_reason", f"Gems are earned for {', '.join(EARN_REASONS)}.")
    if type(amount) is not int or not 0 <= amount <= MAX_GRANT:
        raise KindredError("invalid_amount", f"Earned amounts are whole numbers from 0 to {MAX_GRANT}.")
    key = f"earn:{reason}:{valid_key(event_key)}"
    now = now or utcnow()
    with idempotent(session, user_id, "play_reward", key) as write:
        if write.replayed:
            return Earning(write.transaction, False, write.transaction.details.get("amount", 0))
        if amount == 0:
            return Earning(None, False, 0)
        if daily_limit is not None and _earned_today(session, user_id, reason, now) >= daily_limit:
            return Earning(None, False, 0)
        write.post({"reason": reason, "amount": amount, **(details or {})},
                   [("gems", "play_rewards", amount)], now=now)
    return Earning(write.transaction, True, amount)


# --- users, admins and the checks every gacha module shares ------------------------------------

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


def valid_key(key) -> str:
    """A client's idempotency key, checked (the caller adds its kind's prefix)."""
    if (not isinstance(key, str) or not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY
            or not key.isprintable()):
        raise KindredError("invalid_idempotency_key",
                           f"'idempotency_key' must be a printable string of 1-"
                           f"{MAX_IDEMPOTENCY_KEY} characters, new for each request "
                           "(a UUID is ideal).")
    return key


def valid_id(value) -> bool:
    return type(value) is int and 0 < value < 2**31


# --- helpers ----------------------------------------------------------------------------------

def _post(session: Session, user_id: int, kind: str, key: str, details: dict,
          movements: list[Movement], now: datetime | None = None) -> LedgerTransaction:
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


def _same_request(existing: LedgerTransaction, kind: str, request: dict,
                  request_field: str | None) -> None:
    details = existing.details
    recorded = details.get(request_field) if request_field else {k: details.get(k) for k in request}
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
