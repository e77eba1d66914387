"""In a real browser: giving a card to its character from the collection page."""
import secrets

import pytest
from sqlmodel import Session, select

from core.db import make_engine
from core.users import User
import gacha.collection
import gacha.ledger
from gacha.models import Card
from tests.support.browser import browser, page  # noqa: F401  (fixtures)
from tests.support.live_server import live_server

BRAMBLE = 2  # the seeded cast's second character


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("gift-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8, extra_env={"LEVEL_THRESHOLDS": "0,5,30,60,90,120"}) as running:
        running.engine = make_engine(f"sqlite:///{running.instance_dir / 'kindred.db'}")
        yield running
        running.engine.dispose()
        running.assert_no_tracebacks()


def test_gifting_a_card_from_the_collection_raises_affinity(page, server):
    from playwright.sync_api import expect
    username = f"giver_{secrets.token_hex(4)}"
    signup = page.request.post(server.url + "/api/auth/signup",
                               data={"username": username, "password": "correct horse battery"})
    assert signup.ok
    with Session(server.engine) as session:
        user_id = session.exec(select(User.id).where(User.username == username)).one()
        card = session.exec(select(Card).where(Card.character_id == BRAMBLE,
                                               Card.rarity == "SSR")).one()
        gacha.collection.claim_card(session, user_id, card.id, reason="browser test")
        gacha.ledger.admin_grant(session, user_id, "gems", 300, "browser-gift")
        card_id = card.id

    page.goto(server.url + "/gacha/collection")
    owned = page.locator(f".collection-card[data-card-id='{card_id}']")
    expect(owned).to_have_class("collection-card rarity-SSR owned")
    owned.locator("button.gift").click()
    message = page.locator("#gacha-message")
    expect(message).to_contain_text("+40 affinity")
    expect(message).to_contain_text("Level up: you are now Friend")
    expect(owned).to_contain_text("Not owned yet")
    expect(owned.locator("button.gift")).to_have_count(0)
    state = page.request.get(f"{server.url}/api/relationships/{BRAMBLE}").json()
    assert state["affinity"] == 40 and state["level_name"] == "Friend"
    page.goto(server.url + "/gacha/ledger")
    expect(page.locator("a[href='/api/gacha/history.csv']")).to_be_visible()
    first = page.locator("#ledger tr").first
    expect(first).to_contain_text("Granted by an admin")
    expect(first.locator("td.balance")).to_have_text("300")
    assert page.script_errors == []
