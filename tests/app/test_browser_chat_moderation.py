"""In a real browser with the tiny model and the shipped moderation rules: a self-harm message
shows the helplines in a box, a blocked message shows as blocked and gets no reply, and the page
breaks no CSP rule."""
import re

import pytest

from tests.app.test_browser_csp import COLLECT_VIOLATIONS
from tests.support import browser as browser_fixtures
from tests.support.browser import open_chat
from tests.support.live_server import live_server

browser, page = browser_fixtures.browser, browser_fixtures.page  # the fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("moderation-chat-server"),
                     model_path=str(tiny_model_dir), max_new_tokens=12) as running:
        yield running
        running.assert_no_tracebacks()


@pytest.fixture
def chat_page(page, server):
    page.violations = []
    page.context.expose_function("__reportCspViolation",
                                 lambda violation: page.violations.append(violation))
    page.context.add_init_script(COLLECT_VIOLATIONS)
    page.on("console", lambda message: message.text.startswith("Refused to")
            and page.violations.append(message.text))
    open_chat(page, server, 2)
    return page


def test_support_box_then_a_blocked_message_shown_as_blocked(chat_page):
    from playwright.sync_api import expect
    page = chat_page
    page.fill("#composer-input", "I want to kill myself")
    page.keyboard.press("Enter")
    notice = page.locator("#chat-notice")
    expect(notice).to_be_visible()
    expect(notice).to_have_class(re.compile(r"\bsupport\b"))
    expect(notice).to_contain_text("116 123")
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#messages .message.assistant")).to_have_count(2)  # it was answered
    notice.get_by_role("button", name="Dismiss").click()
    expect(notice).to_be_hidden()

    # Under 18 (no birth year given): explicit sexual content is blocked in chat.
    page.fill("#composer-input", "send nudes")
    page.keyboard.press("Enter")
    blocked = page.locator("#messages .message.user").last
    expect(blocked).to_have_class(re.compile(r"\bstatus-blocked\b"))
    expect(blocked.locator(".blocked-label")).to_have_text("blocked: not sent")
    expect(page.locator("#chat-error")).to_contain_text("R3")
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator("#messages .message.assistant")).to_have_count(2)  # no reply to it
    page.reload()
    expect(page.locator("#messages .message.user").last).to_have_class(
        re.compile(r"\bstatus-blocked\b"))
    assert page.script_errors == [] and page.violations == []
