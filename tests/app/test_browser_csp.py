"""Every page in a real browser (Playwright + Debian Chromium) with the Content-Security-Policy on:
a user signs up, chats, swipes, draws cards, searches, builds a character in the studio and
previews it in its frame, and the browser reports no CSP violation and no script error on the
way. Also: another site cannot frame the app, and logging in never leaves this site whatever
`next=` says."""
import re
import secrets
import time
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

import gacha.banners
import gacha.ledger
from core.db import make_engine
from core.users import User
from tests.support.browser import browser, page  # noqa: F401  (fixtures)
from tests.support.live_server import live_server

PASSWORD = "correct horse battery"
BRAMBLE = 2  # the seeded cast's second character, with the story "The First Frost"

# Installed in every document and frame before its own scripts run. A violation is reported
# through an exposed binding, so those in the studio's preview frame count too.
COLLECT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const seen = { directive: event.effectiveDirective || event.violatedDirective,
                 blocked: event.blockedURI, source: event.sourceFile, line: event.lineNumber,
                 sample: event.sample, page: document.location.href };
  (window.__cspViolations = window.__cspViolations || []).push(seen);
  if (window.__reportCspViolation) window.__reportCspViolation(seen);
}, true);
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("csp-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8) as running:
        engine = make_engine(f"sqlite:///{running.instance_dir / 'kindred.db'}")
        with Session(engine) as session:
            running.banner_id = gacha.banners.seed_gacha(session).id
        running.engine = engine
        yield running
        engine.dispose()
        running.assert_no_tracebacks()


@pytest.fixture
def watched(page):
    """`page`, with every CSP violation (event or console "Refused to ...") in page.violations."""
    page.violations = []

    def console(message):
        if message.text.startswith("Refused to"):
            page.violations.append({"console": message.text, "page": page.url})

    def report(violation):
        page.violations.append(violation)

    page.context.expose_function("__reportCspViolation", report)
    page.context.add_init_script(COLLECT_VIOLATIONS)
    page.on("console", console)
    return page


def test_every_page_passes_the_policy_while_it_is_used(watched, server):
    from playwright.sync_api import expect
    page = watched
    username = f"csp_{secrets.token_hex(4)}"

    _visit(page, server, "/login")
    expect(page.locator("#auth-form")).to_be_visible()
    _visit(page, server, "/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=accept_rules]")
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(server.url + "/")
    expect(page.locator(".character-card").first).to_be_visible()

    # discover: onboarding chips, a key swipe, a drag, undo
    _visit(page, server, "/discover")
    expect(page.locator("#onboarding")).to_be_visible()
    for tag in ("fantasy", "cozy"):
        page.locator(f'.interest-chip[data-tag="{tag}"]').click()
    page.click("#onboarding-done")
    top = page.locator("#deck .swipe-card.top")
    expect(top).to_be_visible()
    first = top.get_attribute("data-character-id")
    page.keyboard.press("ArrowRight")
    expect(top).not_to_have_attribute("data-character-id", first)
    box = top.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 260, y + 10, steps=8)
    page.mouse.up()
    page.click("#undo")
    expect(page.locator("#swipe-status")).not_to_be_empty()

    # chat: the greeting, a sent message and its streamed reply, the edit form, the stories
    _visit(page, server, "/")
    page.locator(".character-card").first.get_by_role("button", name="Chat").click()
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    page.wait_for_selector(".chat[data-joined=true]")
    expect(page.locator("#messages .message.assistant .content").first).not_to_be_empty()
    expect(page.locator("#relationship")).to_be_visible()
    page.fill("#composer-input", "I love the smell of rain in autumn.")
    page.click("#send")
    expect(page.locator("#messages .message.user")).to_have_count(1)
    expect(page.locator("#messages .message.user + .message.assistant .content")).not_to_be_empty()
    expect(page.locator("#stop")).to_be_hidden()
    page.locator("#messages .message.user .tools button.edit").click()
    page.locator("#messages .message.user button.cancel").click()
    _start_a_story(page, server)

    _visit(page, server, "/memories")
    expect(page.locator("#memory-filter option")).not_to_have_count(0)

    # cards: check-in, a 10-pull and its reveal, collection, ledger, published rates
    with Session(server.engine) as session:
        user_id = session.exec(select(User.id).where(User.username == username)).one()
        gacha.ledger.admin_grant(session, user_id, "gems", 900, "csp-test")
    _visit(page, server, "/gacha")
    page.click("#checkin")
    expect(page.locator("#checkin")).to_be_disabled()
    page.click(".banner .draw-10")
    expect(page.locator("#reveal-cards .pull-card.revealed")).to_have_count(10, timeout=10_000)
    page.click("#reveal-close")
    _visit(page, server, "/gacha/collection")
    expect(page.locator(".collection-card.owned").first).to_be_visible()
    _visit(page, server, "/gacha/ledger")
    expect(page.locator("#ledger tr").first).to_be_visible()
    _visit(page, server, f"/gacha/banners/{server.banner_id}/rates")
    expect(page.locator("#rates-items tr").first).to_be_visible()

    # search, a tag page, a creator page
    bramble = page.request.get(f"{server.url}/api/characters/{BRAMBLE}").json()["character"]
    _visit(page, server, "/search")
    page.fill("#search-q", bramble["name"])
    page.click("#search-form button[type=submit]")
    result = page.locator(f"#search-results .character-card[data-character-id='{BRAMBLE}']")
    result.locator("button.like").click()
    expect(result.locator("button.like")).to_have_attribute("aria-pressed", "true")
    tag = bramble["tags"][0]
    _visit(page, server, f"/tags/{tag}")
    expect(page.locator("#search-results .character-card").first).to_be_visible()
    _visit(page, server, f"/creators/{username}")
    expect(page.locator("#creator-joined")).not_to_be_empty()

    # studio: a draft from one line over the websocket, lore and a story, save, the dashboard
    # chart, and the preview chat in its frame (framed by this same site)
    _visit(page, server, "/studio")
    page.fill("#one-line", "a moth librarian who guards forbidden books")
    page.click("#draft-with-ai")
    expect(page.locator("#studio")).to_have_attribute("data-drafting", "false", timeout=60_000)
    page.fill("input[name=name]", f"Mothwick {secrets.token_hex(3)}")
    page.fill("textarea[name=first_mes]", "*flutters* The library is closed, {{user}}.")
    page.click("#add-entry")
    page.click("#add-story")
    page.locator("#stories > .story").last.locator(".remove-story").click()
    page.click("#save")
    expect(page.locator("#studio-status")).to_have_text("Saved.")
    page.wait_for_url(re.compile(r"/studio/\d+$"))
    expect(page.locator("#trend-chart svg")).to_be_visible()
    expect(page.locator("#trend-chart .legend span")).to_have_count(4)
    page.click("#preview")
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator("#messages .message.assistant .content").first).to_contain_text(
        "The library is closed")
    page.click("#inspect-latest")
    expect(page.locator("#inspector")).not_to_be_empty()
    page.reload()
    expect(page.locator("#versions li").first).to_be_visible()

    # an error page, then log out
    response = page.goto(server.url + "/no-such-page")
    assert response.status == 404
    _visit(page, server, "/")
    page.click("#logout")
    page.wait_for_url(server.url + "/login")

    assert page.violations == []
    assert page.script_errors == []


