"""The home page and the feed in Chromium against one real server: after an admin renames the
instance and features a character, the header and the home page show the new name, and the
pick is labelled "Editors' pick" on the home page and in the feed's strip, with no script error
and no Content-Security-Policy violation."""
import secrets

import pytest

from core.db import make_engine
from tests.support import browser as browser_fixtures
from tests.support.live_server import live_server
from tests.support.users import update_user

browser, page = browser_fixtures.browser, browser_fixtures.page  # the fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("curation-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=4) as running:
        yield running
        running.assert_no_tracebacks()


def test_the_home_page_shows_the_instance_name_and_a_labelled_pick(page, server):
    username = f"admin_{secrets.token_hex(4)}"
    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": username, "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    engine = make_engine(f"sqlite:///{server.instance_dir / 'kindred.db'}")
    update_user(engine, username, role="admin")
    engine.dispose()
    headers = {"X-CSRF-Token": signup.json()["csrf_token"]}
    renamed = page.request.fetch(server.url + "/api/admin/instance", method="PATCH", headers=headers,
                                 data={"name": "Lantern Hall", "tagline": "Stories by the fire."})
    assert renamed.status == 200, renamed.text()
    picked = page.request.post(server.url + "/api/admin/picks", headers=headers,
                               data={"kind": "character", "id": 1, "note": "Start here"})
    assert picked.status == 201, picked.text()
    name = picked.json()["pick"]["title"]
    violations = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text or m.text.startswith("Refused to") else None)

    page.goto(server.url + "/")
    assert page.title() == "Lantern Hall · Stories by the fire."
    assert page.locator("header .brand").inner_text() == "Lantern Hall"
    assert page.locator("#instance-name").inner_text() == "Lantern Hall"
    shown = page.locator("#editors-picks .editors-pick")
    assert shown.count() == 1
    assert shown.locator(".pick-label").inner_text() == "Editors' pick"
    assert shown.locator("h3").inner_text() == name
    assert "Start here" in shown.inner_text()

    page.goto(server.url + "/feed?tab=new")
    strip = page.locator("#feed-picks a.feed-pick")
    strip.first.wait_for()
    assert strip.count() == 1 and strip.first.get_attribute("href") == "/characters/1"
    assert strip.locator(".pick-label").inner_text() == "Editors' pick"
    assert page.title() == "Feed · Lantern Hall"
    assert page.script_errors == [] and violations == []
