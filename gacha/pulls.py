"""Draws on top of the pure core: paying for and drawing cards, the provably fair seeds (current,
rotate, verify), pity, and the pull payloads. A draw is one `ledger.idempotent` write and
announces CardsDrawn once it has committed. No Flask here."""
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlmodel import Session, select

from core import events
from core.db import utcnow
from core.errors import Conflict, KindredError, not_found
from core.event_types import CardsDrawn
from gacha import ledger
from gacha.banners import banner_pool, banner_rules, check_open, get_banner
from gacha.collection import add_to_collection, card_payload, cards_by_id, collection_items
from gacha.draw import PityState, draw_many, draw_one
from gacha.fairness import MAX_CLIENT_SEED_LENGTH, new_server_seed, seed_hash, seed_matches_hash
from gacha.ledger import InsufficientFunds
from gacha.models import Banner, Card, LedgerTransaction, Pity, Pull, ServerSeed

PAYMENT_CURRENCIES = ("gems", "premium")
PULL_COUNTS = (1, 10)
SHARDS_FOR_DUPLICATE = {"N": 1, "R": 5, "SR": 20, "SSR": 100}

VERIFY_FORMULA = ("roll = int(HMAC-SHA256(key=server_seed, msg=f'{client_seed}:{nonce}'"
                  "[':{sub_index}']).hexdigest()[:13], 16) / 2**52; sub_index 0 picks the "
                  "rarity, 1 the featured 50/50, 2 the card (see gacha/draw.py)")


@dataclass
class DrawOutcome:
    transaction: LedgerTransaction
    pulls: list[Pull]
    pity: Pity
    replayed: bool = False


def draw(session: Session, user_id: int, banner_id: int, count: int, idempotency_key: str,
         client_seed: str | None = None, currency: str = "gems",
         now: datetime | None = None) -> DrawOutcome:
    """Pay for and draw `count` (1 or 10) cards on a banner as one transaction.

    The same idempotency key with the same request returns the original outcome (replayed=True)
    and changes nothing; with a different request it is a 409."""
    count = _valid_count(count)
    key = f"draw:{ledger.valid_key(idempotency_key)}"
    if client_seed is not None:
        client_seed = _valid_client_seed(client_seed)
    if currency not in PAYMENT_CURRENCIES:
        raise KindredError("invalid_currency",
                           f"Draws are paid in {' or '.join(PAYMENT_CURRENCIES)}.")
    now = now or utcnow()
    request = {"banner_id": banner_id, "count": count, "client_seed": client_seed,
               "currency": currency}
    with ledger.idempotent(session, user_id, "draw", key, request,
                           request_field="request") as write:
        if write.replayed:
            return _outcome_of(session, write.transaction, user_id, banner_id)
        banner = get_banner(session, banner_id)
        check_open(banner, now)
        cost = banner.pull_cost * count
        have = ledger.balance(session, user_id, currency)
        if have < cost:
            raise InsufficientFunds("insufficient_funds",
                                    f"A {count}-pull on this banner costs {cost} {currency}; "
                                    f"you have {have}.")
        seed = _active_seed(session, user_id)
        pity = _pity_row(session, user_id, banner.id)
        used_client_seed = client_seed or seed.client_seed
        first_nonce = seed.next_nonce
        results, state = draw_many(banner_rules(banner), banner_pool(banner), _pity_state(pity),
                                   seed.seed, used_client_seed, first_nonce, count)
        seed.next_nonce = first_nonce + count
        owned = collection_items(session, user_id, [int(r.card_id) for r in results])
        granted_shards, pull_rows = 0, []
        for result in results:
            card_id = int(result.card_id)
            item = owned.get(card_id)
            duplicate = item is not None and item.count > 0
            shards = SHARDS_FOR_DUPLICATE[result.rarity] if duplicate else 0
            granted_shards += shards
            owned[card_id] = add_to_collection(session, user_id, card_id, item, now)
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
        tx = write.post(details, [(currency, "draw_sink", -cost),
                                  ("shards", "shard_mint", granted_shards)], now=now)
        for row in pull_rows:
            row.transaction_id = tx.id
            session.add(row)
        pity.pulls_since_ssr, pity.pulls_since_sr = state.pulls_since_ssr, state.pulls_since_sr
        pity.lost_5050, pity.total_pulls = state.lost_5050, pity.total_pulls + count
        pity.updated_at = now
        session.flush()
        events.record(session, CardsDrawn(user_id=user_id, banner_id=banner.id,
                                          pull_ids=tuple(row.id for row in pull_rows),
                                          rarities=tuple(row.rarity for row in pull_rows),
                                          currency=currency, cost=cost))
    return DrawOutcome(tx, pull_rows, pity)


