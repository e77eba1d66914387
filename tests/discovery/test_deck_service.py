"""The discovery service with a real database: time rules (pass cooldown, deal expiry), taste
from swipes and chats, exploration of new characters, and a race of two swipes on one card."""
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import session_scope, utcnow
from core.errors import Conflict
from core.users import User
from discovery.deck import DeckFilters, Discovery
from discovery.embeddings import ensure_embeddings
from discovery.models import CharacterStats, Swipe
from tests.discovery.conftest import MEMO_EMBEDDER


@pytest.fixture
def engine(app):
    return app.extensions["kindred.db"]


@pytest.fixture
def discovery():
    return Discovery(embedder=MEMO_EMBEDDER, refresh_seconds=0, pass_cooldown=timedelta(days=7),
                     seed=1)


@pytest.fixture
def user(engine):
    with session_scope(engine) as session:
        person = User(username="swiper", username_key="swiper", password_hash="x")
        session.add(person)
        session.commit()
        return person


def ids(cards):
    return [c["character_id"] for c in cards]


def test_a_pass_stays_away_for_the_cooldown_then_may_come_back(engine, discovery, user):
    t0 = utcnow()
    with session_scope(engine) as session:
        passed = ids(discovery.deal(session, user, 7, now=t0))
        for character_id in passed:
            discovery.swipe(session, user, character_id, "left", now=t0)
        assert discovery.deal(session, user, 7, now=t0 + timedelta(days=6)) == []
        back = ids(discovery.deal(session, user, 7, now=t0 + timedelta(days=8)))
    assert sorted(back) == sorted(passed)


def test_a_like_never_comes_back(engine, discovery, user):
    t0 = utcnow()
    with session_scope(engine) as session:
        liked = ids(discovery.deal(session, user, 1, now=t0))[0]
        discovery.swipe(session, user, liked, "right", now=t0)
        later = ids(discovery.deal(session, user, 10, now=t0 + timedelta(days=400)))
    assert liked not in later and len(later) == 6


def test_an_expired_deal_cannot_be_swiped(engine, discovery, user):
    t0 = utcnow()
    with session_scope(engine) as session:
        card = ids(discovery.deal(session, user, 1, now=t0))[0]
        with pytest.raises(Conflict) as refused:
            discovery.swipe(session, user, card, "right", now=t0 + timedelta(hours=25))
    assert refused.value.code == "not_dealt"


def test_chat_depth_counts_as_taste(engine, discovery, user):
    from conversations.service import start_conversation
    from conversations.models import Message
    with session_scope(engine) as session:
        conversation = start_conversation(session, user, 7)  # Cinder, the dragon baker
        session.add_all(Message(conversation_id=conversation.id, role="user", content=f"hi {i}")
                        for i in range(12))
        session.commit()
        ensure_embeddings(session, MEMO_EMBEDDER)
        catalog = discovery.catalogs.get(session)
        profile, _seen = discovery.taste_profile(session, user.id, catalog, utcnow())
    assert [(catalog.ids[p], m) for p, _age, m in profile.chats] == [(7, 12)]


def test_new_characters_get_a_share_of_the_deck(engine, discovery, user, add_character):
    for i in range(30):
        add_character(name=f"Regular {i}", tags=["slice of life"], age_days=90)
    new_ids = {add_character(name=f"Newcomer {i}", tags=["mystery"], age_days=1)
               for i in range(5)}
    with session_scope(engine) as session:
        dealt = discovery.deal(session, user, 10)
    explored = [c for c in dealt if c["character_id"] in new_ids]
    assert len(explored) >= 2  # explore share 0.2 of 10, plus freshness
    assert {c["reason"] for c in explored} == {"New character"}


def test_deal_counts_impressions_and_swipes_count_likes(engine, discovery, user):
    with session_scope(engine) as session:
        card = ids(discovery.deal(session, user, 1))[0]
        discovery.swipe(session, user, card, "up")
        stats = session.get(CharacterStats, card)
        assert (stats.impressions, stats.likes, stats.passes) == (1, 1, 0)
        discovery.undo(session, user)
        session.refresh(stats)
        assert (stats.impressions, stats.likes, stats.passes) == (1, 0, 0)


def test_filters_apply_to_cards_already_dealt(engine, discovery, user):
    with session_scope(engine) as session:
        discovery.deal(session, user, 7)
        fantasy = discovery.deal(session, user, 7, DeckFilters(include_tags=("fantasy",)))
    assert sorted(c["name"] for c in fantasy) == ["Bramble", "Cinder"]


@pytest.mark.both_databases
def test_two_simultaneous_swipes_on_one_card_record_one(engine, discovery, user):
    with session_scope(engine) as session:
        card = ids(discovery.deal(session, user, 1))[0]
    results, barrier = [], threading.Barrier(2)

    def attempt(direction):
        with session_scope(engine) as session:
            barrier.wait()
            try:
                discovery.swipe(session, user, card, direction)
                results.append("ok")
            except Conflict as exc:
                results.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(d,)) for d in ("right", "left")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already_swiped", "ok"]
    with session_scope(engine) as session:
        assert session.execute(sa.select(sa.func.count(Swipe.id))).scalar() == 1
        stats = session.get(CharacterStats, card)
        assert stats.likes + stats.passes == 1


@pytest.mark.both_databases
def test_swipe_and_undo_on_both_databases(engine, discovery, user):
    with session_scope(engine) as session:
        cards = ids(discovery.deal(session, user, 3))
        outcome = discovery.swipe(session, user, cards[0], "up")
        assert outcome.conversation_id is not None
        undone, card = discovery.undo(session, user)
        assert undone.undone and card["character_id"] == cards[0]
        assert ids(discovery.deal(session, user, 3))[0] == cards[0]
        with pytest.raises(Conflict):
            discovery.undo(session, user)
