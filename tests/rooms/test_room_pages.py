"""Two people in one room, in Chromium against the real server with the tiny model: one creates
the room and an invite link, the other joins through the link's page; both see each other
online and typing, each other's messages, and the same character turn streamed token by token
with its speaker's avatar, and one more when the owner makes the character speak; the pages
keep the CSP (no violation reported, no script error)."""
import re
import secrets

import pytest

from tests.support import browser as browser_fixtures
from tests.support.live_server import live_server

browser = browser_fixtures.browser  # the fixture
CHARACTER = 2  # Bramble, one of the seeded characters


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("rooms-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=6) as running:
        yield running
        running.assert_no_tracebacks()


def person(browser, server, prefix):
    """A browser context of its own (its own cookies), signed up through the API."""
    context = browser.new_context()
    context.set_default_timeout(browser_fixtures.TIMEOUT_MS)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("console", lambda m: page.problems.append(m.text)
            if "Content Security Policy" in m.text else None)
    username = f"{prefix}_{secrets.token_hex(3)}"
    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": username, "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    page.csrf, page.username, page.user_id = (signup.json()["csrf_token"], username,
                                              signup.json()["user"]["id"])
    return context, page


def count_tokens(page):
    """Count the room:token events this page's socket receives from now on."""
    page.evaluate("""() => { window.roomTokens = 0;
                            Kindred.socket.on("room:token", () => { window.roomTokens += 1; }); }""")


def last_character_turn(page):
    return page.locator("#room-messages .message.speaker-character").last


def wait_turn_done(page):
    from playwright.sync_api import expect
    expect(page.locator("#room-messages .message.speaker-character")).not_to_have_count(0)
    expect(page.locator("#room-messages .message.status-streaming")).to_have_count(0)


def test_two_people_share_a_room_and_one_streamed_character_turn(browser, server):
    from playwright.sync_api import expect
    owner_context, owner = person(browser, server, "ana")
    guest_context, guest = person(browser, server, "ben")
    try:
        owner.goto(server.url + "/rooms")
        owner.fill("#room-title", "The Lantern Inn")
        owner.check(f"#room-characters input[value='{CHARACTER}']")
        owner.select_option("#room-strategy", "list")
        owner.click("#room-create-submit")
        owner.wait_for_url(f"{server.url}/rooms/*")
        room_id = int(owner.url.rsplit("/", 1)[1])
        expect(owner.locator(".room[data-joined=true]")).to_have_count(1)
        expect(owner.locator("#room-title")).to_have_text("The Lantern Inn")
        expect(owner.locator("#room-cast .room-character img.avatar")).to_have_count(1)

        owner.click("#room-invite")
        invite_url = owner.locator("#room-invite-url")
        expect(invite_url).to_have_value(re.compile(re.escape(server.url + "/invite/") + r"\S+"))
        link = invite_url.input_value()
        guest.goto(link)
        guest.click("#invite-accept")
        guest.wait_for_url(f"{server.url}/rooms/{room_id}")
        expect(guest.locator(".room[data-joined=true]")).to_have_count(1)

        # Presence: each sees the other online, and the owner typing.
        for page, other in ((owner, guest), (guest, owner)):
            expect(page.locator(f"#room-members .room-person.online[data-user-id='{other.user_id}']"
                                )).to_have_count(1)
        owner.locator("#room-input").press_sequentially("Hel")
        expect(guest.locator(f"#room-members [data-user-id='{owner.user_id}'] .typing")
               ).to_have_count(1)

        for page in (owner, guest):
            count_tokens(page)
        owner.fill("#room-input", "Hello everyone, Bramble too")
        owner.keyboard.press("Enter")
        for page in (owner, guest):
            expect(page.locator("#room-messages .message.speaker-user .content")
                   ).to_have_text(["Hello everyone, Bramble too"])
        for page in (owner, guest):
            wait_turn_done(page)
        turns = [last_character_turn(page) for page in (owner, guest)]
        ids = [turn.get_attribute("data-message-id") for turn in turns]
        texts = [turn.locator(".content").text_content() for turn in turns]
        assert ids[0] == ids[1] and texts[0] == texts[1], (ids, texts)
        for turn in turns:
            expect(turn.locator(".message-head img.avatar")).to_have_attribute(
                "src", f"/characters/{CHARACTER}/avatar.png")
            expect(turn.locator(".speaker")).to_have_text("Bramble")
        tokens = [page.evaluate("() => window.roomTokens") for page in (owner, guest)]
        assert tokens[0] > 0 and tokens[0] == tokens[1], tokens

        # The guest answers; the owner sees it, attributed to the guest.
        guest.fill("#room-input", "Hi Ana!")
        guest.keyboard.press("Enter")
        message = owner.locator("#room-messages .message.speaker-user").last
        expect(message.locator(".content")).to_have_text("Hi Ana!")
        expect(message.locator(".speaker")).to_have_text(guest.username)

        # An out-of-character line is marked as such for both.
        guest.check("#room-ooc")
        guest.fill("#room-input", "brb, pizza")
        guest.keyboard.press("Enter")
        for page in (owner, guest):
            expect(page.locator("#room-messages .message.ooc .content")).to_have_text(["brb, pizza"])

        # "Speak" (room:trigger): one more turn of that character, the same for both.
        for page in (owner, guest):
            wait_turn_done(page)
        turns_before = owner.locator("#room-messages .message.speaker-character").count()
        expect(guest.locator("#room-messages .message.speaker-character")).to_have_count(turns_before)
        owner.locator(f"#room-cast [data-character-id='{CHARACTER}'] button.trigger").click()
        for page in (owner, guest):
            expect(page.locator("#room-messages .message.speaker-character")).to_have_count(
                turns_before + 1)
            wait_turn_done(page)
        assert len({last_character_turn(page).get_attribute("data-message-id")
                    for page in (owner, guest)}) == 1

        assert owner.problems == [] and guest.problems == [], (owner.problems, guest.problems)
    finally:
        owner_context.close()
        guest_context.close()


def test_a_room_listed_under_a_tag_is_found_and_joined_from_the_rooms_page(browser, server):
    from playwright.sync_api import expect
    owner_context, owner = person(browser, server, "cai")
    visitor_context, visitor = person(browser, server, "dee")
    try:
        owner.goto(server.url + "/rooms")
        owner.fill("#room-title", "Open Hearth")
        owner.check(f"#room-characters input[value='{CHARACTER}']")
        owner.select_option("#room-visibility", "listed")
        owner.fill("#room-tag", "Hearthside")
        owner.click("#room-create-submit")
        owner.wait_for_url(f"{server.url}/rooms/*")
        room_id = int(owner.url.rsplit("/", 1)[1])

        visitor.goto(server.url + "/rooms")
        visitor.fill("#listed-tag", "hearthside")
        visitor.click("#listed-search button[type=submit]")
        found = visitor.locator(f"#listed-list .room-item[data-room-id='{room_id}']")
        expect(found).to_contain_text("#hearthside")
        found.locator("button.room-join").click()
        visitor.wait_for_url(f"{server.url}/rooms/{room_id}")
        expect(visitor.locator(".room[data-joined=true]")).to_have_count(1)
        expect(owner.locator(f"#room-members .room-person[data-user-id='{visitor.user_id}']")
               ).to_have_count(1)
        assert owner.problems == [] and visitor.problems == [], (owner.problems, visitor.problems)
    finally:
        owner_context.close()
        visitor_context.close()
