"""Paid content: creators price a story or a card in gems; buying is one idempotent ledger
transaction from the buyer to the creator (minus the operator's fee); moderators refund.
Every refusal leaves the ledger, the purchases and the collections as they were."""
import threading

import pytest
from sqlmodel import Session, select

from billing import purchases
from gacha.ledger import ledger_problems
from moderation.models import ModerationAction
from tests.billing.paid_support import Shop, gems, grant, snapshot, system_gems
from tests.moderation.conftest import Person

FEE = 10  # PAID_CONTENT_FEE_PERCENT's default


@pytest.fixture
def shop(app):
    creator = Person(app)
    return creator, Shop(app, creator.id)


def price(person, kind, item_id, amount):
    return person.call("PUT", f"/api/paid/{kind}/{item_id}/price", json={"gems": amount})


def buy(person, kind, item_id, key="buy-1"):
    return person.call("POST", "/api/purchases",
                       json={"kind": kind, "id": item_id, "idempotency_key": key})


# --- buying -----------------------------------------------------------------------------------

@pytest.mark.both_databases
def test_buying_a_card_moves_gems_to_its_creator_and_the_card_into_the_collection(app, shop):
    creator, items = shop
    card_id = items.card_ids["SSR"]
    assert price(creator, "card", card_id, 200).status_code == 200
    buyer = Person(app)
    grant(app, buyer.id, 500)

    response = buy(buyer, "card", card_id)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["balance"] == 300 and body["replayed"] is False
    assert body["purchase"]["gems"] == 200 and body["purchase"]["creator_gems"] == 180
    assert gems(app, creator.id) == 180
    assert system_gems(app) == 20  # the operator's fee
    cards = {c["id"]: c for c in buyer.get("/api/gacha/collection").get_json()["cards"]}
    assert cards[card_id]["count"] == 1
    assert cards[card_id]["price"] == 200 and cards[card_id]["purchased"] is True
    mine = buyer.get("/api/me/purchases").get_json()["purchases"]
    assert [(p["kind"], p["item_id"], p["status"]) for p in mine] == [("card", card_id, "active")]
    with Session(app.extensions["kindred.db"]) as session:
        assert ledger_problems(session) == []


@pytest.mark.both_databases
def test_the_same_key_again_returns_the_first_purchase_and_charges_nothing(app, shop):
    creator, items = shop
    price(creator, "story", items.story_id, 50)
    buyer = Person(app)
    grant(app, buyer.id, 120)
    first = buy(buyer, "story", items.story_id, key="same")
    before = snapshot(app, buyer.id, creator.id)

    again = buy(buyer, "story", items.story_id, key="same")

    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["replayed"] is True
    assert again.get_json()["purchase"]["id"] == first.get_json()["purchase"]["id"]
    assert again.get_json()["balance"] == 70
    assert snapshot(app, buyer.id, creator.id) == before


@pytest.mark.both_databases
def test_buying_the_same_item_twice_with_a_new_key_is_refused(app, shop):
    creator, items = shop
    price(creator, "story", items.story_id, 50)
    buyer = Person(app)
    grant(app, buyer.id, 120)
    assert buy(buyer, "story", items.story_id, key="one").status_code == 201
    before = snapshot(app, buyer.id, creator.id)

    second = buy(buyer, "story", items.story_id, key="two")

    assert second.status_code == 409
    assert second.get_json()["error"]["code"] == "already_purchased"
    assert snapshot(app, buyer.id, creator.id) == before


@pytest.mark.both_databases
def test_too_few_gems_is_402_and_the_ledger_is_unchanged(app, shop):
    creator, items = shop
    price(creator, "card", items.card_ids["SR"], 300)
    buyer = Person(app)
    grant(app, buyer.id, 299)
    before = snapshot(app, buyer.id, creator.id)

    response = buy(buyer, "card", items.card_ids["SR"])

    assert response.status_code == 402
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_funds" and "300" in error["message"]
    assert snapshot(app, buyer.id, creator.id) == before