def pity_of(session: Session, user_id: int, banner_id: int) -> PityState:
    row = session.get(Pity, (user_id, banner_id))
    return _pity_state(row) if row else PityState()


def pity_payload(state: PityState, banner: Banner) -> dict:
    rules = banner_rules(banner)
    return {"banner_id": banner.id, "pulls_since_ssr": state.pulls_since_ssr,
            "pulls_since_sr": state.pulls_since_sr, "featured_guaranteed": state.lost_5050,
            "soft_pity_start": rules.soft_pity_start, "hard_pity": rules.hard_pity,
            "pulls_to_hard_pity": rules.hard_pity - state.pulls_since_ssr,
            "next_ssr_chance": rules.ssr_probability(state.pulls_since_ssr)}


def pull_payload(pull: Pull, card: Card) -> dict:
    return {"id": pull.id, "card": card_payload(card), "rarity": pull.rarity,
            "featured": pull.featured, "duplicate": pull.duplicate, "shards": pull.shards,
            "pity_before": pull.pity_before, "nonce": pull.nonce,
            "server_seed_id": pull.server_seed_id, "client_seed": pull.client_seed,
            "created_at": pull.created_at.isoformat()}


def pulls_payload(session: Session, pulls: list[Pull]) -> list[dict]:
    cards = cards_by_id(session, [p.card_id for p in pulls])
    return [pull_payload(p, cards[p.card_id]) for p in pulls]


# --- seeds and verification -----------------------------------------------------------------

def current_seed(session: Session, user_id: int) -> ServerSeed:
    """The user's active server seed (its hash is the commitment); made on first use."""
    seed = session.exec(_active_seed_query(user_id)).first()
    if seed is not None:
        return seed
    with ledger.user_transaction(session, user_id):
        seed = _active_seed(session, user_id)
    return seed


def rotate_seed(session: Session, user_id: int,
                client_seed: str | None = None) -> tuple[ServerSeed, ServerSeed]:
    """Reveal the active seed and commit to a new one; returns (revealed, new)."""
    if client_seed is not None:
        client_seed = _valid_client_seed(client_seed)
    with ledger.user_transaction(session, user_id):
        old = _active_seed(session, user_id)
        old.revealed_at = utcnow()
        session.flush()
        new = _new_seed(session, user_id, client_seed)
    return old, new


def verify_pull(session: Session, user_id: int, pull_id: int) -> dict:
    """Recompute a pull from its revealed server seed with the pure core."""
    pull = session.get(Pull, pull_id) if ledger.valid_id(pull_id) else None
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


# --- helpers ----------------------------------------------------------------------------------

def _outcome_of(session: Session, tx: LedgerTransaction, user_id: int, banner_id: int) -> DrawOutcome:
    pulls = list(session.exec(select(Pull).where(Pull.transaction_id == tx.id).order_by(Pull.nonce)))
    pity = session.get(Pity, (user_id, banner_id)) or Pity(user_id=user_id, banner_id=banner_id)
    return DrawOutcome(tx, pulls, pity, replayed=True)


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


def _valid_count(count) -> int:
    if type(count) is not int or count not in PULL_COUNTS:
        raise KindredError("invalid_count", f"'count' must be 1 or 10 (a whole number); got "
                                            f"{str(count)[:20]!r}.")
    return count


def _valid_client_seed(client_seed) -> str:
    if (not isinstance(client_seed, str) or not client_seed
            or len(client_seed) > MAX_CLIENT_SEED_LENGTH or ":" in client_seed
            or not client_seed.isprintable()):
        raise KindredError("invalid_client_seed",
                           f"'client_seed' must be 1-{MAX_CLIENT_SEED_LENGTH} printable "
                           "characters without ':'.")
    return client_seed
