"""Gacha pages and card art through the test client, and a 10-pull in a real browser."""
import re
import secrets
from pathlib import Path

import pytest
from sqlmodel import Session, select

from core.db import make_engine
from core.users import User
import gacha.banners
import gacha.ledger
from tests.support.browser import browser, page  # noqa: F401  (fixtures)
from tests.support.live_server import live_server

SCREENSHOT = Path("/tmp/kindred-gacha.png")


@pytest.fixture
def banner_id(app):
    with Session(app.extensions["kindred.db"]) as session:
        return gacha.banners.seed_gacha(session).id


def test_pages_need_a_login_except_the_published_rates(client, banner_id):
    assert client.get("/gacha").status_code == 302
    assert client.get("/gacha/collection").status_code == 302
    rates = client.get(f"/gacha/banners/{banner_id}/rates")
    assert rates.status_code == 200 and b"Published rates" in rates.data
    assert client.get("/gacha/banners/999/rates").status_code == 404


def test_pages_render_for_a_user(auth, banner_id):
    auth.signup()
    for path in ("/gacha", "/gacha/collection"):
        response = auth.call("GET", path)
        assert response.status_code == 200 and b"gacha.css" in response.data
    assert b'href="/gacha"' in auth.call("GET", "/").data


def test_card_art_is_drawn_once_per_card_with_its_rarity_frame(app, client, banner_id):
    cards = client.get(f"/api/banners/{banner_id}/rates").get_json()["items"]
    by_rarity = {item["rarity"]: item["card"] for item in cards}
    images = {}
    for rarity, card in by_rarity.items():
        response = client.get(card["art_url"])
        assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
        images[rarity] = response.data
    assert len(set(images.values())) == 4
    assert client.get(by_rarity["SSR"]["art_url"]).data == images["SSR"]  # cached file
    assert client.get("/gacha/cards/99999.png").status_code == 404


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("gacha-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8) as running:
        engine = make_engine(f"sqlite:///{running.instance_dir / 'kindred.db'}")
        with Session(engine) as session:
            gacha.banners.seed_gacha(session)
        running.engine = engine
        yield running
        engine.dispose()


def test_ten_pull_in_the_browser(page, server):
    from playwright.sync_api import expect

    username = f"gacha_{secrets.token_hex(4)}"
    page.goto(server.url + "/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.check("input[name=accept_rules]")
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(server.url + "/")
    with Session(server.engine) as session:
        user_id = session.exec(select(User.id).where(User.username == username)).one()
        gacha.ledger.admin_grant(session, user_id, "gems", 900, "browser-test")

    page.click("header a[href='/gacha']")
    page.wait_for_url(server.url + "/gacha")
    expect(page.locator("#wallet [data-currency=gems]")).to_have_text("900")
    page.click("#checkin")
    expect(page.locator("#wallet [data-currency=gems]")).to_have_text("1000")
    expect(page.locator("#checkin")).to_be_disabled()
    expect(page.locator(".banner .pity")).to_contain_text("0 pulls since the last SSR")
    seed_hash = page.locator("#seed-hash")
    expect(seed_hash).to_have_text(re.compile(r"^[0-9a-f]{64}$"))

    page.click(".banner .draw-10")
    cards = page.locator("#reveal-cards .pull-card")
    expect(cards).to_have_count(10)
    expect(page.locator("#reveal-cards .pull-card.revealed")).to_have_count(10, timeout=10_000)
    rarities = [cards.nth(i).get_attribute("data-rarity") for i in range(10)]
    assert any(r in ("SR", "SSR") for r in rarities)
    expect(page.locator("#wallet [data-currency=gems]")).to_have_text("0")
    expect(page.locator("#next-nonce")).to_have_text("10")
    page.screenshot(path=str(SCREENSHOT))
    page.click("#reveal-close")
    expect(page.locator("#reveal")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOT.with_name("kindred-gacha-banner.png")), full_page=True)
    since_ssr = rarities[::-1].index("SSR") if "SSR" in rarities else 10
    expect(page.locator(".banner .pity")).to_contain_text(f"{since_ssr} pulls since the last SSR")

    page.click(".banner .draw-1")
    expect(page.locator("#gacha-message")).to_contain_text("costs 100 gems; you have 0")

    page.click("a[href='/gacha/collection']")
    expect(page.locator(".collection-card.owned").first).to_be_visible()
    owned = page.locator(".collection-card.owned").count()
    assert 1 <= owned <= 10
    page.screenshot(path=str(SCREENSHOT.with_name("kindred-gacha-collection.png")))
    ledger = page.locator("#ledger")
    expect(ledger.locator("tr").first).to_contain_text("draw")
    expect(ledger).to_contain_text("-1000")
    expect(ledger).to_contain_text("checkin")
    expect(ledger).to_contain_text("admin grant")
    assert page.script_errors == []