def test_bad_purchases_are_refused_and_change_nothing(app, shop):
    creator, items = shop
    price(creator, "card", items.card_ids["R"], 40)
    buyer = Person(app)
    grant(app, buyer.id, 500)
    before = snapshot(app, buyer.id, creator.id)
    cases = [
        ({"kind": "sticker", "id": 1, "idempotency_key": "k1"}, 400, "invalid_kind"),
        ({"kind": "card", "id": 999999, "idempotency_key": "k2"}, 404, "not_found"),
        ({"kind": "card", "id": "1", "idempotency_key": "k3"}, 404, "not_found"),
        ({"kind": "card", "id": items.card_ids["R"]}, 400, "invalid_idempotency_key"),
        ({"kind": "card", "id": items.card_ids["N"], "idempotency_key": "k4"}, 409,
         "not_for_sale"),
        ({"kind": "story", "id": items.story_id, "idempotency_key": "k5"}, 409, "not_for_sale"),
        ({"kind": "card", "id": items.card_ids["R"], "idempotency_key": "k6", "extra": 1}, 400,
         "unknown_field"),
    ]
    for body, status, code in cases:
        response = buyer.call("POST", "/api/purchases", json=body)
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code), body
    own = buy(creator, "card", items.card_ids["R"], key="mine")
    assert own.status_code == 403 and own.get_json()["error"]["code"] == "own_item"
    assert snapshot(app, buyer.id, creator.id) == before


def test_a_key_reused_for_another_item_is_409(app, shop):
    creator, items = shop
    price(creator, "card", items.card_ids["R"], 40)
    price(creator, "card", items.card_ids["SR"], 40)
    buyer = Person(app)
    grant(app, buyer.id, 500)
    assert buy(buyer, "card", items.card_ids["R"], key="k").status_code == 201
    before = snapshot(app, buyer.id, creator.id)
    reused = buy(buyer, "card", items.card_ids["SR"], key="k")
    assert reused.status_code == 409
    assert reused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert snapshot(app, buyer.id, creator.id) == before


def test_a_card_already_in_the_collection_is_not_sold_again(app, shop):
    from gacha.collection import claim_card
    creator, items = shop
    card_id = items.card_ids["SSR"]
    price(creator, "card", card_id, 100)
    buyer = Person(app)
    grant(app, buyer.id, 500)
    with Session(app.extensions["kindred.db"]) as session:
        claim_card(session, buyer.id, card_id, reason="level claim")
    before = snapshot(app, buyer.id, creator.id)
    response = buy(buyer, "card", card_id)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "already_owned"
    assert snapshot(app, buyer.id, creator.id) == before


def test_what_a_buyer_cannot_see_cannot_be_bought(app):
    from discovery.models import DiscoveryPreferences
    creator, buyer = Person(app), Person(app)
    grant(app, buyer.id, 500)
    private = Shop(app, creator.id, visibility="private")
    mature = Shop(app, creator.id, rating="mature")
    public = Shop(app, creator.id)
    for shop in (private, mature, public):
        assert price(creator, "card", shop.card_ids["SR"], 10).status_code == 200
    with Session(app.extensions["kindred.db"]) as session:  # the buyer blocked the creator
        session.add(DiscoveryPreferences(user_id=buyer.id, blocked_creator_ids=[creator.id]))
        session.commit()
    before = snapshot(app, buyer.id, creator.id)
    for shop in (private, mature, public):
        response = buy(buyer, "card", shop.card_ids["SR"], key=f"k{shop.character_id}")
        assert response.status_code == 404, response.get_json()
    assert snapshot(app, buyer.id, creator.id) == before


# --- prices -----------------------------------------------------------------------------------

def test_only_the_creator_or_an_admin_sets_a_price_and_bad_prices_change_nothing(app, shop):
    creator, items = shop
    card_id = items.card_ids["SR"]
    stranger, admin = Person(app), Person(app, role="admin")
    before = snapshot(app, creator.id)
    for amount in (0, -5, 10_001, 10**12, 2.5, "100", True, None):
        response = price(creator, "card", card_id, amount)
        assert response.status_code == 400, amount
        assert response.get_json()["error"]["code"] == "invalid_price"
    stranger_try = price(stranger, "card", card_id, 100)
    assert stranger_try.status_code == 403
    assert stranger_try.get_json()["error"]["code"] == "not_creator"
    assert price(creator, "card", 999999, 100).status_code == 404
    assert price(creator, "sticker", card_id, 100).status_code == 400
    assert stranger.call("DELETE", f"/api/paid/card/{card_id}/price").status_code == 403
    assert snapshot(app, creator.id) == before

    assert price(creator, "card", card_id, 10_000).get_json()["price"]["gems"] == 10_000
    assert price(admin, "card", card_id, 75).get_json()["price"]["gems"] == 75
    assert creator.call("DELETE", f"/api/paid/card/{card_id}/price").get_json()["price"] is None
    buyer = Person(app)
    grant(app, buyer.id, 100)
    assert buy(buyer, "card", card_id).get_json()["error"]["code"] == "not_for_sale"


