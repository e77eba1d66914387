"""A user in a real browser (Playwright + Debian Chromium) on /discover against the real server:
pick interests, swipe right with the arrow key (the hand of 3 is refilled), swipe left by
dragging with the mouse, undo, and find each of those recorded by the API."""
import secrets
from pathlib import Path

import pytest

from tests.support.browser import TIMEOUT_MS, browser, page  # noqa: F401  (fixtures)
from tests.support.live_server import live_server

SCREENSHOT = Path("/tmp/kindred-discover.png")


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("discover-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8) as running:
        yield running
        running.assert_no_tracebacks()


def test_onboarding_then_key_swipe_drag_swipe_and_undo(page, server):
    from playwright.sync_api import expect

    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": f"swiper_{secrets.token_hex(4)}", "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    deals = []
    page.on("request", lambda r: deals.append(r.url) if "/api/deck?" in r.url else None)
    page.goto(server.url + "/discover")

    expect(page.locator("#onboarding")).to_be_visible()
    for tag in ("fantasy", "cozy"):
        chip = page.locator(f'.interest-chip[data-tag="{tag}"]')
        chip.click()
        expect(chip).to_have_attribute("aria-pressed", "true")
    page.click("#onboarding-done")
    expect(page.locator("#onboarding")).to_be_hidden()
    interests = page.request.get(server.url + "/api/me/interests").json()
    assert sorted(interests["tags"]) == ["cozy", "fantasy"] and interests["onboarded"]

    top = page.locator("#deck .swipe-card.top")
    expect(top).to_be_visible()
    expect(top.locator(".reason")).not_to_be_empty()
    expect(top.locator(".greeting-preview")).not_to_be_empty()
    first = int(top.get_attribute("data-character-id"))
    page.screenshot(path=str(SCREENSHOT))

    page.keyboard.press("ArrowRight")
    expect(top).not_to_have_attribute("data-character-id", str(first))
    assert latest_swipe(page, server) == (first, "right", False)
    expect(page.locator("#swipe-status")).to_contain_text("You liked")
    # The hand is refilled after every swipe, so the card dealt next knows this swipe.
    page.wait_for_function("() => document.querySelectorAll('#deck .swipe-card').length === 3")
    assert len(deals) == 2 and all("n=3" in url for url in deals), deals

    second = int(top.get_attribute("data-character-id"))
    box = top.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 260, y + 10, steps=12)
    page.mouse.up()
    expect(top).not_to_have_attribute("data-character-id", str(second))
    assert latest_swipe(page, server) == (second, "left", False)

    page.click("#undo")
    expect(top).to_have_attribute("data-character-id", str(second))
    assert latest_swipe(page, server) == (second, "left", True)
    assert page.script_errors == []


def latest_swipe(page, server):
    swipes = page.request.get(server.url + "/api/swipes?limit=1").json()["swipes"]
    return (swipes[0]["character_id"], swipes[0]["direction"], swipes[0]["undone"])
