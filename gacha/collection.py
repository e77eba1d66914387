"""The cards a user holds and how they move outside draws: the collection, the shard shop, gifts
to a card's character and level claims, and the card lookups and payloads the rest of the gacha
and relationships use. Every move is one `ledger.idempotent` write. No Flask here."""
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.db import utcnow
from core.errors import Conflict, KindredError, not_found
from characters.models import Character
from gacha import ledger
from gacha.ledger import InsufficientFunds
from gacha.models import Card, CollectionItem, LedgerTransaction

SHARD_PRICE = {"N": 10, "R": 40, "SR": 150, "SSR": 600}


@dataclass
class CardMove:
    """A card that left (gift) or entered (claim) a collection outside draws and the shop."""
    transaction: LedgerTransaction
    card: Card
    replayed: bool = False


def collection(session: Session, user_id: int) -> list[dict]:
    """Every card with how many copies the user has obtained (0 = not owned yet) and its price."""
    owned = {item.card_id: item.count for item in
             session.exec(select(CollectionItem).where(CollectionItem.user_id == user_id))}
    rows = session.exec(select(Card, Character).join(Character, Character.id == Card.character_id)
                        .order_by(Card.character_id, Card.id))
    return [{**card_payload(card, character), "count": owned.get(card.id, 0),
             "shard_price": SHARD_PRICE[card.rarity]} for card, character in rows]


def exchange_shards(session: Session, user_id: int, card_id: int,
                    idempotency_key: str) -> LedgerTransaction:
    """Buy any card with shards at SHARD_PRICE[rarity]: every card can be had without luck."""
    key = f"exchange:{ledger.valid_key(idempotency_key)}"
    card = card_by_id(session, card_id)
    price = SHARD_PRICE[card.rarity]
    details = {"card_id": card.id, "price": price}
    with ledger.idempotent(session, user_id, "shard_exchange", key, details) as write:
        if write.replayed:
            return write.transaction
        have = ledger.balance(session, user_id, "shards")
        if have < price:
            raise InsufficientFunds("insufficient_funds",
                                    f"This {card.rarity} card costs {price} shards; you have {have}.")
        now = utcnow()
        item = collection_items(session, user_id, [card.id]).get(card.id)
        add_to_collection(session, user_id, card.id, item, now)
        return write.post(details, [("shards", "shard_shop", -price)], now=now)


def give_card(session: Session, user_id: int, card_id, character_id: int, idempotency_key: str,
              now: datetime | None = None) -> CardMove:
    """Give one owned copy of a card to its own character (relationships turns it into affinity):
    the copy leaves the collection and a "gift" transaction records it, together or not at all.
    Unknown card: 404; another character's card: 400; no copy owned: 409. The same key again
    returns the first gift (replayed=True) and changes nothing."""
    key = _gift_key(idempotency_key)
    card = card_of_character(session, card_id, character_id)
    details = {"card_id": card.id, "character_id": card.character_id}
    now = now or utcnow()
    with ledger.idempotent(session, user_id, "gift", key, details) as write:
        if write.replayed:
            return CardMove(write.transaction, card, replayed=True)
        item = collection_items(session, user_id, [card.id]).get(card.id)
        if item is None or item.count < 1:
            raise Conflict("card_not_owned", f"You have no copy of '{card.title}' to give; draw "
                                             "it or buy it with shards first.")
        item.count -= 1
        item.updated_at = now
        write.post(details, now=now)
    return CardMove(write.transaction, card)


def gift_made(session: Session, user_id: int, idempotency_key: str) -> LedgerTransaction | None:
    """The gift already made with this key, if any (to tell a retry from a new gift)."""
    return ledger.transaction_by_key(session, user_id, _gift_key(idempotency_key))


def claim_card(session: Session, user_id: int, card_id, reason: str,
               now: datetime | None = None) -> CardMove:
    """One free copy of a card, at most once per user and card, ever (relationships grants it
    when a level unlocks the card). A second claim returns the first (replayed=True)."""
    card = card_by_id(session, card_id)
    now = now or utcnow()
    with ledger.idempotent(session, user_id, "card_claim", _claim_key(card.id)) as write:
        if write.replayed:
            return CardMove(write.transaction, card, replayed=True)
        item = collection_items(session, user_id, [card.id]).get(card.id)
        add_to_collection(session, user_id, card.id, item, now)
        write.post({"card_id": card.id, "reason": str(reason)[:200]}, now=now)
    return CardMove(write.transaction, card)


def claimed_card_ids(session: Session, user_id: int, card_ids) -> set[int]:
    keys = {_claim_key(card_id): card_id for card_id in card_ids}
    if not keys:
        return set()
    found = session.exec(select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.user_id == user_id, LedgerTransaction.idempotency_key.in_(keys)))
    return {keys[key] for key in found}


def owned_count(session: Session, user_id: int, card_id: int) -> int:
    item = session.get(CollectionItem, (user_id, card_id))
    return item.count if item else 0


# --- card lookups and payloads ------------------------------------------------------------------

def card_by_id(session: Session, card_id) -> Card:
    """The card, or a 404 for an unknown (or malformed) id."""
    card = session.get(Card, card_id) if ledger.valid_id(card_id) else None
    if card is None:
        raise not_found("card")
    return card


def card_of_character(session: Session, card_id, character_id: int) -> Card:
    card = card_by_id(session, card_id)
    if card.character_id != character_id:
        raise KindredError("wrong_character", f"'{card.title}' is a card of character "
                                              f"{card.character_id}; a card can only be given "
                                              "to its own character.")
    return card


def cards_of_character(session: Session, character_id: int) -> list[Card]:
    return list(session.exec(select(Card).where(Card.character_id == character_id)
                             .order_by(Card.id)))


def cards_by_id(session: Session, ids) -> dict[int, Card]:
    return {card.id: card for card in session.exec(select(Card).where(Card.id.in_(set(ids))))}


def card_payload(card: Card, character: Character | None = None) -> dict:
    payload = {"id": card.id, "character_id": card.character_id, "rarity": card.rarity,
               "title": card.title, "art_url": f"/gacha/cards/{card.id}.png"}
    if character is not None:
        payload["character_name"] = character.name
    return payload


# --- collection rows, for the writes here and the draw -------------------------------------------

def collection_items(session: Session, user_id: int,
                     card_ids: list[int]) -> dict[int, CollectionItem]:
    """The user's collection rows of these cards, read fresh (call under the user's lock)."""
    query = (select(CollectionItem).where(CollectionItem.user_id == user_id,
                                          CollectionItem.card_id.in_(set(card_ids)))
             .execution_options(populate_existing=True))
    return {item.card_id: item for item in session.exec(query)}


def add_to_collection(session: Session, user_id: int, card_id: int,
                      item: CollectionItem | None, now: datetime) -> CollectionItem:
    """One more copy of the card (`item`: its row from `collection_items`, None if there is none)."""
    if item is None:
        item = CollectionItem(user_id=user_id, card_id=card_id, count=0, first_obtained_at=now)
        session.add(item)
    item.count += 1
    item.updated_at = now
    return item


def _gift_key(idempotency_key) -> str:
    return f"gift:{ledger.valid_key(idempotency_key)}"


def _claim_key(card_id: int) -> str:
    return f"claim:{card_id}"
