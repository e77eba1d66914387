"""Gems earned by playing, gifts, level claims and the ledger history, at the service level."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.errors import KindredError
import gacha.collection
import gacha.ledger
import gacha.pulls
from gacha.models import Card, LedgerEntry
from tests.gacha.conftest import assert_consistent_with_ledger, fund

pytestmark = pytest.mark.both_databases

DAY = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)


def _entries(session):
    return session.exec(select(sa.func.count()).select_from(LedgerEntry)).one()


def _card(session, rarity="SR"):
    return session.exec(select(Card).where(Card.rarity == rarity).order_by(Card.id)).first()


def _own(session, user, card):
    """One copy of `card` (through a claim, the simplest way a card enters a collection)."""
    move = gacha.collection.claim_card(session, user, card.id, reason="test")
    assert not move.replayed
    return move


def test_earned_gems_are_paid_once_per_event_key(session, make_user):
    user = make_user()
    first = gacha.ledger.earn_gems(session, user, "first_chat_of_day", "day:2026-05-04", 20, now=DAY)
    again = gacha.ledger.earn_gems(session, user, "first_chat_of_day", "day:2026-05-04", 20, now=DAY)
    assert first.granted and first.amount == 20
    assert not again.granted and again.transaction.id == first.transaction.id
    streak = gacha.ledger.earn_gems(session, user, "chat_streak", "day:2026-05-04", 10, now=DAY)
    assert streak.granted  # another reason is another payment
    assert gacha.ledger.balance(session, user, "gems") == 30
    assert_consistent_with_ledger(session, user)


def test_earning_respects_a_daily_limit_and_pays_nothing_for_zero(session, make_user):
    user = make_user()
    paid = [gacha.ledger.earn_gems(session, user, "story_chapter", f"story:1:c{i}", 30,
                                   daily_limit=2, now=DAY) for i in range(3)]
    assert [p.granted for p in paid] == [True, True, False] and paid[2].transaction is None
    tomorrow = gacha.ledger.earn_gems(session, user, "story_chapter", "story:1:c2", 30, daily_limit=2,
                                      now=DAY + timedelta(days=1))
    assert tomorrow.granted
    assert gacha.ledger.earn_gems(session, user, "chat_streak", "day:x", 0).transaction is None
    assert gacha.ledger.balance(session, user, "gems") == 90
    assert_consistent_with_ledger(session, user)


@pytest.mark.parametrize("reason, key, amount, code", [
    ("jackpot", "k", 10, "invalid_reason"),
    ("chat_streak", "", 10, "invalid_idempotency_key"),
    ("chat_streak", "k", -5, "invalid_amount"),
    ("chat_streak", "k", 1.5, "invalid_amount"),
])
def test_bad_earnings_are_refused_and_post_nothing(session, make_user, reason, key, amount, code):
    user = make_user()
    before = _entries(session)
    with pytest.raises(KindredError) as raised:
        gacha.ledger.earn_gems(session, user, reason, key, amount)
    assert raised.value.code == code and _entries(session) == before


def test_a_gift_consumes_one_copy_and_a_replay_changes_nothing(session, make_user):
    user = make_user()
    card = _card(session)
    _own(session, user, card)
    gift = gacha.collection.give_card(session, user, card.id, card.character_id, "gift-1")
    assert not gift.replayed and gift.transaction.kind == "gift"
    assert gacha.collection.owned_count(session, user, card.id) == 0
    replay = gacha.collection.give_card(session, user, card.id, card.character_id, "gift-1")
    assert replay.replayed and replay.transaction.id == gift.transaction.id
    assert gacha.collection.owned_count(session, user, card.id) == 0
    with pytest.raises(KindredError) as raised:
        gacha.collection.give_card(session, user, card.id, card.character_id, "gift-2")
    assert raised.value.status == 409 and raised.value.code == "card_not_owned"
    assert_consistent_with_ledger(session, user)


def test_bad_gifts_are_refused_and_change_nothing(session, make_user):
    user = make_user()
    card = _card(session)
    other = session.exec(select(Card).where(Card.character_id != card.character_id)).first()
    _own(session, user, card)
    cases = [(99999, card.character_id, "k1", 404), ("1", card.character_id, "k2", 404),
             (card.id, other.character_id, "k3", 400), (other.id, other.character_id, "k4", 409),
             (card.id, card.character_id, "", 400)]
    for card_id, character_id, key, status in cases:
        with pytest.raises(KindredError) as raised:
            gacha.collection.give_card(session, user, card_id, character_id, key)
        assert raised.value.status == status, (card_id, character_id, key)
    assert gacha.collection.owned_count(session, user, card.id) == 1
    gacha.collection.give_card(session, user, card.id, card.character_id, "real")
    with pytest.raises(KindredError) as raised:  # same key, another card: a different request
        gacha.collection.give_card(session, user, other.id, other.character_id, "real")
    assert raised.value.code == "idempotency_key_reused"
    assert_consistent_with_ledger(session, user)


def test_a_card_is_claimed_once_ever(session, make_user):
    user = make_user()
    card = _card(session, "SSR")
    first = gacha.collection.claim_card(session, user, card.id, reason="level Confidant")
    again = gacha.collection.claim_card(session, user, card.id, reason="level Confidant")
    assert not first.replayed and again.replayed
    assert gacha.collection.owned_count(session, user, card.id) == 1
    assert gacha.collection.claimed_card_ids(session, user, [card.id, card.id + 1]) == {card.id}
    gacha.collection.give_card(session, user, card.id, card.character_id, "g")  # giving it away
    assert gacha.collection.claim_card(session, user, card.id, reason="again").replayed  # does not reopen it
    assert gacha.collection.owned_count(session, user, card.id) == 0
    assert_consistent_with_ledger(session, user)


def test_ledger_history_shows_a_running_balance_per_currency(session, make_user, banner):
    user = make_user()
    fund(session, user, 300)
    gacha.ledger.earn_gems(session, user, "first_chat_of_day", "day:1", 20)
    gacha.pulls.draw(session, user, banner.id, 1, "d1")
    fund(session, user, 5, currency="premium", key="p")
    history = gacha.ledger.ledger_history(session, user)
    gems = [(e["amount"], e["balance_after"]) for e in history["entries"] if e["currency"] == "gems"]
    assert gems == [(-100, 220), (20, 320), (300, 300)]
    assert history["entries"][0]["currency"] == "premium"
    assert history["entries"][0]["balance_after"] == 5
    assert history["balances"]["gems"] == 220
    described = {e["kind"]: e["description"] for e in history["entries"]}
    assert described["draw"] == f"1-pull on banner {banner.id}"
    assert described["play_reward"] == "First chat of the day"
    page = gacha.ledger.ledger_history(session, user, currency="gems", limit=2)
    assert [e["amount"] for e in page["entries"]] == [-100, 20]
    rest = gacha.ledger.ledger_history(session, user, currency="gems", limit=2,
                                       before_id=page["next_before"])
    assert [e["amount"] for e in rest["entries"]] == [300] and rest["next_before"] is None


@pytest.mark.parametrize("kwargs, code", [
    ({"currency": "gold"}, "invalid_currency"), ({"limit": 0}, "invalid_limit"),
    ({"limit": 10_000}, "invalid_limit"), ({"before_id": -1}, "invalid_before"),
])
def test_bad_ledger_queries_are_refused(session, make_user, kwargs, code):
    with pytest.raises(KindredError) as raised:
        gacha.ledger.ledger_history(session, make_user(), **kwargs)
    assert raised.value.code == code


def test_admins_are_configured_usernames_in_any_case():
    assert gacha.ledger.is_admin("Alice", ["alice"]) and not gacha.ledger.is_admin("bob", ["alice"])
    assert not gacha.ledger.is_admin(None, ["alice"]) and not gacha.ledger.is_admin("alice", [])
