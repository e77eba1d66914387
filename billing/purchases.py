"""Buying paid content and refunding it: each one ledger transaction in `gacha.ledger.idempotent`
(docs/billing.md, "Paid content"). No Flask here.

    buy(session, buyer_id, kind, item_id, idempotency_key, fee_percent)   -> Bought
    refund(session, moderator_id, purchase_id, reason)                    -> Purchase
    purchases_of(session, user_id)                                       -> [payload]

A purchase moves the price from the buyer's gems to the system account `paid_content`, and from
there the price minus the operator's fee to the creator's gems, in one balanced transaction
under the buyer's wallet lock. A card bought goes into the buyer's collection in the same
transaction. A refund reverses it under the creator's lock (and the buyer's): the buyer gets
the whole price back; the creator gives back what they were paid, or what they still have if
they spent it, and the operator's `paid_content` account covers the rest (it may go negative;
no user's wallet ever does)."""
from dataclasses import dataclass

from sqlmodel import Session, select

from billing.models import Purchase
from billing.paid import active_purchase, find_item, price_of, seeable_by
from core import events
from core.db import is_id, utcnow
from core.errors import Conflict, KindredError, not_found
from core.event_types import ContentPurchased, PurchaseRefunded
from core.text import check_text
from gacha import ledger
from gacha.collection import add_to_collection, collection_items
from gacha.ledger import InsufficientFunds
from moderation.models import ModerationAction

SYSTEM_ACCOUNT = "paid_content"  # the operator's side: fees in, refunds' shortfalls out
MAX_REASON = 500


class OwnItem(KindredError):
    status = 403


@dataclass
class Bought:
    purchase: Purchase
    replayed: bool  # the key already bought it: nothing was charged again


def buy(session: Session, buyer_id: int, kind, item_id, idempotency_key,
        fee_percent: int) -> Bought:
    """Buy the item at its current price, once per idempotency key and once per item (until a
    refund). Refusals change nothing: 400 bad kind or key, 404 unknown or not visible, 403 own
    item, 409 not for sale / already bought / already owned, 402 too few gems."""
    key = f"paid:{ledger.valid_key(idempotency_key)}"
    request = {"kind": kind, "id": item_id}
    with ledger.idempotent(session, buyer_id, "paid_purchase", key, request,
                           request_field="request") as write:
        if write.replayed:
            return Bought(_purchase_of(session, write.transaction.id), replayed=True)
        item = find_item(session, kind, item_id)
        if not seeable_by(session, item.character, buyer_id):
            raise not_found(kind)
        creator_id = item.character.creator_id
        if creator_id == buyer_id:
            raise OwnItem("own_item", f"{item.title!r} is your own {kind}; you have it already.")
        price = price_of(session, item.kind, item.id)
        if price is None:
            raise Conflict("not_for_sale", f"{item.title!r} has no price: " + (
                "the story is free to play." if kind == "story" else
                "this card is not sold (draw it or buy it with shards)."))
        if active_purchase(session, buyer_id, item.kind, item.id) is not None:
            raise Conflict("already_purchased", f"You already bought {item.title!r}; it was not "
                                                "charged again (GET /api/me/purchases).")
        now = utcnow()
        collected = None
        if kind == "card":
            collected = collection_items(session, buyer_id, [item.id]).get(item.id)
            if collected is not None and collected.count > 0:
                raise Conflict("already_owned", f"You already have {item.title!r} in your "
                                                "collection; it was not charged.")
        have = ledger.balance(session, buyer_id, "gems")
        if have < price.gems:
            raise InsufficientFunds("insufficient_funds", f"{item.title!r} costs {price.gems} "
                                                          f"gems; you have {have}.")
        creator_gems = price.gems - price.gems * fee_percent // 100 if creator_id else 0
        details = {"request": request, "kind": item.kind, "item_id": item.id,
                   "title": item.title, "gems": price.gems, "creator_id": creator_id,
                   "creator_gems": creator_gems, "character_id": item.character.id}
        tx = write.post(details, [("gems", SYSTEM_ACCOUNT, -price.gems)], now=now)
        if creator_gems:
            write.credit(creator_id, "gems", SYSTEM_ACCOUNT, creator_gems)
        if kind == "card":
            add_to_collection(session, buyer_id, item.id, collected, now)
        purchase = Purchase(buyer_id=buyer_id, kind=item.kind, item_id=item.id,
                            character_id=item.character.id, creator_id=creator_id,
                            title=item.title[:200], gems=price.gems, creator_gems=creator_gems,
                            transaction_id=tx.id, created_at=now)
        session.add(purchase)
        session.flush()
        events.record(session, ContentPurchased(purchase.id, buyer_id, creator_id,
                                                item.character.id, item.kind, item.id,
                                                price.gems, creator_gems))
    session.refresh(purchase)
    return Bought(purchase, replayed=False)