def test_a_private_characters_items_are_not_found_for_others(app):
    creator, stranger = Person(app), Person(app)
    private = Shop(app, creator.id, visibility="private")
    assert price(stranger, "story", private.story_id, 10).status_code == 404


# --- stories ------------------------------------------------------------------------------------

def test_a_priced_story_previews_its_first_chapter_and_needs_buying_to_go_on(app, shop):
    creator, items = shop
    price(creator, "story", items.story_id, 60)
    player = Person(app)
    grant(app, player.id, 100)
    listed = player.get(f"/api/characters/{items.character_id}/stories").get_json()["stories"]
    assert [(s["price"], s["purchased"], s["unlocked"], s["free_preview"]) for s in listed] == \
        [(60, False, False, True)]

    started = player.call("POST", f"/api/stories/{items.story_id}/start")
    assert started.status_code == 201, started.get_json()
    progress_id = started.get_json()["progress"]["id"]
    locked = player.call("POST", f"/api/story-progress/{progress_id}/choose",
                         json={"choice_id": "enter"})
    assert locked.status_code == 402
    assert locked.get_json()["error"]["code"] == "purchase_required"
    assert player.get(f"/api/story-progress/{progress_id}").get_json()["progress"][
        "chapter"]["id"] == "gate"

    assert buy(player, "story", items.story_id).status_code == 201
    going_on = player.call("POST", f"/api/story-progress/{progress_id}/choose",
                           json={"choice_id": "enter"})
    assert going_on.status_code == 200, going_on.get_json()
    assert going_on.get_json()["progress"]["chapter"]["id"] == "stalls"
    listed = player.get(f"/api/characters/{items.character_id}/stories").get_json()["stories"]
    assert (listed[0]["purchased"], listed[0]["unlocked"]) == (True, True)
    own = creator.get(f"/api/characters/{items.character_id}/stories").get_json()["stories"]
    assert own[0]["unlocked"] is True  # the creator plays their own story


# --- refunds ----------------------------------------------------------------------------------

