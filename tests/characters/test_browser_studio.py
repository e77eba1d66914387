"""A creator in a real browser (Playwright + Debian Chromium) against the real server with the tiny
model: drafts from one line, fills the studio form and a lorebook entry, previews the chat with
the private draft, publishes, and finds the character through search and its tag page."""
import re
import secrets

import pytest

from tests.support.browser import browser, page  # noqa: F401  (fixtures)
from tests.support.live_server import live_server

SCREENSHOT = "/tmp/kindred-studio.png"


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("studio-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8, extra_env={"EMBED_ON_PUBLISH": "0"}) as running:
        yield running
        running.assert_no_tracebacks()


def test_creator_fills_the_studio_previews_publishes_and_is_found(page, server):
    from playwright.sync_api import expect

    username = f"maker_{secrets.token_hex(4)}"
    signup = page.request.post(server.url + "/api/auth/signup",
                               data={"username": username, "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    page.goto(server.url + "/studio")

    page.fill("#one-line", "a moth librarian who guards forbidden books")
    page.click("#draft-with-ai")
    expect(page.locator("#studio")).to_have_attribute("data-drafting", "false", timeout=60_000)
    expect(page.locator("#studio-status")).to_contain_text("Drafted")

    name = f"Mothwick {secrets.token_hex(3)}"
    page.fill("input[name=name]", name)
    page.fill("input[name=tagline]", "Keeper of the night stacks")
    page.fill("textarea[name=description]", "{{char}} is a moth who runs a candlelit library.")
    page.fill("textarea[name=personality]", "gentle, secretive")
    page.fill("textarea[name=scenario]", "{{user}} visits after closing time.")
    page.fill("textarea[name=first_mes]", "*flutters* The library is closed, {{user}}.")
    page.fill("textarea[name=alternate_greetings]", "Shh!\n---\nLooking for a book?")
    page.fill("textarea[name=mes_example]", "<START>\n{{user}}: Hi\n{{char}}: Shh.")
    page.fill("textarea[name=system_prompt]", "")
    page.fill("textarea[name=post_history_instructions]", "Stay hushed.")
    page.fill("input[name=tags]", "mothlore, cozy")
    page.select_option("select[name=content_rating]", "sfw")
    page.fill("input[name=language]", "en")
    page.fill("textarea[name=creator_notes]", "Test character.")
    page.click("#add-entry")
    entry = page.locator("#lore-entries .lore-entry").last
    entry.locator(".entry-keys").fill("forbidden")
    entry.locator(".entry-content").fill("The forbidden books whisper at night.")
    page.click("#save")
    expect(page.locator("#studio-status")).to_have_text("Saved.")
    page.wait_for_url(re.compile(r"/studio/\d+$"))
    character_id = int(page.url.rsplit("/", 1)[1])

    page.click("#preview")
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator("#messages .message.assistant .content").first).to_contain_text(
        "The library is closed")
    page.screenshot(path=SCREENSHOT, full_page=True)
    search = page.request.get(server.url + "/api/search?q=" + name.split()[0]).json()
    assert character_id not in [c["id"] for c in search["results"]]  # still a private draft

    page.click("#publish")
    expect(page.locator("#studio-state")).to_contain_text("published (public) · v1")
    expect(page.locator("#versions li[data-version='1']")).to_be_visible()
    expect(page.locator("#stats dd[data-stat=conversations]")).to_have_text(re.compile(r"\d"))
    expect(page.locator("#stats dd[data-stat=paid_sales]")).to_have_text("0")  # paid content
    expect(page.locator("#stats dd[data-stat=gems_earned]")).to_have_text("0")

    page.goto(server.url + "/search")
    page.fill("#search-q", name.split()[0])
    page.click("#search-form button[type=submit]")
    card = page.locator(f"#search-results .character-card[data-character-id='{character_id}']")
    expect(card).to_contain_text(name)
    card.locator("button.like").click()
    expect(card.locator("button.like")).to_have_attribute("aria-pressed", "true")
    page.goto(server.url + "/tags/mothlore")
    expect(page.locator(f"#search-results [data-character-id='{character_id}']")).to_be_visible()
    page.goto(f"{server.url}/creators/{username}")
    expect(page.locator(f"#creator-characters [data-character-id='{character_id}']")).to_be_visible()
    assert page.script_errors == []
