"""A creator in a real browser writes per-level behaviour notes and builds a branching story in the
studio, saves, and finds it all again after a reload, stored in the card's extensions next to the
keys it came with; a broken story is refused with its reason on the page and nothing is stored."""
import re
import secrets

import pytest

from tests.support.browser import TIMEOUT_MS, browser, page  # noqa: F401  (fixtures)
from tests.support.live_server import live_server

SCREENSHOT = "/tmp/kindred-studio-relationship.png"
IMPORTED_KEYS = {"talkativeness": "0.5", "kindred/v3": {"nickname": "Lan"},
                 "kindred/greeting_levels": [0, "Friend"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("studio-relationship-server"),
                     model_path=str(tiny_model_dir), max_new_tokens=8,
                     extra_env={"EMBED_ON_PUBLISH": "0"}) as running:
        yield running
        running.assert_no_tracebacks()


@pytest.fixture(autouse=True)
def patient_expect():
    """Assertions wait as long as actions do (a busy machine can take more than 5 s to answer)."""
    from playwright.sync_api import expect
    expect.set_options(timeout=TIMEOUT_MS)
    yield
    expect.set_options(timeout=None)


@pytest.fixture
def creator(page, server):
    """A signed-up creator: make(extensions) -> the id of a new character of theirs."""
    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": f"maker_{secrets.token_hex(4)}", "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    csrf = signup.json()["csrf_token"]

    def make(extensions):
        created = page.request.post(server.url + "/api/characters", headers={"X-CSRF-Token": csrf},
                                    data={"name": "Lantern Keeper",
                                          "alternate_greetings": ["Hi.", "Oh, you."],
                                          "extensions": extensions})
        assert created.status == 201, created.text()
        return created.json()["character"]["id"]
    return make


def _stored_extensions(page, server, character_id):
    setup = page.request.get(f"{server.url}/api/studio/relationship-setup?character_id={character_id}")
    assert setup.ok, setup.text()
    return setup.json()["extensions"]


def _stories(page, server, character_id):
    return page.request.get(f"{server.url}/api/characters/{character_id}/stories").json()["stories"]


def _open_studio(page, server, character_id):
    from playwright.sync_api import expect
    page.goto(f"{server.url}/studio/{character_id}")
    expect(page.locator("#level-notes textarea[data-level-name=Stranger]")).to_be_visible()


def _build_story(page):
    """The Lighthouse: chapter 1 "Storm Night" with a choice leading to chapter 2 "Dawn"."""
    page.click("#add-story")
    story = page.locator("#stories > .story").last
    story.locator(".story-title").fill("The Lighthouse")
    story.locator(".story-description").fill("A stormy night at the lighthouse.")
    story.locator(".story-level").select_option("Acquaintance")
    first = story.locator(".chapters > .chapter").nth(0)
    first.locator(".chapter-title").fill("Storm Night")
    first.locator(".chapter-scene").fill("*Rain lashes the glass.* You made it, {{user}}.")
    first.locator(".chapter-instructions").fill("Be brave but worried about the lamp.")
    first.locator(".chapter-goal").fill("Keep the lamp lit.")
    first.locator(".chapter-keywords").fill("lamp, light ,")
    first.locator(".chapter-reward").fill("20")
    story.locator(".add-chapter").click()
    second = story.locator(".chapters > .chapter").nth(1)
    second.locator(".chapter-title").fill("Dawn")
    second.locator(".chapter-level").select_option("Friend")
    first.locator(".add-choice").click()
    choice = first.locator(".choices > .choice").nth(0)
    choice.locator(".choice-label").fill("Climb the stairs")
    choice.locator(".choice-next").select_option(label="2. Dawn")
    return story


LIGHTHOUSE = {
    "id": "the-lighthouse", "title": "The Lighthouse", "description": "A stormy night at the lighthouse.",
    "required_level": "Acquaintance", "start": "storm-night",
    "chapters": [
        {"id": "storm-night", "title": "Storm Night",
         "scene": "*Rain lashes the glass.* You made it, {{user}}.",
         "instructions": "Be brave but worried about the lamp.", "goal": "Keep the lamp lit.",
         "goal_keywords": ["lamp", "light"], "required_level": 0, "reward": 20,
         "choices": [{"id": "climb-the-stairs", "label": "Climb the stairs", "next": "dawn"}]},
        {"id": "dawn", "title": "Dawn", "scene": "", "instructions": "", "goal": "",
         "goal_keywords": [], "required_level": "Friend", "choices": []}]}


def test_notes_and_a_branching_story_are_saved_into_the_card_and_load_back(page, server, creator):
    from playwright.sync_api import expect
    character_id = creator(IMPORTED_KEYS)
    _open_studio(page, server, character_id)
    page.fill("textarea[data-level-name=Stranger]", "Keeps the door on the chain.")
    page.fill("textarea[data-level-name=Soulmate]", "Leaves the lamp on for {{user}}.")
    _build_story(page)
    page.click("#save")
    expect(page.locator("#studio-status")).to_have_text("Saved.")
    expect(page.locator("#studio-error")).to_be_hidden()

    assert _stored_extensions(page, server, character_id) == {
        **IMPORTED_KEYS,
        "kindred/levels": {"Stranger": "Keeps the door on the chain.",
                           "Soulmate": "Leaves the lamp on for {{user}}."},
        "kindred/stories": [LIGHTHOUSE]}
    assert [(s["key"], s["title"], s["chapters"], s["required_level"], s["required_level_name"])
            for s in _stories(page, server, character_id)] == [
        ("the-lighthouse", "The Lighthouse", 2, 1, "Acquaintance")]

    page.reload()
    expect(page.locator("textarea[data-level-name=Stranger]")).to_have_value("Keeps the door on the chain.")
    expect(page.locator("textarea[data-level-name=Soulmate]")).to_have_value(
        "Leaves the lamp on for {{user}}.")
    expect(page.locator("textarea[data-level-name=Friend]")).to_have_value("")
    story = page.locator("#stories > .story")
    expect(story).to_have_count(1)
    expect(story.locator(".story-id")).to_have_value("the-lighthouse")
    expect(story.locator(".story-level")).to_have_value("Acquaintance")
    expect(story.locator(".story-start option:checked")).to_have_text("1. Storm Night")
    chapters = story.locator(".chapters > .chapter")
    expect(chapters.nth(0).locator(".chapter-id")).to_have_value("storm-night")
    expect(chapters.nth(0).locator(".chapter-keywords")).to_have_value("lamp, light")
    expect(chapters.nth(0).locator(".chapter-reward")).to_have_value("20")
    expect(chapters.nth(1).locator(".chapter-level")).to_have_value("Friend")
    expect(chapters.nth(1).locator(".chapter-reward")).to_have_value("")
    choice = chapters.nth(0).locator(".choices > .choice")
    expect(choice.locator(".choice-id")).to_have_value("climb-the-stairs")
    expect(choice.locator(".choice-next option:checked")).to_have_text("2. Dawn")
    page.locator("#stories-section").screenshot(path=SCREENSHOT)
    page.click("#save")  # saving again unchanged stores the same card
    expect(page.locator("#studio-status")).to_have_text("Saved.")
    assert _stored_extensions(page, server, character_id)["kindred/stories"] == [LIGHTHOUSE]
    assert page.script_errors == []


def test_a_broken_story_is_refused_with_its_reason_and_nothing_is_stored(page, server, creator):
    from playwright.sync_api import expect
    character_id = creator(IMPORTED_KEYS)
    _open_studio(page, server, character_id)
    story = _build_story(page)
    story.locator(".chapters > .chapter").nth(1).locator(".remove-chapter").click()
    next_select = story.locator(".choice-next")
    expect(next_select.locator("option:checked")).to_have_text('missing chapter "dawn"')
    page.click("#save")
    error = page.locator("#studio-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("story 1 ('the-lighthouse'): chapter 'storm-night': choice "
                                  "'climb-the-stairs' leads to unknown chapter 'dawn'")
    expect(story).to_have_class(re.compile(r"\bhas-problem\b"))
    expect(page.locator("#studio-status")).to_have_text("")
    assert _stored_extensions(page, server, character_id) == IMPORTED_KEYS

    next_select.select_option(label="ends the story")
    story.locator(".add-chapter").click()
    story.locator(".chapters > .chapter").nth(1).locator(".chapter-title").fill("Storm again")
    story.locator(".chapters > .chapter").nth(1).locator(".chapter-id").fill("storm-night")
    page.click("#save")
    expect(error).to_contain_text("chapter id 'storm-night' is used by 2 chapters")
    assert _stored_extensions(page, server, character_id) == IMPORTED_KEYS
    assert _stories(page, server, character_id) == []

    story.locator(".chapters > .chapter").nth(1).locator(".chapter-id").fill("")
    page.click("#save")
    expect(page.locator("#studio-status")).to_have_text("Saved.")
    expect(error).to_be_hidden()
    stored = _stored_extensions(page, server, character_id)["kindred/stories"][0]
    assert [c["id"] for c in stored["chapters"]] == ["storm-night", "storm-again"]
    assert stored["chapters"][0]["choices"][0]["next"] is None
    assert page.script_errors == []


def test_notes_stored_as_a_list_or_keyed_by_number_load_into_their_levels(page, server, creator):
    from playwright.sync_api import expect
    listed = creator({"kindred/levels": ["List stranger.", "", "List friend."]})
    _open_studio(page, server, listed)
    expect(page.locator("textarea[data-level-name=Stranger]")).to_have_value("List stranger.")
    expect(page.locator("textarea[data-level-name=Acquaintance]")).to_have_value("")
    expect(page.locator("textarea[data-level-name=Friend]")).to_have_value("List friend.")

    keyed = creator({**IMPORTED_KEYS, "kindred/levels": {"5": "By number.", "close friend": "By name.",
                                                         "Bestie": "No such level."}})
    _open_studio(page, server, keyed)
    expect(page.locator("textarea[data-level-name=Soulmate]")).to_have_value("By number.")
    expect(page.locator("textarea[data-level-name='Close Friend']")).to_have_value("By name.")
    expect(page.locator("textarea[data-level-name=Stranger]")).to_have_value("")
    expect(page.locator("#kept-notes")).to_contain_text('"Bestie"')
    page.click("#save")
    expect(page.locator("#studio-status")).to_have_text("Saved.")
    assert _stored_extensions(page, server, keyed) == {**IMPORTED_KEYS, "kindred/levels": {
        "Close Friend": "By name.", "Soulmate": "By number.", "Bestie": "No such level."}}
    assert page.script_errors == []


def test_a_new_characters_notes_and_story_are_stored_with_its_first_save(page, server, creator):
    from playwright.sync_api import expect
    creator({})  # signs the creator up
    page.goto(server.url + "/studio")
    page.fill("input[name=name]", "Fresh Keeper")
    page.fill("textarea[data-level-name=Friend]", "Shares the last biscuit.")
    _build_story(page)
    page.click("#save")
    expect(page.locator("#studio-status")).to_have_text("Saved.")
    page.wait_for_url(re.compile(r"/studio/\d+$"))
    character_id = int(page.url.rsplit("/", 1)[1])
    assert _stored_extensions(page, server, character_id) == {
        "kindred/levels": {"Friend": "Shares the last biscuit."}, "kindred/stories": [LIGHTHOUSE]}
    assert [s["key"] for s in _stories(page, server, character_id)] == ["the-lighthouse"]
    assert page.script_errors == []
