"""The gacha economy service on a real database: ledger, check-in, draws, seeds, verification."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from core.errors import KindredError
from core.event_types import CardsDrawn
from core.users import User
import gacha.banners
import gacha.collection
import gacha.ledger
import gacha.pulls
from gacha.models import Card, LedgerEntry, LedgerTransaction, Pull
from gacha.rates import BannerRules
from tests.gacha.conftest import assert_consistent_with_ledger, fund

pytestmark = pytest.mark.both_databases


def _ledger_snapshot(session):
    session.expire_all()
    return (session.exec(select(sa.func.count()).select_from(LedgerEntry)).one(),
            session.exec(select(sa.func.count()).select_from(LedgerTransaction)).one(),
            session.exec(select(sa.func.count()).select_from(Pull)).one())


def test_checkin_grants_gems_once_per_utc_day(session, make_user):
    user = make_user()
    day = datetime(2026, 11, 29, 23, 59, tzinfo=timezone.utc)
    first = gacha.ledger.daily_checkin(session, user, now=day)
    again = gacha.ledger.daily_checkin(session, user, now=day + timedelta(seconds=30))
    assert first.granted and not again.granted
    assert again.transaction.id == first.transaction.id
    assert gacha.ledger.balance(session, user, "gems") == gacha.ledger.CHECKIN_REWARD
    assert gacha.ledger.daily_checkin(session, user, now=day + timedelta(minutes=2)).granted
    assert gacha.ledger.balance(session, user, "gems") == 2 * gacha.ledger.CHECKIN_REWARD
    assert_consistent_with_ledger(session, user)


def test_balance_is_the_sum_of_balanced_double_entries(session, make_user):
    user = make_user()
    gacha.ledger.daily_checkin(session, user)
    fund(session, user, 500, "premium")
    assert gacha.ledger.balances(session, user) == {"gems": 100, "premium": 500, "shards": 0}
    entries = session.exec(select(LedgerEntry)).all()
    assert len(entries) == 4 and sum(e.amount for e in entries) == 0
    assert gacha.ledger.ledger_problems(session) == []
    kinds = [e["kind"] for e in gacha.ledger.recent_entries(session, user)]
    assert kinds == ["admin_grant", "checkin"]


def test_ledger_rows_cannot_be_changed_or_deleted(session, make_user):
    user = make_user()
    gacha.ledger.daily_checkin(session, user)
    entry = session.exec(select(LedgerEntry)).first()
    entry.amount = 10**6
    with pytest.raises(RuntimeError, match="append-only"):
        session.commit()
    session.rollback()
    with pytest.raises(RuntimeError, match="append-only"):
        session.delete(session.exec(select(LedgerTransaction)).first())
        session.commit()
    session.rollback()
    assert gacha.ledger.balance(session, user, "gems") == gacha.ledger.CHECKIN_REWARD


def test_ten_pull_debits_grants_cards_updates_pity_and_records_pulls(session, make_user, banner):
    user = make_user()
    fund(session, user, 1000)
    outcome = gacha.pulls.draw(session, user, banner.id, 10, "k1", client_seed="lucky")
    assert not outcome.replayed and len(outcome.pulls) == 10
    assert [p.nonce for p in outcome.pulls] == list(range(10))
    assert any(p.rarity in ("SR", "SSR") for p in outcome.pulls)  # ten-pull guarantee
    assert all(p.client_seed == "lucky" and p.transaction_id == outcome.transaction.id
               for p in outcome.pulls)
    assert gacha.ledger.balance(session, user, "gems") == 0
    assert outcome.pity.total_pulls == 10
    assert_consistent_with_ledger(session, user, banner.id)


def test_replaying_a_draw_key_returns_the_original_and_changes_nothing(session, make_user, banner):
    user = make_user()
    fund(session, user, 2000)
    first = gacha.pulls.draw(session, user, banner.id, 10, "same-key")
    before = _ledger_snapshot(session)
    again = gacha.pulls.draw(session, user, banner.id, 10, "same-key")
    assert again.replayed
    assert [p.id for p in again.pulls] == [p.id for p in first.pulls]
    assert again.transaction.id == first.transaction.id
    assert _ledger_snapshot(session) == before
    assert gacha.ledger.balance(session, user, "gems") == 1000


def test_reusing_a_key_for_a_different_draw_is_a_conflict(session, make_user, banner):
    user = make_user()
    fund(session, user, 2000)
    gacha.pulls.draw(session, user, banner.id, 1, "key")
    before = _ledger_snapshot(session)
    with pytest.raises(KindredError) as error:
        gacha.pulls.draw(session, user, banner.id, 10, "key")
    assert error.value.status == 409 and error.value.code == "idempotency_key_reused"
    assert _ledger_snapshot(session) == before


def test_draw_without_enough_currency_leaves_the_ledger_unchanged(session, make_user, banner):
    user = make_user()
    fund(session, user, 999)
    before = _ledger_snapshot(session)
    with pytest.raises(KindredError) as error:
        gacha.pulls.draw(session, user, banner.id, 10, "too-poor")
    assert error.value.status == 402 and "999" in error.value.message
    assert _ledger_snapshot(session) == before
    assert gacha.pulls.pity_of(session, user, banner.id).pulls_since_ssr == 0
    assert gacha.ledger.balance(session, user, "gems") == 999
    # the refused key was not consumed
    fund(session, user, 1, key="top-up")
    assert len(gacha.pulls.draw(session, user, banner.id, 10, "too-poor").pulls) == 10


def test_draws_on_ended_or_upcoming_banners_are_refused(session, make_user, banner):
    user = make_user()
    fund(session, user, 1000)
    now = datetime.now(timezone.utc)
    ended = gacha.banners.create_banner(session, "Past", [], banner.featured_character_ids + [2, 3],
                                        starts_at=now - timedelta(days=10), ends_at=now - timedelta(days=1))
    upcoming = gacha.banners.create_banner(session, "Soon", [], [1, 2, 3], starts_at=now + timedelta(days=1))
    session.commit()
    before = _ledger_snapshot(session)
    for closed, code in ((ended, "banner_ended"), (upcoming, "banner_not_started")):
        with pytest.raises(KindredError) as error:
            gacha.pulls.draw(session, user, closed.id, 1, f"k-{closed.id}")
        assert error.value.code == code and error.value.status == 409
    with pytest.raises(KindredError) as error:
        gacha.pulls.draw(session, user, 999, 1, "nope")
    assert error.value.status == 404
    assert _ledger_snapshot(session) == before


@pytest.mark.parametrize("count", [0, -1, 2, 11, 100, 10**12, 1.0, 10.0, "10", True, None, [1]])
def test_counts_other_than_one_or_ten_are_refused(session, make_user, banner, count):
    user = make_user()
    fund(session, user, 10**6)
    before = _ledger_snapshot(session)
    with pytest.raises(KindredError) as error:
        gacha.pulls.draw(session, user, banner.id, count, "k")
    assert error.value.code == "invalid_count" and error.value.status == 400
    assert _ledger_snapshot(session) == before


def test_duplicates_become_shards_and_shards_buy_any_card(session, make_user, banner):
    user = make_user()
    fund(session, user, 100 * 400)
    for i in range(40):  # 28 cards: duplicates come quickly
        gacha.pulls.draw(session, user, banner.id, 10, f"d{i}")
        if gacha.ledger.balance(session, user, "shards") >= gacha.collection.SHARD_PRICE["R"]:
            break
    pulls = session.exec(select(Pull).where(Pull.user_id == user)).all()
    shards = gacha.ledger.balance(session, user, "shards")
    assert shards == sum(p.shards for p in pulls) >= gacha.collection.SHARD_PRICE["R"]
    assert all(p.shards == gacha.pulls.SHARDS_FOR_DUPLICATE[p.rarity] for p in pulls if p.duplicate)
    wanted = next(c for c in gacha.collection.collection(session, user) if c["rarity"] == "R")
    gacha.collection.exchange_shards(session, user, wanted["id"], "buy-1")
    gacha.collection.exchange_shards(session, user, wanted["id"], "buy-1")  # replay: bought once
    assert gacha.ledger.balance(session, user, "shards") == shards - gacha.collection.SHARD_PRICE["R"]
    bought = next(c for c in gacha.collection.collection(session, user) if c["id"] == wanted["id"])
    assert bought["count"] == wanted["count"] + 1
    assert_consistent_with_ledger(session, user, banner.id)
    ssr = next(c for c in gacha.collection.collection(session, user) if c["rarity"] == "SSR")
    before = _ledger_snapshot(session)
    with pytest.raises(KindredError) as error:
        gacha.collection.exchange_shards(session, user, ssr["id"], "buy-ssr")
    assert error.value.status == 402 and _ledger_snapshot(session) == before


def test_premium_comes_only_from_admin_grants_and_pays_for_draws(session, make_user, banner):
    user = make_user()
    with pytest.raises(KindredError):
        gacha.ledger.admin_grant(session, user, "shards", 10, "no")
    with pytest.raises(KindredError):
        gacha.ledger.admin_grant(session, user, "premium", -10, "neg")
    fund(session, user, 100, "premium")
    gacha.pulls.draw(session, user, banner.id, 1, "p", currency="premium")
    assert gacha.ledger.balances(session, user)["premium"] == 0
    assert gacha.ledger.balances(session, user)["gems"] == 0


def test_verify_needs_the_revealed_seed_and_then_recomputes_every_pull(session, make_user, banner):
    user = make_user()
    fund(session, user, 2000)
    committed = gacha.pulls.current_seed(session, user).seed_hash
    outcome = gacha.pulls.draw(session, user, banner.id, 10, "v")
    outcome2 = gacha.pulls.draw(session, user, banner.id, 10, "v2", client_seed="mine")
    with pytest.raises(KindredError) as error:
        gacha.pulls.verify_pull(session, user, outcome.pulls[0].id)
    assert error.value.code == "seed_not_revealed"
    revealed, new = gacha.pulls.rotate_seed(session, user)
    assert revealed.seed_hash == committed and new.seed_hash != committed
    assert new.next_nonce == 0 and gacha.pulls.current_seed(session, user).id == new.id
    for pull in outcome.pulls + outcome2.pulls:
        report = gacha.pulls.verify_pull(session, user, pull.id)
        assert report["verified"], report
        assert report["server_seed"] == revealed.seed and report["seed_hash"] == committed
    # a tampered record no longer verifies
    other_card = session.exec(select(Card).where(Card.id != outcome.pulls[0].card_id)).first()
    session.execute(sa.update(Pull).where(Pull.id == outcome.pulls[0].id)
                    .values(card_id=other_card.id))
    session.commit()
    session.expire_all()
    assert not gacha.pulls.verify_pull(session, user, outcome.pulls[0].id)["verified"]


def test_someone_elses_pull_cannot_be_verified(session, make_user, banner):
    owner, other = make_user(), make_user()
    fund(session, owner, 100)
    pull = gacha.pulls.draw(session, owner, banner.id, 1, "x").pulls[0]
    gacha.pulls.rotate_seed(session, owner)
    with pytest.raises(KindredError) as error:
        gacha.pulls.verify_pull(session, other, pull.id)
    assert error.value.status == 404


def test_history_csv_lists_pulls_and_reveals_only_rotated_seeds(session, make_user, banner):
    user = make_user()
    fund(session, user, 1100)
    gacha.pulls.draw(session, user, banner.id, 10, "h1")
    gacha.pulls.rotate_seed(session, user)
    gacha.pulls.draw(session, user, banner.id, 1, "h2")
    rows = list(csv.DictReader(io.StringIO(gacha.banners.history_csv(session, user))))
    assert len(rows) == 11 and tuple(rows[0]) == gacha.banners.HISTORY_COLUMNS
    assert all(r["server_seed"] for r in rows[:10]) and rows[10]["server_seed"] == ""
    assert {r["rarity"] for r in rows} <= {"N", "R", "SR", "SSR"}
    later = datetime.now(timezone.utc) + timedelta(days=91)
    assert gacha.banners.history_csv(session, user, now=later).count("\n") == 1  # header only


def test_seeding_is_idempotent_and_every_character_has_four_rarities(session):
    first = gacha.banners.seed_gacha(session)
    second = gacha.banners.seed_gacha(session)
    assert first.id == second.id
    cards = session.exec(select(Card)).all()
    characters = {c.character_id for c in cards}
    assert len(cards) == 4 * len(characters) >= 24
    pool = gacha.banners.banner_pool(first)
    assert pool.digest() == first.pool_digest
    assert len(pool.featured_ids("SSR")) == 1 and pool.featured_ids("N") == ()


def test_disclosure_uses_the_rules_the_draw_uses(session):
    banner = gacha.banners.create_banner(session, "Custom", [1], [1, 2, 3],
                                         starts_at=datetime.now(timezone.utc),
                                         rules=BannerRules(ssr_rate=0.03, sr_rate=0.12, r_rate=0.35,
                                                           n_rate=0.5, hard_pity=60, soft_pity_start=45))
    session.commit()
    published = gacha.banners.banner_disclosure(session, banner.id)
    assert published["rarities"]["SSR"]["base_rate"] == 0.03
    assert published["ssr"]["hard_pity"] == 60
    assert published["pool_digest"] == banner.pool_digest
    assert abs(sum(i["consolidated_probability"] for i in published["items"]) - 1) < 1e-9
    assert {i["card"]["character_id"] for i in published["items"]} == {1, 2, 3}


def test_a_draw_announces_cards_drawn_once_even_when_replayed(app):
    seen = []
    app.extensions["kindred.events"].subscribe(CardsDrawn, seen.append)
    with Session(app.extensions["kindred.db"], expire_on_commit=False) as session:
        banner = gacha.banners.seed_gacha(session)
        user = User(username="drawer", username_key="drawer", password_hash="x")
        session.add(user)
        session.commit()
        fund(session, user.id, 1000)
        outcome = gacha.pulls.draw(session, user.id, banner.id, 10, "announced")
        assert seen == [CardsDrawn(user_id=user.id, banner_id=banner.id,
                                   pull_ids=tuple(p.id for p in outcome.pulls),
                                   rarities=tuple(p.rarity for p in outcome.pulls),
                                   currency="gems", cost=1000)]
        replay = gacha.pulls.draw(session, user.id, banner.id, 10, "announced")
        assert replay.replayed and len(seen) == 1
