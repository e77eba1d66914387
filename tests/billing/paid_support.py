"""Paid content fixtures' helpers: a creator's public character with its four gacha cards and a
two-chapter story, gems for a buyer, and what the ledger and the collections hold (to compare
before and after a refusal)."""
import copy

from sqlmodel import Session, select

from billing.models import PaidPrice, Purchase
from characters.models import Character
from characters.stories import STORIES_EXTENSION
from gacha import ledger
from gacha.banners import ensure_cards
from gacha.models import Card, CollectionItem, LedgerEntry, LedgerTransaction
from moderation.models import ModerationAction
from relationships.models import Story

NIGHT_MARKET = {
    "id": "night-market", "title": "The Night Market",
    "description": "Lanterns, stalls and one strange bargain.", "start": "gate",
    "chapters": [
        {"id": "gate", "title": "At the Gate", "scene": "*Lanterns sway over the market gate.*",
         "goal": "{{user}} decides to go in.",
         "choices": [{"id": "enter", "label": "Walk in", "next": "stalls"}]},
        {"id": "stalls", "title": "The Stalls", "scene": "*A stall sells bottled starlight.*",
         "goal": "{{user}} makes a bargain.",
         "choices": [{"id": "home", "label": "Go home", "next": None}]},
    ],
}


class Shop:
    """What a creator can sell: `character_id`, `story_id`, `card_ids` by rarity."""

    def __init__(self, app, creator_id: int, visibility: str = "public", rating: str = "sfw"):
        self.app = app
        with self.session() as session:
            character = Character(name="Marketeer", description="Runs the night market.",
                                  creator_id=creator_id, visibility=visibility,
                                  content_rating=rating,
                                  extensions={STORIES_EXTENSION: [copy.deepcopy(NIGHT_MARKET)]})
            session.add(character)
            session.flush()
            ensure_cards(session, [character])
            session.commit()
            self.character_id = character.id
            self.card_ids = {card.rarity: card.id for card in session.exec(
                select(Card).where(Card.character_id == character.id))}
            from relationships.affinity import levels_from
            from relationships.story import sync_stories
            sync_stories(session, character, levels_from(app.config))
            self.story_id = session.exec(select(Story.id).where(
                Story.character_id == character.id)).one()

    def session(self) -> Session:
        return Session(self.app.extensions["kindred.db"], expire_on_commit=False)


def grant(app, user_id: int, gems: int, key: str = "test-gems") -> None:
    with Session(app.extensions["kindred.db"]) as session:
        ledger.admin_grant(session, user_id, "gems", gems, f"{key}-{user_id}")


def gems(app, user_id: int) -> int:
    with Session(app.extensions["kindred.db"]) as session:
        return ledger.balance(session, user_id, "gems")


def snapshot(app, *user_ids: int) -> dict:
    """Everything a purchase or refund could change; equal before and after a refusal."""
    with Session(app.extensions["kindred.db"]) as session:
        return {
            "balances": {u: ledger.balances(session, u) for u in user_ids},
            "transactions": len(session.exec(select(LedgerTransaction.id)).all()),
            "entries": len(session.exec(select(LedgerEntry.id)).all()),
            "purchases": sorted((p.id, p.status) for p in session.exec(select(Purchase))),
            "prices": sorted((p.kind, p.item_id, p.gems) for p in session.exec(select(PaidPrice))),
            "collection": sorted((c.user_id, c.card_id, c.count)
                                 for c in session.exec(select(CollectionItem))),
            "audit": len(session.exec(select(ModerationAction.id)).all()),
            "problems": ledger.ledger_problems(session),
        }


def system_gems(app, name: str = "paid_content") -> int:
    """The balance of a system account (the operator's side of paid content)."""
    import sqlalchemy as sa
    from gacha.models import LedgerAccount
    with Session(app.extensions["kindred.db"]) as session:
        return int(session.exec(
            select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerAccount.code == f"system:{name}:gems")).one())