@pytest.mark.both_databases
def test_a_moderator_refunds_a_card_it_leaves_the_collection_and_the_audit_log_says_why(app, shop):
    creator, items = shop
    card_id = items.card_ids["SSR"]
    price(creator, "card", card_id, 200)
    buyer, moderator = Person(app), Person(app, role="moderator")
    grant(app, buyer.id, 500)
    purchase_id = buy(buyer, "card", card_id).get_json()["purchase"]["id"]

    response = moderator.call("POST", f"/api/admin/purchases/{purchase_id}/refund",
                              json={"reason": "Bought by mistake"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["buyer_balance"] == 500 and body["purchase"]["status"] == "refunded"
    assert body["purchase"]["refund"]["reason"] == "Bought by mistake"
    assert gems(app, creator.id) == 0 and system_gems(app) == 0
    cards = {c["id"]: c for c in buyer.get("/api/gacha/collection").get_json()["cards"]}
    assert cards[card_id]["count"] == 0 and cards[card_id]["purchased"] is False
    with Session(app.extensions["kindred.db"]) as session:
        logged = session.exec(select(ModerationAction).where(
            ModerationAction.target_type == "purchase")).one()
        assert (logged.action, logged.target_id, logged.user_id, logged.moderator_id) == \
            ("refund", purchase_id, buyer.id, moderator.id)
        assert ledger_problems(session) == []
    audit = moderator.get("/api/moderation/audit").get_json()
    assert any(a["action"] == "refund" for a in audit["actions"])


@pytest.mark.both_databases
def test_refunding_twice_or_by_a_non_moderator_changes_nothing(app, shop):
    creator, items = shop
    price(creator, "story", items.story_id, 80)
    buyer, moderator = Person(app), Person(app, role="moderator")
    grant(app, buyer.id, 100)
    purchase_id = buy(buyer, "story", items.story_id).get_json()["purchase"]["id"]
    before = snapshot(app, buyer.id, creator.id)
    refund = f"/api/admin/purchases/{purchase_id}/refund"

    assert buyer.call("POST", refund, json={"reason": "please"}).status_code == 403
    assert creator.call("POST", refund, json={"reason": "please"}).status_code == 403
    assert moderator.call("POST", refund, json={"reason": ""}).status_code == 400
    assert moderator.call("POST", refund, json={}).status_code == 400
    assert moderator.call("POST", refund, json={"reason": "nul\x00"}).status_code == 400
    assert moderator.call("POST", refund, json={"reason": "r" * 501}).status_code == 400
    assert moderator.call("POST", "/api/admin/purchases/999999/refund",
                          json={"reason": "x"}).status_code == 404
    assert snapshot(app, buyer.id, creator.id) == before

    assert moderator.call("POST", refund, json={"reason": "chargeback"}).status_code == 200
    refunded = snapshot(app, buyer.id, creator.id)
    again = moderator.call("POST", refund, json={"reason": "chargeback"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_refunded"
    assert snapshot(app, buyer.id, creator.id) == refunded


def test_a_refunded_story_locks_again_and_can_be_bought_again(app, shop):
    creator, items = shop
    price(creator, "story", items.story_id, 30)
    player, moderator = Person(app), Person(app, role="moderator")
    grant(app, player.id, 100)
    purchase_id = buy(player, "story", items.story_id, key="first").get_json()["purchase"]["id"]
    progress_id = player.call("POST", f"/api/stories/{items.story_id}/start").get_json()[
        "progress"]["id"]
    assert player.call("POST", f"/api/story-progress/{progress_id}/choose",
                       json={"choice_id": "enter"}).status_code == 200
    played = gems(app, player.id)  # 70, plus the gems the finished chapter earned
    refunded = moderator.call("POST", f"/api/admin/purchases/{purchase_id}/refund",
                              json={"reason": "x"})
    assert refunded.status_code == 200, refunded.get_json()
    assert gems(app, player.id) == played + 30

    resumed = player.call("POST", f"/api/stories/{items.story_id}/start")
    assert resumed.status_code == 402 and resumed.get_json()["error"]["code"] == "purchase_required"
    assert player.call("POST", f"/api/story-progress/{progress_id}/choose",
                       json={"choice_id": "home"}).status_code == 402
    assert buy(player, "story", items.story_id, key="second").status_code == 201
    assert gems(app, player.id) == played


@pytest.mark.both_databases
def test_a_refund_after_the_creator_spent_the_gems_is_covered_by_the_operator(app, shop):
    creator, items = shop
    price(creator, "story", items.story_id, 100)
    buyer, moderator = Person(app), Person(app, role="moderator")
    grant(app, buyer.id, 100)
    purchase_id = buy(buyer, "story", items.story_id).get_json()["purchase"]["id"]
    assert gems(app, creator.id) == 90
    other = Shop(app, buyer.id)  # the creator spends 60 of the 90 on the buyer's own card
    price(buyer, "card", other.card_ids["N"], 60)
    assert buy(creator, "card", other.card_ids["N"], key="spend").status_code == 201
    assert gems(app, creator.id) == 30

    response = moderator.call("POST", f"/api/admin/purchases/{purchase_id}/refund",
                              json={"reason": "never delivered"})

    assert response.status_code == 200
    assert gems(app, creator.id) == 0  # what was left, never below zero
    assert gems(app, buyer.id) == 54 + 100  # 60 - its own fee of 6, plus the whole refund
    with Session(app.extensions["kindred.db"]) as session:
        assert ledger_problems(session) == []


def test_moderators_find_purchases_by_buyer(app, shop):
    creator, items = shop
    price(creator, "card", items.card_ids["R"], 10)
    buyer, moderator = Person(app), Person(app, role="moderator")
    grant(app, buyer.id, 10)
    buy(buyer, "card", items.card_ids["R"])
    found = moderator.get(f"/api/admin/purchases?buyer={buyer.username}").get_json()["purchases"]
    assert [p["buyer_id"] for p in found] == [buyer.id]
    assert buyer.get("/api/admin/purchases").status_code == 403


# --- the creator dashboard and the event log -----------------------------------------------------

def test_the_creator_dashboard_counts_sales_and_gems_earned(app, shop):
    creator, items = shop
    price(creator, "card", items.card_ids["SR"], 100)
    price(creator, "story", items.story_id, 50)
    moderator = Person(app, role="moderator")
    bought = []
    for index in range(3):
        buyer = Person(app)
        grant(app, buyer.id, 200)
        bought.append(buy(buyer, "card", items.card_ids["SR"]).get_json()["purchase"]["id"])
        buy(buyer, "story", items.story_id, key="story")
    moderator.call("POST", f"/api/admin/purchases/{bought[0]}/refund", json={"reason": "x"})

    stats = creator.get(f"/api/characters/{items.character_id}/stats").get_json()

    assert stats["paid_content"] == {"sales": 5, "refunds": 1, "gems_earned": 2 * 90 + 3 * 45}


def test_purchases_and_refunds_are_in_the_event_log(app, shop):
    from analytics.models import AnalyticsEvent
    creator, items = shop
    price(creator, "card", items.card_ids["SR"], 100)
    buyer, moderator = Person(app), Person(app, role="moderator")
    grant(app, buyer.id, 100)
    purchase_id = buy(buyer, "card", items.card_ids["SR"]).get_json()["purchase"]["id"]
    moderator.call("POST", f"/api/admin/purchases/{purchase_id}/refund", json={"reason": "x"})
    app.extensions["kindred.analytics"].flush()
    with Session(app.extensions["kindred.db"]) as session:
        rows = {e.name: e for e in session.exec(select(AnalyticsEvent).where(
            AnalyticsEvent.name.in_(["content_purchased", "purchase_refunded"])))}
    assert rows["content_purchased"].user_id == buyer.id
    assert rows["content_purchased"].properties["gems"] == 100
    assert rows["content_purchased"].properties["creator_gems"] == 90
    assert rows["purchase_refunded"].properties["moderator_id"] == moderator.id
    assert rows["purchase_refunded"].properties["creator_clawback"] == 90


# --- concurrency ------------------------------------------------------------------------------

@pytest.mark.postgresql_only  # concurrent writers: PostgreSQL's row locks (SQLite has one writer)
def test_two_concurrent_buys_with_the_same_key_charge_once(app, shop):
    creator, items = shop
    price(creator, "story", items.story_id, 70)
    buyer = Person(app)
    grant(app, buyer.id, 100)
    results, start = [], threading.Barrier(2)

    def attempt():
        with Session(app.extensions["kindred.db"]) as session:
            start.wait()
            bought = purchases.buy(session, buyer.id, "story", items.story_id, "race", FEE)
            results.append((bought.purchase.id, bought.replayed))

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({purchase_id for purchase_id, _ in results}) == 1
    assert sorted(replayed for _, replayed in results) == [False, True]
    assert gems(app, buyer.id) == 30 and gems(app, creator.id) == 63
    with Session(app.extensions["kindred.db"]) as session:
        assert ledger_problems(session) == []


def test_an_admin_prices_a_seeded_characters_card_and_its_sale_goes_to_the_operator(app):
    from gacha.models import Card
    admin, buyer, moderator = Person(app, role="admin"), Person(app), Person(app, role="moderator")
    from characters.models import Character
    from gacha.banners import ensure_cards
    with Session(app.extensions["kindred.db"]) as session:
        seeded = session.exec(select(Character).where(Character.creator_id.is_(None))).first()
        ensure_cards(session, [seeded])
        session.commit()
        card_id = session.exec(select(Card.id).where(Card.character_id == seeded.id,
                                                     Card.rarity == "SR")).one()
    assert price(admin, "card", card_id, 120).status_code == 200
    grant(app, buyer.id, 200)
    bought = buy(buyer, "card", card_id).get_json()["purchase"]
    assert (bought["creator_id"], bought["creator_gems"]) == (None, 0)
    assert system_gems(app) == 120
    moderator.call("POST", f"/api/admin/purchases/{bought['id']}/refund", json={"reason": "x"})
    assert gems(app, buyer.id) == 200 and system_gems(app) == 0
    with Session(app.extensions["kindred.db"]) as session:
        assert ledger_problems(session) == []
