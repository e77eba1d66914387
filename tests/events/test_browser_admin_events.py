"""/admin/events in Chromium against one real server: an admin creates a running event with a
contest from the form, its strip shows on the home page and the feed, and after it ends the
admin judges it from the page. A member gets 403 at /admin/events and a visitor is sent to log
in; no script error and no Content-Security-Policy violation."""
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session

from core.db import make_engine
from events.models import CommunityEvent
from tests.support import browser as browser_fixtures
from tests.support.live_server import live_server
from tests.support.users import update_user

browser, page = browser_fixtures.browser, browser_fixtures.page  # the fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("events-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=4) as running:
        yield running
        running.assert_no_tracebacks()


def sign_up(page, server, role=None) -> str:
    username = f"u_{secrets.token_hex(4)}"
    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": username, "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    if role:
        engine = make_engine(f"sqlite:///{server.instance_dir / 'kindred.db'}")
        update_user(engine, username, role=role)
        engine.dispose()
    return username


def end_event(server, name: str) -> None:
    engine = make_engine(f"sqlite:///{server.instance_dir / 'kindred.db'}")
    with Session(engine) as session:
        event = session.query(CommunityEvent).filter_by(name=name).one()
        now = datetime.now(timezone.utc)
        event.starts_at, event.ends_at = now - timedelta(days=2), now - timedelta(minutes=1)
        session.add(event)
        session.commit()
    engine.dispose()


def watch(page) -> list:
    violations = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text or m.text.startswith("Refused to") else None)
    return violations


def test_an_admin_creates_an_event_sees_its_strip_and_judges_it(page, server):
    sign_up(page, server, role="admin")
    violations = watch(page)
    page.goto(server.url + "/admin/events")
    assert page.title().startswith("Events")
    now = datetime.now(timezone.utc)
    page.fill("#event-name", "Lantern Week")
    page.fill("#event-theme", "Stories by lantern light")
    page.fill("#event-starts", (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#event-ends", (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#event-topics", "What would you carry a lantern for?")
    page.fill("#event-prizes", "300, 100")
    page.click("#event-save")
    page.locator("#events-notice").wait_for()
    assert "Lantern Week is saved (running)" in page.locator("#events-notice").inner_text()
    row = page.locator("#event-rows tr")
    row.first.wait_for()
    assert row.count() == 1 and row.locator(".event-status").inner_text() == "running"
    assert "prizes 300/100" in row.locator(".event-contest").inner_text()

    page.goto(server.url + "/")
    strip = page.locator("#event-strip")
    assert strip.locator(".event-name").inner_text() == "Lantern Week"
    assert "What would you carry a lantern for?" in strip.inner_text()
    page.goto(server.url + "/feed")
    assert page.locator("#event-strip .event-name").inner_text() == "Lantern Week"

    # A bad edit shows the server's message and changes nothing.
    page.goto(server.url + "/admin/events")
    page.locator("#event-rows .edit-event").click()
    assert page.locator("#event-name").input_value() == "Lantern Week"
    page.fill("#event-prizes", "300, 0")
    page.click("#event-save")
    page.locator("#events-error").wait_for()
    assert "positive whole numbers" in page.locator("#events-error").inner_text()

    end_event(server, "Lantern Week")
    page.goto(server.url + "/admin/events")
    page.locator("#event-rows .judge-event").click()
    page.locator("#events-notice").wait_for()
    assert "Lantern Week is judged: 0 winner(s) paid." in page.locator("#events-notice").inner_text()
    page.locator("#event-rows .event-status", has_text="judged").wait_for()
    assert page.locator("#event-rows .judge-event").count() == 0
    page.goto(server.url + "/")
    assert page.locator("#event-strip").count() == 0  # over: no strip
    assert page.script_errors == [] and violations == []


def test_the_events_page_is_for_admins_only(page, server):
    response = page.goto(server.url + "/admin/events")
    assert "/login" in page.url  # a visitor logs in first
    sign_up(page, server)
    response = page.goto(server.url + "/admin/events")
    assert response.status == 403
    assert page.locator("#event-form").count() == 0
