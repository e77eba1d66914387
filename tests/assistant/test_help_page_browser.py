"""/help in Chromium against a live server (tiny model): a question gets an answer with a source
link that opens the docs page at its heading; an off-topic one offers a ticket, which is sent."""
import secrets

import pytest

from tests.support import browser as browser_fixtures
from tests.support.live_server import live_server

browser, page = browser_fixtures.browser, browser_fixtures.page  # the fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("help-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8) as running:
        yield running
        running.assert_no_tracebacks()


def test_the_help_desk_answers_with_a_source_link_and_takes_a_ticket(server, page):
    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": f"help_{secrets.token_hex(4)}", "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    page.goto(server.url + "/help")
    page.fill("#help-question", "How do I change my password?")
    page.click("#help-ask")
    source = page.locator("#help-source-list a.help-source").first
    source.wait_for()
    assert page.locator("#help-answer").get_attribute("data-confident") == "true"
    assert source.get_attribute("href") == "/help/docs/api#accounts"
    assert "api: Accounts" in source.inner_text()
    source.click()
    page.wait_for_url("**/help/docs/api#accounts")
    assert page.locator("#accounts").inner_text() == "Accounts"

    page.goto(server.url + "/help")
    page.fill("#help-question", "What is the capital of Australia?")
    page.click("#help-ask")
    page.locator("#help-answer[data-confident=false]").wait_for()
    assert "not sure" in page.locator("#help-answer-text").inner_text()
    assert page.locator("#help-sources").is_hidden()
    page.fill("#ticket-details", "I could not find it anywhere.")
    page.click("#ticket-send")
    page.locator("#ticket-done").wait_for()
    assert page.locator("#ticket-done").inner_text().startswith("Ticket #")
    assert page.script_errors == []
