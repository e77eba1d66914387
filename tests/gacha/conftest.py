"""Gacha fixtures: a migrated, seeded database (SQLite, or PostgreSQL under both_databases),
sessions on it, users, and an invariant check that ties balances, cards and pity to the ledger."""
from collections import Counter

import pytest
from sqlmodel import Session, select

from core.db import make_engine
from core.users import User
import gacha.banners
import gacha.ledger
from gacha.models import CollectionItem, LedgerTransaction, Pity, Pull, ServerSeed
from tests.support.db_templates import migrate_and_seed


def migrate_and_seed_gacha(database_url, avatars_dir):
    migrate_and_seed(database_url, avatars_dir, gacha.banners.seed_gacha)


@pytest.fixture
def engine(database_url, tmp_path, database_templates):
    """The test's database as migrate_and_seed_gacha leaves it (copied from a session template)."""
    if not database_templates.copy_into("gacha", migrate_and_seed_gacha, database_url,
                                        tmp_path / "avatars"):
        migrate_and_seed_gacha(database_url, tmp_path / "avatars")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def banner(session):
    return gacha.banners.seed_gacha(session)


@pytest.fixture
def make_user(session):
    def make(name=None):
        user = User(username=name or f"u{len(created)}", username_key=(name or f"u{len(created)}"),
                    password_hash="x")
        session.add(user)
        session.commit()
        created.append(user)
        return user.id
    created = []
    return make


def fund(session, user_id, amount, currency="gems", key=None):
    return gacha.ledger.admin_grant(session, user_id, currency, amount, key or f"fund-{amount}-{currency}")


def assert_consistent_with_ledger(session, user_id, banner_id=None):
    """Balances, cards, shards, pity and nonces of one user agree with its ledger and pulls."""
    assert gacha.ledger.ledger_problems(session) == []
    txs = list(session.exec(select(LedgerTransaction).where(LedgerTransaction.user_id == user_id)))
    pulls = list(session.exec(select(Pull).where(Pull.user_id == user_id).order_by(Pull.id)))
    draws = [t for t in txs if t.kind == "draw"]
    spent = sum(t.details["cost"] for t in draws if t.details["request"]["currency"] == "gems")
    granted = sum(t.details["amount"] for t in txs if t.kind == "admin_grant"
                  and t.details["currency"] == "gems")
    checkins = sum(gacha.ledger.CHECKIN_REWARD for t in txs if t.kind == "checkin")
    earned = sum(t.details["amount"] for t in txs if t.kind == "play_reward")
    assert gacha.ledger.balance(session, user_id, "gems") == granted + checkins + earned - spent >= 0
    assert len(pulls) == sum(t.details["request"]["count"] for t in draws)
    exchanges = [t for t in txs if t.kind == "shard_exchange"]
    shards = sum(p.shards for p in pulls) - sum(t.details["price"] for t in exchanges)
    assert gacha.ledger.balance(session, user_id, "shards") == shards >= 0
    claims = Counter(t.details["card_id"] for t in txs if t.kind == "card_claim")
    gifts = Counter(t.details["card_id"] for t in txs if t.kind == "gift")
    expected_counts = Counter(p.card_id for p in pulls) + Counter(t.details["card_id"] for t in exchanges)
    expected_counts.update(claims)
    expected_counts.subtract(gifts)
    owned = {i.card_id: i.count for i in
             session.exec(select(CollectionItem).where(CollectionItem.user_id == user_id))}
    assert owned == {card_id: n for card_id, n in expected_counts.items()
                     if n or card_id in owned}
    assert all(n >= 0 for n in owned.values())
    first_seen = set()
    for pull in pulls if not gifts and not claims else ():  # simple history: duplicates exactly
        assert pull.duplicate == (pull.card_id in first_seen)  # when the card was already owned
        first_seen.add(pull.card_id)
    seeds = {s.id: s for s in session.exec(select(ServerSeed).where(ServerSeed.user_id == user_id))}
    for seed_id, seed in seeds.items():
        nonces = sorted(p.nonce for p in pulls if p.server_seed_id == seed_id)
        assert nonces == list(range(seed.next_nonce))
    if banner_id is not None and pulls:
        pity = session.get(Pity, (user_id, banner_id))
        assert pity.total_pulls == len([p for p in pulls if p.banner_id == banner_id])
        replayed, state = _replay_pity(session, banner_id, [p for p in pulls if p.banner_id == banner_id])
        assert replayed
        assert (pity.pulls_since_ssr, pity.pulls_since_sr, pity.lost_5050) == state


def _replay_pity(session, banner_id, pulls):
    """Recompute every pull from its seed and check each starts where the previous one ended."""
    from gacha.draw import PityState, draw_one
    from gacha.models import Banner
    banner = session.get(Banner, banner_id)
    rules, pool = gacha.banners.banner_rules(banner), gacha.banners.banner_pool(banner)
    state = PityState()
    for pull in sorted(pulls, key=lambda p: (p.transaction_id, p.nonce)):
        if (pull.pity_before, pull.pulls_since_sr_before, pull.lost_5050_before) != \
                (state.pulls_since_ssr, state.pulls_since_sr, state.lost_5050):
            return False, None
        seed = session.get(ServerSeed, pull.server_seed_id)
        result, state = draw_one(rules, pool, state, seed.seed, pull.client_seed, pull.nonce)
        if (int(result.card_id), result.rarity, result.featured) != \
                (pull.card_id, pull.rarity, pull.featured):
            return False, None
    return True, (state.pulls_since_ssr, state.pulls_since_sr, state.lost_5050)
