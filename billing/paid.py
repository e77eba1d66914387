"""Paid content: the price a creator sets on a story or a gacha card of their character, who may
see and buy it, and what other domains ask about it (a story's access, the price tags on lists,
a character's sales). Buying and refunding are billing/purchases.py. No Flask here.

    set_price(session, actor, kind, item_id, gems, max_gems, is_admin)   -> PaidPrice
    clear_price(session, actor, kind, item_id, is_admin)
    price_tags(session, viewer_id, kind, item_ids)     -> {item_id: {price, purchased}}
    story_unlocked(session, user_id, story_id)          -> bool (free, the creator's, or bought)
    character_sales(session, character_id)              -> {sales, refunds, gems_earned}

docs/billing.md ("Paid content") has the contract."""
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from billing.models import PAID_KINDS, PaidPrice, Purchase
from characters.models import Character
from characters.service import can_view, age_allows
from core.db import is_id, utcnow
from core.errors import KindredError, not_found
from discovery.models import DiscoveryPreferences
from gacha.models import Card
from relationships.models import Story


class NotCreator(KindredError):
    status = 403


@dataclass
class Item:
    """A story or a card that can carry a price, with the character it belongs to."""
    kind: str
    id: int
    character: Character
    title: str


def set_price(session: Session, actor, kind, item_id, gems, max_gems: int,
              is_admin: bool = False) -> PaidPrice:
    """Price the item at `gems` (a whole number from 1 to `max_gems`); commits. Only the
    character's creator or an admin; anyone else gets 403 (404 if they cannot see it)."""
    item = priceable_item(session, actor, kind, item_id, is_admin)
    if type(gems) is not int or not 1 <= gems <= max_gems:
        raise KindredError("invalid_price", f"'gems' must be a whole number from 1 to {max_gems}.")
    price = price_of(session, item.kind, item.id) or PaidPrice(
        kind=item.kind, item_id=item.id, character_id=item.character.id, gems=gems)
    price.gems, price.set_by, price.updated_at = gems, actor.id, utcnow()
    session.add(price)
    session.commit()
    return price


def clear_price(session: Session, actor, kind, item_id, is_admin: bool = False) -> None:
    """Make a story free again, or take a card off sale; purchases already made stay."""
    item = priceable_item(session, actor, kind, item_id, is_admin)
    price = price_of(session, item.kind, item.id)
    if price is not None:
        session.delete(price)
        session.commit()


def priceable_item(session: Session, actor, kind, item_id, is_admin: bool) -> Item:
    item = find_item(session, kind, item_id)
    if not is_admin and not can_view(item.character, actor.id):
        raise not_found(kind)
    if not is_admin and item.character.creator_id != actor.id:
        raise NotCreator("not_creator", f"Only the creator of {item.character.name!r} (or an "
                                        f"admin) may price its {kind}s.")
    return item


def find_item(session: Session, kind, item_id) -> Item:
    """The story or card, or 400 for an unknown kind and 404 for an unknown id."""
    if kind not in PAID_KINDS:
        raise KindredError("invalid_kind", f"'kind' must be one of {', '.join(PAID_KINDS)}.")
    if not is_id(item_id):
        raise not_found(kind)
    if kind == "story":
        story = session.get(Story, item_id)
        if story is None or story.removed:
            raise not_found("story")
        character, title = session.get(Character, story.character_id), story.title
    else:
        card = session.get(Card, item_id)
        if card is None:
            raise not_found("card")
        character, title = session.get(Character, card.character_id), card.title
    if character is None:
        raise not_found(kind)
    return Item(kind, item_id, character, title)


def seeable_by(session: Session, character: Character, user_id: int) -> bool:
    """What a buyer must be able to see: not private or hidden, not by a creator they blocked,
    and mature only for an adult who opted in (the feed's rule). The creator sees their own."""
    if character.creator_id == user_id:
        return True
    if not can_view(character, user_id) or not age_allows(session, character, user_id):
        return False
    prefs = session.get(DiscoveryPreferences, user_id)
    if prefs is not None and character.creator_id in (prefs.blocked_creator_ids or []):
        return False
    return character.content_rating != "mature" or bool(prefs and prefs.show_mature)


def price_of(session: Session, kind: str, item_id: int) -> Optional[PaidPrice]:
    return session.exec(select(PaidPrice).where(PaidPrice.kind == kind,
                                                PaidPrice.item_id == item_id)).first()


def active_purchase(session: Session, user_id: int, kind: str, item_id: int) -> Optional[Purchase]:
    return session.exec(select(Purchase).where(
        Purchase.buyer_id == user_id, Purchase.kind == kind, Purchase.item_id == item_id,
        Purchase.status == "active").execution_options(populate_existing=True)).first()


def price_tags(session: Session, viewer_id: Optional[int], kind: str, item_ids) -> dict[int, dict]:
    """For lists shown to a user: each item's price in gems (None: free / not sold) and whether
    the viewer holds an active purchase of it. Two queries, whatever the number of items."""
    ids = sorted({i for i in item_ids if is_id(i)})
    if not ids:
        return {}
    prices = {p.item_id: p.gems for p in session.exec(
        select(PaidPrice).where(PaidPrice.kind == kind, PaidPrice.item_id.in_(ids)))}
    bought = set() if viewer_id is None else set(session.exec(select(Purchase.item_id).where(
        Purchase.buyer_id == viewer_id, Purchase.kind == kind, Purchase.item_id.in_(ids),
        Purchase.status == "active")))
    return {i: {"price": prices.get(i), "purchased": i in bought} for i in ids}


def story_unlocked(session: Session, user_id: int, story_id: int) -> bool:
    """Whether the user may play the paid part of the story: it has no price, it is their own
    character's, or they bought it (and it was not refunded)."""
    price = price_of(session, "story", story_id)
    if price is None:
        return True
    character = session.get(Character, price.character_id)
    if character is not None and character.creator_id == user_id:
        return True
    return active_purchase(session, user_id, "story", story_id) is not None


def character_sales(session: Session, character_id: int) -> dict:
    """The creator dashboard's figures: purchases that stand, refunded ones, and the gems the
    creator keeps from those that stand (after the operator's fee)."""
    rows = session.exec(select(Purchase.status, sa.func.count(), sa.func.sum(Purchase.creator_gems))
                        .where(Purchase.character_id == character_id)
                        .group_by(Purchase.status)).all()
    by_status = {status: (int(count), int(total or 0)) for status, count, total in rows}
    active = by_status.get("active", (0, 0))
    return {"sales": active[0], "refunds": by_status.get("refunded", (0, 0))[0],
            "gems_earned": active[1]}


def check_settings(settings) -> None:
    """Stop the start, saying why, on a fee or a maximum price that makes no sense."""
    fee, most = settings["PAID_CONTENT_FEE_PERCENT"], settings["PAID_CONTENT_MAX_GEMS"]
    if type(fee) is not int or not 0 <= fee <= 100:
        raise ValueError("PAID_CONTENT_FEE_PERCENT must be a whole percent from 0 to 100, "
                         f"not {fee!r}")
    if type(most) is not int or not 1 <= most <= 10**9:
        raise ValueError("PAID_CONTENT_MAX_GEMS must be a whole number from 1 to 10^9, "
                         f"not {most!r}")
