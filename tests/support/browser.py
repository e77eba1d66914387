"""Playwright driving Debian's Chromium: the `browser` and `page` fixtures for browser tests."""
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
def browser():
    require(CHROMIUM.exists(), "Debian chromium is not installed (apt-get install chromium)")
    require(SOCKET_IO_ASSET.exists(), "app/static/vendor/socket.io.min.js is missing; "
                                      "run `make setup` to copy it from node_modules")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


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
