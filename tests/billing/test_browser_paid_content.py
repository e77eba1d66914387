"""In a real browser: buying a creator's card on the collection page and a creator's story on
the chat page, with gems."""
import secrets
from types import SimpleNamespace

import pytest
from sqlmodel import Session, select

from billing import paid
from config import Config
from core.db import make_engine
from core.users import User
from gacha import ledger
from tests.billing.paid_support import Shop
from tests.support.browser import browser, page  # noqa: F401  (fixtures)
from tests.support.live_server import live_server

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("paid-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8) as running:
        running.engine = make_engine(f"sqlite:///{running.instance_dir / 'kindred.db'}")
        yield running
        running.engine.dispose()
        running.assert_no_tracebacks()


def sign_up(page, server, prefix: str) -> tuple[int, str]:
    """A new user signed up through the page's own cookies: (id, csrf token)."""
    username = f"{prefix}_{secrets.token_hex(4)}"
    signup = page.request.post(server.url + "/api/auth/signup",
                               data={"username": username, "password": PASSWORD})
    assert signup.status == 201, signup.text()
    with Session(server.engine) as session:
        return (session.exec(select(User.id).where(User.username == username)).one(),
                signup.json()["csrf_token"])


def creator_shop(server, price_card: int, price_story: int) -> Shop:
    """A creator (made in the database) with a public character whose SSR card and story are
    priced, as the studio's price routes would set them."""
    settings = {k: getattr(Config, k) for k in dir(Config) if k.isupper()}
    with Session(server.engine) as session:
        creator = User(username=f"maker_{secrets.token_hex(4)}", password_hash="x")
        creator.username_key = creator.username
        session.add(creator)
        session.commit()
        creator_id = creator.id
    shop = Shop(SimpleNamespace(extensions={"kindred.db": server.engine}, config=settings),
                creator_id)
    with Session(server.engine) as session:
        actor = session.get(User, creator_id)
        paid.set_price(session, actor, "card", shop.card_ids["SSR"], price_card, 10_000)
        paid.set_price(session, actor, "story", shop.story_id, price_story, 10_000)
    return shop


def test_a_creators_card_is_bought_with_gems_on_the_collection_page(page, server):
    from playwright.sync_api import expect
    shop = creator_shop(server, price_card=150, price_story=40)
    buyer_id, _csrf = sign_up(page, server, "buyer")
    with Session(server.engine) as session:
        ledger.admin_grant(session, buyer_id, "gems", 200, "browser-paid")
    card_id = shop.card_ids["SSR"]

    page.goto(server.url + "/gacha/collection")
    offer = page.locator(f".collection-card[data-card-id='{card_id}']")
    expect(offer).to_contain_text("Not owned yet")
    offer.locator("button.buy-gems").click()

    expect(page.locator("#gacha-message")).to_contain_text("for 150 gems")
    expect(offer).to_contain_text("Owned ×1")
    expect(offer).to_contain_text("Bought with gems")
    expect(offer.locator("button.buy-gems")).to_have_count(0)
    expect(page.locator('#wallet [data-currency="gems"]')).to_have_text("50")
    assert page.script_errors == []


def test_a_priced_story_is_bought_from_the_chat_page_and_then_started(page, server):
    from playwright.sync_api import expect
    shop = creator_shop(server, price_card=150, price_story=40)
    buyer_id, csrf = sign_up(page, server, "reader")
    with Session(server.engine) as session:
        ledger.admin_grant(session, buyer_id, "gems", 100, "browser-story")
    created = page.request.post(server.url + "/api/conversations",
                                data={"character_id": shop.character_id},
                                headers={"X-CSRF-Token": csrf})
    assert created.status == 201, created.text()
    page.goto(f"{server.url}/chat/{created.json()['conversation']['id']}")
    page.wait_for_selector(".chat[data-joined=true]")

    page.locator("#stories summary").click()
    story = page.locator("#story-list li", has_text="The Night Market")
    expect(story).to_contain_text("First chapter free")
    story.locator("button.buy-story").click()

    expect(story.locator("button.buy-story")).to_have_count(0)
    purchases = page.request.get(server.url + "/api/me/purchases").json()["purchases"]
    assert [(p["kind"], p["gems"], p["status"]) for p in purchases] == [("story", 40, "active")]
    story.locator("button.start-story").click()
    page.wait_for_url("**/chat/*")
    expect(page.locator("#story-title")).to_have_text("The Night Market")
    assert page.script_errors == []
