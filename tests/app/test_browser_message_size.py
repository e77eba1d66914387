"""The chat page refuses, with an error it shows, a message larger than the server's Socket.IO
limit, instead of sending it and losing the connection (issue 14, row 12; docs/socketio.md).
Playwright + Debian Chromium against the real server with the tiny random-weight Llama. The
server's limit is set to 32 KiB, below the page's fallback of 64 KiB, so the test shows that the
page takes the limit from the Engine.IO handshake."""
import secrets

import pytest

from tests.support.browser import browser, page  # noqa: F401  (fixtures)
from tests.support.live_server import live_server

LIMIT = 32 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("browser-size"), model_path=str(tiny_model_dir),
                     max_new_tokens=16,
                     extra_env={"SOCKETIO_MAX_MESSAGE_BYTES": str(LIMIT)}) as running:
        yield running
        running.assert_no_tracebacks()


def test_a_message_over_the_socket_limit_is_refused_in_the_page_and_nothing_is_lost(page, server):
    from playwright.sync_api import expect

    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": f"size_{secrets.token_hex(4)}", "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    created = page.request.post(server.url + "/api/conversations", data={"character_id": 1},
                                headers={"X-CSRF-Token": signup.json()["csrf_token"]})
    assert created.status == 201, created.text()
    conversation_id = created.json()["conversation"]["id"]
    page.goto(f"{server.url}/chat/{conversation_id}")
    expect(page.locator(".chat[data-joined=true]")).to_have_count(1)

    # The textarea's maxlength stops typing and pasting at MAX_MESSAGE_CHARS; a script (or a
    # larger MAX_MESSAGE_CHARS) can still put more there.
    page.evaluate("() => { document.getElementById('composer-input').value = "
                  "'é'.repeat(20000); }")  # 40,000 bytes of UTF-8: over 32 KiB, under 64
    page.click("#send")
    expect(page.locator("#chat-error")).to_be_visible()
    expect(page.locator("#chat-error")).to_contain_text("too long to send")
    expect(page.locator("#chat-error")).to_contain_text("at most 32 KB")
    assert len(page.input_value("#composer-input")) == 20000  # kept, to be shortened
    expect(page.locator("#send")).to_be_enabled()

    page.fill("#composer-input", "Hello after that")
    page.click("#send")
    expect(page.locator("#messages .message.user .content")).to_have_text(["Hello after that"])
    expect(page.locator("#chat-error")).to_be_hidden()
    page.wait_for_function("() => document.getElementById('stop').hidden")
    messages = page.request.get(f"{server.url}/api/conversations/{conversation_id}").json()
    users = [m["content"] for m in messages["conversation"]["messages"] if m["role"] == "user"]
    assert users == ["Hello after that"]
    assert page.script_errors == []
