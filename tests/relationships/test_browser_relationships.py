"""In a real browser with the tiny model: a level-up celebrated live, a story choice, memories."""
import re
import time

import pytest

from tests.support.browser import browser, page, open_chat  # noqa: F401  (fixtures)
from tests.support.live_server import live_server

BRAMBLE = 2  # the seeded cast's second character; `app.setup seed` gives it "The First Frost"


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("relationships-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8, extra_env={"LEVEL_THRESHOLDS": "0,5,30,60,90,120"}) as running:
        yield running
        running.assert_no_tracebacks()


@pytest.fixture
def chat_page(page, server):
    open_chat(page, server, BRAMBLE)
    return page


def test_a_level_up_is_celebrated_and_the_meter_moves(chat_page):
    from playwright.sync_api import expect
    page = chat_page
    expect(page.locator("#relationship-level")).to_have_text("Stranger")
    expect(page.locator("#relationship-points")).to_have_text("0/5")
    page.fill("#composer-input", "I love the smell of rain in autumn.")
    page.keyboard.press("Enter")
    celebration = page.locator("#level-up")
    expect(celebration).to_be_visible()
    expect(celebration).to_contain_text("Level up! You are now Acquaintance.")
    expect(celebration).to_contain_text("Chapter: The First Frost: The Glow Under the Oak")
    expect(page.locator("#relationship-level")).to_have_text("Acquaintance")
    expect(page.locator("#relationship-points")).to_have_text("7/30")
    celebration.locator("button.dismiss").click()
    expect(celebration).to_be_hidden()
    page.reload()
    expect(page.locator("#relationship-level")).to_have_text("Acquaintance")
    assert page.script_errors == []


def test_a_story_is_started_and_a_choice_moves_it_on(chat_page, server):
    from playwright.sync_api import expect
    page = chat_page
    page.locator("#stories summary").click()
    story = page.locator("#story-list li", has_text="The First Frost")
    story.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    panel = page.locator("#story-panel")
    expect(panel.locator("#story-chapter")).to_have_text("Frost on the Moss")
    expect(panel.locator("#story-goal")).to_have_text(re.compile(r"^web_\w+ decides how to spend"))
    expect(page.locator("#messages .message")).to_have_count(1)
    expect(page.locator("#messages .message").first).to_contain_text("Frost has silvered the moss")
    panel.get_by_role("button", name="Watch the frost ferns").click()
    expect(panel.locator("#story-chapter")).to_have_text("Frost Ferns")
    expect(page.locator("#messages .message.user").last).to_contain_text("Watch the frost ferns")
    expect(page.locator("#messages .message.assistant").last).to_contain_text("Tiny white ferns")
    expect(page.locator("#level-up")).to_contain_text("Acquaintance")  # the chapter's reward
    expect(panel.get_by_role("button", name="Follow the glow under the oak")).to_be_enabled()
    story_url = page.url
    page.goto(server.url + "/")
    page.goto(story_url)
    expect(panel.locator("#story-chapter")).to_have_text("Frost Ferns")  # resumed where we left off
    page.locator("#stories summary").click()
    expect(page.locator("#story-list li", has_text="The First Frost").get_by_role("button")
           ).to_have_text("Resume")
    assert page.script_errors == []


def test_the_memory_page_shows_pins_edits_and_forgets(chat_page, server):
    from playwright.sync_api import expect
    page = chat_page
    page.fill("#composer-input", "My dog is called Miso.")
    page.keyboard.press("Enter")
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#relationship-points")).not_to_have_text("0/5")  # hooks have run
    # Memories are extracted after the meter moves (the model judges them), so on a busy machine
    # the page could load before it is stored: wait (bounded) until it is, then open the page.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _stored_memories(page, server):
        page.wait_for_timeout(200)
    page.click("a.nav-link:has-text('Memories')")
    memory = page.locator("#memory-list .memory")
    expect(memory).to_have_count(1, timeout=30_000)
    expect(memory.locator(".content")).to_have_text(re.compile(r"'s dog is called Miso$"))
    expect(memory.locator(".source")).to_contain_text("Bramble")
    memory.locator("button.pin").click()
    expect(memory).to_have_class(re.compile("pinned"))
    memory.locator("button.edit").click()
    page.fill("#memory-list textarea", "The dog is called Miso and loves snow")
    page.click("#memory-list button.save")
    expect(memory.locator(".content")).to_have_text("The dog is called Miso and loves snow")
    page.once("dialog", lambda dialog: dialog.accept())
    memory.locator("button.delete").click()
    expect(memory).to_have_count(0)
    expect(page.locator("#memories-empty")).to_be_visible()
    assert page.script_errors == []


def _stored_memories(page, server) -> list[dict]:
    response = page.request.get(server.url + "/api/memories")
    assert response.ok, response.text()
    return response.json()["memories"]
