"""Where the bond meets the gacha cards: a card given to its character raises affinity, and a
level unlocks a free copy of the character's SR/SSR cards.

    give_card(session, settings, user_id, character, card_id, idempotency_key)  -> Gift
    claim_card(session, settings, user_id, character, card_id)                  -> CardMove
    claim_levels(settings, levels)                    {"SR": 3, "SSR": 4} from CARD_CLAIM_LEVELS

A gift is two steps: gacha takes the copy out of the collection (one ledger transaction, with
the idempotency key), then affinity records a "gift" event whose ref is that transaction. A
retry with the same key finds the transaction and records the affinity if it is still missing,
so a crash in between is healed by retrying, and nothing is ever counted twice.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlmodel import Session

from core.errors import Conflict, KindredError
from characters.models import Character
from gacha import collection
from gacha.collection import CardMove
from gacha.models import Card
from relationships import affinity
from relationships.affinity import Award, Levels, levels_from
from relationships.story import LevelLocked


@dataclass
class Gift:
    award: Award
    card: Card
    transaction_id: int
    replayed: bool


def give_card(session: Session, settings, user_id: int, character: Character, card_id,
              idempotency_key: str, now: Optional[datetime] = None) -> Gift:
    """Give one owned copy of `card_id` to `character`. Unknown card 404, another character's
    card 400, no copy owned 409, today's gift cap already reached 409: nothing changes then."""
    card = collection.card_of_character(session, card_id, character.id)
    points = int(settings["GIFT_AFFINITY"].get(card.rarity, 0))
    if (collection.gift_made(session, user_id, idempotency_key) is None
            and affinity.gift_room(session, settings, user_id, character.id, now) <= 0):
        raise Conflict("gift_cap_reached",
                       f"{character.name} has had all the gifts that count today "
                       f"({settings['AFFINITY_GIFT_DAILY_CAP']} affinity points); your card is "
                       "still yours. Gifts count again tomorrow (UTC).")
    move = collection.give_card(session, user_id, card.id, character.id, idempotency_key, now=now)
    award = affinity.award_gift(session, settings, user_id, character.id,
                                f"gift:{move.transaction.id}", points, now=now)
    return Gift(award, move.card, move.transaction.id, move.replayed)


def claim_card(session: Session, settings, user_id: int, character: Character,
               card_id) -> CardMove:
    """The free copy a level unlocks, once per card ever. Wrong card 404/400, a rarity that is
    not claimable 400, level too low 403, already claimed 409: nothing changes then."""
    card = collection.card_of_character(session, card_id, character.id)
    levels = levels_from(settings)
    required = claim_levels(settings, levels).get(card.rarity)
    if required is None:
        raise KindredError("not_claimable", f"{card.rarity} cards are not unlocked by levels; "
                                            "claimable rarities: "
                                            f"{', '.join(claim_levels(settings, levels)) or 'none'}.")
    level = affinity.peek(session, user_id, character.id)[1]
    if level < required:
        raise LevelLocked("level_locked", f"'{card.title}' unlocks at level {required} "
                                          f"({levels.name(required)}); you are at level {level} "
                                          f"({levels.name(level)}) with {character.name}.")
    move = collection.claim_card(session, user_id, card.id,
                                 reason=f"level {levels.name(required)} with {character.name}")
    if move.replayed:
        raise Conflict("already_claimed", f"You already claimed '{card.title}'; each card can be "
                                          "claimed once.")
    return move


def claim_levels(settings, levels: Levels) -> dict[str, int]:
    """Rarity -> the level that unlocks a free copy (unreadable levels are ignored)."""
    found = {}
    for rarity, value in (settings.get("CARD_CLAIM_LEVELS") or {}).items():
        level = levels.parse(value)
        if rarity in ("N", "R", "SR", "SSR") and level is not None:
            found[rarity] = level
    return found


def card_items(session: Session, settings, character: Character, levels: Levels) -> list[dict]:
    """The character's claimable cards as gated items of relationships.unlocks."""
    by_rarity = claim_levels(settings, levels)
    return [{"type": "card", "card_id": card.id, "rarity": card.rarity, "label": card.title,
             "level": by_rarity[card.rarity], "art_url": f"/gacha/cards/{card.id}.png"}
            for card in collection.cards_of_character(session, character.id)
            if card.rarity in by_rarity]