def test_the_policy_is_enforced_so_no_violation_means_something(watched, server):
    page = watched
    _visit(page, server, "/login")
    ran = page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.append(script);
        const div = document.createElement("div");
        div.innerHTML = '<img src="x" onerror="window.injected = true">' +
                        '<span style="color: red">red</span>';
        document.body.append(div);
        return new Promise((done) => setTimeout(() => done(window.injected === true), 300));
    }""")
    assert ran is False
    directives = {v.get("directive") for v in page.violations}
    assert {"script-src-elem", "script-src-attr", "style-src-attr"} <= directives, page.violations


def test_another_site_cannot_frame_chat_or_the_studio(page, server):
    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": f"framed_{secrets.token_hex(4)}", "password": PASSWORD})
    created = page.request.post(server.url + "/api/conversations", data={"character_id": 1},
                                headers={"X-CSRF-Token": signup.json()["csrf_token"]})
    chat = f"{server.url}/chat/{created.json()['conversation']['id']}"
    page.route("http://attacker.test/", lambda route: route.fulfill(
        content_type="text/html",
        body=f'<iframe src="{chat}"></iframe><iframe src="{server.url}/studio"></iframe>'
             f'<iframe src="{server.url}/login"></iframe>'))
    page.goto("http://attacker.test/")
    page.wait_for_function("() => [...document.querySelectorAll('iframe')].length === 3")
    # Each frame ends on what it committed: Chromium's error page when refused, the app if not.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
            len(page.frames) < 4 or any(f.url in ("", "about:blank") for f in page.frames[1:])):
        page.wait_for_timeout(50)
    framed = page.frames[1:]
    assert len(framed) == 3
    for frame in framed:  # Chromium shows its error page in place of a refused frame
        assert frame.url.startswith("chrome-error://"), frame.url
        assert frame.locator("#composer, #studio, #auth-form").count() == 0


@pytest.mark.parametrize("next_value, lands_on", [
    ("/%5C127.0.0.1:5001/x", "/"),  # the reported open redirect
    ("//evil.test/", "/"),
    ("/%09/evil.test", "/"),
    ("https://evil.test/", "/"),
    ("javascript:alert(1)", "/"),
    ("/discover", "/discover"),
])
def test_logging_in_stays_on_this_site_whatever_next_says(page, server, next_value, lands_on):
    username = f"next_{secrets.token_hex(4)}"
    signup = page.request.post(server.url + "/api/auth/signup",
                               data={"username": username, "password": PASSWORD})
    assert signup.status == 201, signup.text()
    page.context.clear_cookies()

    page.goto(f"{server.url}/login?next={next_value}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(server.url + lands_on)
    landed = urlsplit(page.url)
    assert (landed.scheme, landed.netloc, landed.path) == ("http", urlsplit(server.url).netloc,
                                                          lands_on)
    assert page.script_errors == []


def test_a_page_behind_login_comes_back_after_logging_in(page, server):
    username = f"back_{secrets.token_hex(4)}"
    page.request.post(server.url + "/api/auth/signup",
                      data={"username": username, "password": PASSWORD})
    page.context.clear_cookies()
    page.goto(server.url + "/gacha/ledger")
    page.wait_for_url(server.url + "/login?next=/gacha/ledger")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(server.url + "/gacha/ledger")


def _visit(page, server, path):
    response = page.goto(server.url + path)
    assert response.status == 200, (path, response.status)
    assert "frame-ancestors" in response.headers["content-security-policy"], path
    page.wait_for_load_state("networkidle")
    return response


def _start_a_story(page, server):
    """Start Bramble's story from its chat, when its level allows, and take the first choice."""
    from playwright.sync_api import expect
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    created = page.request.post(server.url + "/api/conversations", data={"character_id": BRAMBLE},
                                headers={"X-CSRF-Token": csrf})
    assert created.status == 201, created.text()
    page.goto(f"{server.url}/chat/{created.json()['conversation']['id']}")
    page.wait_for_selector(".chat[data-joined=true]")
    page.locator("#stories summary").click()
    start = page.locator("#story-list li button.start-story").first
    expect(start).to_be_visible()
    if start.is_enabled():
        start.click()
        page.wait_for_url(re.compile(r"/chat/\d+$"))
        expect(page.locator("#story-panel")).to_be_visible()
        expect(page.locator("#story-choices button").first).to_be_visible()