def refund(session: Session, moderator_id: int, purchase_id, reason) -> Purchase:
    """Refund the purchase (moderators): one reversing transaction, the access taken back (a
    card leaves the collection, a story locks again), a `refund` line in the moderation audit
    log. 400 without a reason, 404 unknown purchase, 409 already refunded; nothing changes."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise KindredError("invalid_reason", f"'reason' must be a non-empty text of at most "
                                             f"{MAX_REASON} characters.")
    check_text(reason, "'reason'")
    purchase = session.get(Purchase, purchase_id) if is_id(purchase_id) else None
    if purchase is None:
        raise not_found("purchase")
    # The creator's lock (their gems may be taken back), then the buyer's (gems and card back).
    holder = purchase.creator_id or purchase.buyer_id
    with ledger.idempotent(session, holder, "paid_refund", f"paid_refund:{purchase.id}") as write:
        if purchase.creator_id:
            ledger.lock_wallet(session, purchase.buyer_id)
        session.refresh(purchase)
        if write.replayed or purchase.status != "active":
            raise Conflict("already_refunded", f"Purchase {purchase.id} was already refunded; "
                                               "nothing was changed.")
        now = utcnow()
        clawback = 0
        if purchase.creator_id:
            have = ledger.balance(session, purchase.creator_id, "gems")
            clawback = min(purchase.creator_gems, max(have, 0))
        details = {"purchase_id": purchase.id, "kind": purchase.kind, "item_id": purchase.item_id,
                   "title": purchase.title, "gems": purchase.gems, "buyer_id": purchase.buyer_id,
                   "creator_clawback": clawback,
                   "operator_covered": purchase.creator_gems - clawback,
                   "reason": reason.strip(), "moderator_id": moderator_id}
        if purchase.creator_id:
            tx = write.post(details, [("gems", SYSTEM_ACCOUNT, -clawback)], now=now)
            write.credit(purchase.buyer_id, "gems", SYSTEM_ACCOUNT, purchase.gems)
        else:
            tx = write.post(details, [("gems", SYSTEM_ACCOUNT, purchase.gems)], now=now)
        if purchase.kind == "card":
            _take_card_back(session, purchase.buyer_id, purchase.item_id, now)
        purchase.status, purchase.refund_transaction_id = "refunded", tx.id
        purchase.refunded_by, purchase.refund_reason = moderator_id, reason.strip()
        purchase.refunded_at = now
        session.add(purchase)
        session.add(ModerationAction(moderator_id=moderator_id, action="refund",
                                     target_type="purchase", target_id=purchase.id,
                                     user_id=purchase.buyer_id, reason=reason.strip(),
                                     created_at=now))
        events.record(session, PurchaseRefunded(purchase.id, purchase.buyer_id,
                                                purchase.creator_id, purchase.character_id,
                                                purchase.kind, purchase.item_id, purchase.gems,
                                                clawback, moderator_id))
    session.refresh(purchase)
    return purchase


def purchases_of(session: Session, user_id: int) -> list[dict]:
    """The user's purchases, newest first, refunded ones included (marked)."""
    rows = session.exec(select(Purchase).where(Purchase.buyer_id == user_id)
                        .order_by(Purchase.id.desc()))
    return [purchase_payload(p) for p in rows]


def purchases_for_moderators(session: Session, buyer_id=None, limit: int = 100) -> list[dict]:
    query = select(Purchase).order_by(Purchase.id.desc()).limit(limit)
    if buyer_id is not None:
        query = query.where(Purchase.buyer_id == buyer_id)
    return [purchase_payload(p) for p in session.exec(query)]


def purchase_payload(purchase: Purchase) -> dict:
    return {"id": purchase.id, "kind": purchase.kind, "item_id": purchase.item_id,
            "character_id": purchase.character_id, "title": purchase.title,
            "buyer_id": purchase.buyer_id, "creator_id": purchase.creator_id,
            "gems": purchase.gems, "creator_gems": purchase.creator_gems,
            "status": purchase.status, "transaction_id": purchase.transaction_id,
            "created_at": purchase.created_at.isoformat(),
            "refund": None if purchase.status != "refunded" else {
                "transaction_id": purchase.refund_transaction_id,
                "reason": purchase.refund_reason, "by": purchase.refunded_by,
                "at": purchase.refunded_at.isoformat() if purchase.refunded_at else None}}


def _purchase_of(session: Session, transaction_id: int) -> Purchase:
    return session.exec(select(Purchase).where(Purchase.transaction_id == transaction_id)).one()


def _take_card_back(session: Session, user_id: int, card_id: int, now) -> None:
    """One copy leaves the collection (none left to take if it was given away already)."""
    item = collection_items(session, user_id, [card_id]).get(card_id)
    if item is None or item.count < 1:
        return
    item.count -= 1
    item.updated_at = now
    if item.count == 0:
        session.delete(item)
    else:
        session.add(item)

