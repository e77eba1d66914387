"""In a real browser with the tiny model: regenerate, flip between replies, edit and delete."""
import re
import secrets

import pytest

from tests.support.browser import browser, page, open_chat  # noqa: F401  (fixtures)
from tests.support.live_server import live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("branches-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=12) as running:
        yield running
        running.assert_no_tracebacks()


@pytest.fixture
def chat_page(page, server):
    open_chat(page, server, 2)
    return page


def _send(page, text):
    from playwright.sync_api import expect
    page.fill("#composer-input", text)
    page.keyboard.press("Enter")
    expect(page.locator("#messages .message.user").last.locator(".content")).to_have_text(text)
    _wait_idle(page)


def _wait_idle(page):
    from playwright.sync_api import expect
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#messages .message.status-streaming")).to_have_count(0)


def test_regenerate_then_flip_back_to_the_first_reply(chat_page):
    from playwright.sync_api import expect
    page = chat_page
    _send(page, "Hello Bramble")
    last = page.locator("#messages .message.assistant").last
    first_reply = last.locator(".content").text_content()
    page.click("#regenerate")
    expect(last.locator(".flip-count")).to_have_text("2/2")
    _wait_idle(page)
    last.locator("button.flip.prev").click()
    expect(last.locator(".flip-count")).to_have_text("1/2")
    expect(last.locator(".content")).to_have_text(first_reply)
    page.reload()
    expect(page.locator("#messages .message.assistant").last.locator(".content")).to_have_text(first_reply)
    assert page.script_errors == []


def test_editing_my_message_branches_and_gets_a_fresh_reply(chat_page):
    from playwright.sync_api import expect
    page = chat_page
    _send(page, "I like rain")
    mine = page.locator("#messages .message.user").last
    mine.locator("button.edit").click()
    page.fill("#messages .editor", "I like snow")
    page.click("#messages button.save")
    expect(page.locator("#messages .message.user").last.locator(".content")).to_have_text("I like snow")
    expect(page.locator("#messages .message.user").last.locator(".flip-count")).to_have_text("2/2")
    reply = page.locator("#messages .message.user + .message.assistant")
    expect(reply).to_have_count(1)
    _wait_idle(page)
    expect(reply).to_have_class(re.compile(r"status-complete"))
    assert page.script_errors == []


def test_deleting_my_message_removes_it_and_the_reply(chat_page):
    from playwright.sync_api import expect
    page = chat_page
    _send(page, "Delete me")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#messages .message.user").last.locator("button.delete").click()
    expect(page.locator("#messages .message")).to_have_count(1)
    page.reload()
    expect(page.locator("#messages .message")).to_have_count(1)
    assert page.script_errors == []


def test_an_empty_message_is_not_sent_and_a_too_long_one_is_refused(chat_page):
    from playwright.sync_api import expect
    page = chat_page
    page.fill("#composer-input", "   ")
    page.click("#send")
    expect(page.locator("#messages .message")).to_have_count(1)
    page.evaluate("document.getElementById('composer-input').removeAttribute('maxlength')")
    page.fill("#composer-input", "x" * 5000)
    page.click("#send")
    expect(page.locator("#chat-error")).to_contain_text("at most 4000 characters")
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator("#messages .message")).to_have_count(1)


def test_home_lists_characters_without_overlap_and_starts_a_chat(page, server):
    from playwright.sync_api import expect
    page.goto(server.url + "/signup")
    page.fill("input[name=username]", f"home_{secrets.token_hex(4)}")
    page.fill("input[name=password]", "correct horse battery")
    page.check("input[name=accept_rules]")
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(server.url + "/")
    cards = page.locator(".character-card")
    expect(cards.first.locator("img.avatar")).to_be_visible()
    # Polled from here: wait_for_function would eval() a predicate in the page, which the CSP
    # (script-src 'self', no 'unsafe-eval') refuses.
    for _ in range(300):
        if page.evaluate("[...document.querySelectorAll('.character-card img')]"
                         ".every(i => i.complete)"):
            break
        page.wait_for_timeout(100)
    boxes = [cards.nth(i).bounding_box() for i in range(cards.count())]
    avatars = [cards.nth(i).locator("img.avatar").bounding_box() for i in range(cards.count())]
    assert len(boxes) >= 6
    for card, avatar in zip(boxes, avatars):
        assert card["x"] <= avatar["x"] and avatar["x"] + avatar["width"] <= card["x"] + card["width"]
    for a, b in zip(boxes, boxes[1:]):
        if a["y"] == b["y"]:
            assert a["x"] + a["width"] <= b["x"]
    cards.nth(2).get_by_role("button", name="Chat").click()
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    expect(page.locator("#chat-title")).to_have_text("Juniper Okafor")
    page.goto(server.url + "/")
    expect(page.locator(".conversation-link")).to_have_count(1)
    expect(page.locator(".conversation-link strong")).to_have_text("Juniper Okafor")
