"""Playwright driving Debian's Chromium: the `browser` and `page` fixtures for browser tests."""
import secrets
from pathlib import Path

import pytest

from tests.support import require
from tests.support.live_server import REPO

CHROMIUM = Path("/usr/bin/chromium")
SOCKET_IO_ASSET = REPO / "app" / "static" / "vendor" / "socket.io.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
TIMEOUT_MS = 90_000  # the real model on one CPU thread; every wait is bounded by this
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser(request):
    """One Chromium for the whole test process (started on first use, stopped at its end),
    shared by the modules: each test works in a browser context of its own (`page`), which is
    what keeps tests apart, so a browser per module only added ~1 s of start-up each."""
    require(CHROMIUM.exists(), "Debian chromium is not installed (apt-get install chromium)")
    require(SOCKET_IO_ASSET.exists(), "app/static/vendor/socket.io.min.js is missing; "
                                      "run `make setup` to copy it from node_modules")
    return _shared_browser(request.config)


_SHARED: dict = {}  # "playwright" and "browser", for this test process


def _shared_browser(config):
    launched = _SHARED.get("browser")
    if launched is not None and launched.is_connected():
        return launched
    if "playwright" not in _SHARED:
        from playwright.sync_api import sync_playwright
        _SHARED["playwright"] = sync_playwright().start()
        config.add_cleanup(_stop_shared)
    # launched anew if the last one went away (a crash must not fail every later module)
    _SHARED["browser"] = _SHARED["playwright"].chromium.launch(executable_path=str(CHROMIUM),
                                                               args=CHROMIUM_ARGS)
    return _SHARED["browser"]


def _stop_shared() -> None:
    launched, playwright = _SHARED.pop("browser", None), _SHARED.pop("playwright", None)
    try:
        if launched is not None and launched.is_connected():
            launched.close()
    finally:
        if playwright is not None:
            playwright.stop()


@pytest.fixture
def page(browser, request):
    viewport = getattr(request, "param", None) or {"width": 1280, "height": 800}
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    opened.script_errors = []
    opened.on("pageerror", lambda error: opened.script_errors.append(str(error)))
    yield opened
    context.close()


def open_chat(page, server, character_id: int, prefix: str = "web") -> int:
    """Sign a new user up through the API (the page's cookies), start a chat with
    `character_id` and open its page once its socket joined; the conversation's id."""
    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": f"{prefix}_{secrets.token_hex(4)}", "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    created = page.request.post(server.url + "/api/conversations",
                                data={"character_id": character_id},
                                headers={"X-CSRF-Token": signup.json()["csrf_token"]})
    assert created.status == 201, created.text()
    conversation_id = created.json()["conversation"]["id"]
    page.goto(f"{server.url}/chat/{conversation_id}")
    page.wait_for_selector(".chat[data-joined=true]")
    return conversation_id
