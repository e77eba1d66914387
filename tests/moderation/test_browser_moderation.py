"""Moderation in Chromium against the real server: a user reports a character's reply; a
moderator sees it on /moderation with the thread around it and bans its author, whose open chat
socket is ended at once with the reason; the pages keep the CSP (no violation reported)."""
import secrets

import pytest
from sqlmodel import Session, select

from conversations import service as conversations
from conversations.models import Conversation
from core.auth.roles import grant_role
from core.db import make_engine
from tests.support import browser as browser_fixtures
from tests.support.live_server import live_server

browser = browser_fixtures.browser  # the fixture

BAD_GREETING = "A greeting that breaks rule R1 badly."


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("moderation-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=4) as running:
        engine = make_engine(f"sqlite:///{running.instance_dir / 'kindred.db'}")
        running.engine = engine
        yield running
        engine.dispose()


def sign_up(page, server, prefix):
    username = f"{prefix}_{secrets.token_hex(4)}"
    page.goto(server.url + "/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.check("input[name=accept_rules]")
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(server.url + "/")
    return username


def call(page, method, path, body=None):
    """fetch() from the page, with its CSRF token, as the page's own scripts do."""
    return page.evaluate("""async ([method, path, body]) => {
        const response = await fetch(path, {method, credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRF-Token":
                    document.querySelector('meta[name="csrf-token"]').content},
          body: body === null ? undefined : JSON.stringify(body)});
        return {status: response.status, body: await response.json()};
    }""", [method, path, body])


def test_a_moderator_bans_a_reported_author_and_their_chat_socket_ends(browser, server):
    from playwright.sync_api import expect
    contexts = [browser.new_context() for _ in range(3)]
    creator, reader, moderator = (c.new_page() for c in contexts)
    violations = []
    for page in (creator, reader, moderator):
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text else None)
    try:
        sign_up(creator, server, "creator")
        made = call(creator, "POST", "/api/characters", {"name": "Rulebreaker",
                                                         "first_mes": BAD_GREETING})
        assert made["status"] == 201, made
        character_id = made["body"]["character"]["id"]
        assert call(creator, "POST", f"/api/characters/{character_id}/publish", {})["status"] == 200
        # The creator has a chat of their own open (a live socket).
        creator.locator(".character-card").first.get_by_role("button", name="Chat").click()
        creator.wait_for_function("() => typeof socket !== 'undefined' && socket.connected")
        creator.evaluate("() => { socket.on('auth:ended', (d) => { window.endedWith = d; }); }")

        # A reader chats with the character and reports its greeting.
        reader_name = sign_up(reader, server, "reader")
        started = call(reader, "POST", "/api/conversations", {"character_id": character_id})
        conversation_id = started["body"]["conversation"]["id"]
        greeting_id = started["body"]["conversation"]["messages"][0]["id"]
        with Session(server.engine) as session:
            found = session.get(Conversation, conversation_id)
            conversations.append_message(session, found, "user", "That is not okay.")
        report = call(reader, "POST", "/api/reports", {"target_type": "message",
                                                       "target_id": greeting_id,
                                                       "reason": "sexual_minors"})
        assert report["status"] == 201, report

        moderator_name = sign_up(moderator, server, "mod")
        with Session(server.engine) as session:
            grant_role(session, moderator_name, "moderator")
        assert reader_name != moderator_name
        moderator.goto(server.url + "/moderation")
        item = moderator.locator(f'.queue-item[data-target="message:{greeting_id}"]')
        expect(item.locator(".context-line.target")).to_contain_text(BAD_GREETING)
        expect(item.locator(".context")).to_contain_text("That is not okay.")
        expect(item.locator(".reports")).to_contain_text("sexual_minors")
        item.locator("select.action").select_option("ban")
        item.locator("select.rule").select_option("R1")
        item.locator("input.reason").fill("A character built to sexualise a minor.")
        item.get_by_role("button", name="Apply").click()
        expect(moderator.locator("#audit-log")).to_contain_text("ban message")

        creator.wait_for_function("() => !socket.connected && window.endedWith !== undefined",
                                  timeout=10_000)
        ended = creator.evaluate("() => window.endedWith")
        assert ended["rule"] == "R1" and ended["code"] == "banned"
        assert call(creator, "GET", "/api/auth/me")["status"] == 401
        # The banned creator's character is gone from the public list.
        listed = call(reader, "GET", "/api/characters")["body"]
        assert character_id not in [c["id"] for c in listed]
        with Session(server.engine) as session:
            assert session.exec(select(Conversation).where(
                Conversation.id == conversation_id)).one()
        # A plain user gets 403 on the page.
        assert reader.goto(server.url + "/moderation").status == 403
        reader.goto(server.url + "/rules")
        expect(reader.locator("#rules-text")).to_contain_text("R1.")
    finally:
        for context in contexts:
            context.close()
    assert violations == []
    server.assert_no_tracebacks()


def test_sign_up_asks_for_the_rules_and_a_birth_year(browser, server):
    from playwright.sync_api import expect
    context = browser.new_context()
    page = context.new_page()
    username = f"newcomer_{secrets.token_hex(4)}"
    page.goto(server.url + "/signup")
    expect(page.locator("#signup-rules h1, #signup-rules h2").first).to_be_visible()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.fill("input[name=birth_year]", "1990")
    page.click("#auth-form button[type=submit]")
    # Unticked, the browser refuses the form: still on the page, and no account was made.
    assert page.evaluate("document.querySelector('input[name=accept_rules]').validity.valueMissing")
    assert page.url.startswith(server.url + "/signup")
    assert call(page, "POST", "/api/auth/login",
                {"username": username, "password": "correct horse battery"})["status"] == 401

    page.check("input[name=accept_rules]")
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(server.url + "/")
    me = call(page, "GET", "/api/auth/me")["body"]["user"]
    assert (me["birth_year"], me["adult"]) == (1990, True)
    rules = call(page, "GET", "/api/rules")["body"]["rules"]
    assert rules["accepted_version"] == rules["version"]
    context.close()
