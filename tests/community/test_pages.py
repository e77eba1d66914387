"""The community pages in Chromium (Playwright + Debian Chromium) against one real server with the
tiny model: the feed's tabs and infinite scroll, liking and commenting from the page, the post
page's threads, sharing from the chat page through the masked preview, the header's notification
badge going up live when another user likes your post, the pages on a phone-sized screen, and the
character page's posts and remix lineage. Each test checks what the page shows against the API,
and that the page broke no Content-Security-Policy rule and threw no script error."""
import re
import secrets
import time
from urllib.parse import quote

import pytest
from sqlmodel import Session, select

from community.models import Post
from conversations.models import Message
from core.db import make_engine

from tests.support import browser as browser_fixtures
from tests.support.browser import PHONE, open_chat
from tests.support.live_clients import HTTP_TIMEOUT, Account
from tests.support.live_server import live_server

browser, page = browser_fixtures.browser, browser_fixtures.page  # the fixtures
FEED_PAGE = 20  # community.feed.DEFAULT_LIMIT: what one scroll step loads


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    # As on a fresh install (`make run`), the seeded cast has posted its introductions.
    with live_server(tmp_path_factory.mktemp("pages-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8, extra_env={"COMMUNITY_SEED_POSTS": "1"}) as running:
        running.engine = make_engine(f"sqlite:///{running.instance_dir / 'kindred.db'}")
        yield running
        running.engine.dispose()
        running.assert_no_tracebacks()


@pytest.fixture(scope="module")
def author(server):
    """Someone else, who posts, comments and likes in several tests: sign-ups are rate-limited
    per address (SIGNUP_RATE_LIMIT, 20 an hour), and every test's own user is one already."""
    return Account.signed_up(server, "author")


@pytest.fixture
def watched(page):
    """`page`, collecting what the CSP refused (console "Refused to ...") in page.refused."""
    page.refused = []
    page.on("console", lambda message: message.text.startswith("Refused to")
            and page.refused.append(message.text))
    return page


class Viewer:
    """The browser's user: signed up through the API, so the page's cookies are theirs."""

    def __init__(self, page, server, prefix="viewer"):
        self.page, self.server = page, server
        self.username = f"{prefix}_{secrets.token_hex(4)}"
        signup = page.request.post(server.url + "/api/auth/signup", data={
            "username": self.username, "password": "correct horse battery"})
        assert signup.status == 201, signup.text()
        self.csrf = signup.json()["csrf_token"]

    def call(self, method, path, data=None, expect=(200, 201)):
        response = self.page.request.fetch(self.server.url + path, method=method, data=data,
                                           headers={"X-CSRF-Token": self.csrf})
        assert response.status in expect, f"{method} {path}: {response.status} {response.text()}"
        return response.json()


def call(account, method, path, body=None, expect=(200, 201)):
    response = account.http.request(method, account.server.url + path, json=body,
                                    headers={"X-CSRF-Token": account.csrf}, timeout=HTTP_TIMEOUT)
    assert response.status_code in expect, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def text_post(account, body, **extra):
    return call(account, "POST", "/api/posts", {"kind": "text", "body": body, **extra})["post"]


def clean(page):
    """No script error, nothing the CSP refused, and no missing value rendered as text."""
    assert page.script_errors == []
    assert getattr(page, "refused", []) == []
    assert page.evaluate(MISSING_VALUES) == []


# Text nodes that are only a missing value: what `node.append(null)` shows.
MISSING_VALUES = """() => {
    const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
    const found = [];
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent.trim();
        if (text === "null" || text === "undefined") found.push(walker.currentNode.parentElement.className);
    }
    return found;
}"""


def shown_ids(page, selector="#feed-posts > .post-card"):
    return [int(i) for i in page.locator(selector).evaluate_all(
        "(cards) => cards.map((card) => card.dataset.postId)")]


# -- the feed --------------------------------------------------------------------------------

def test_feed_tabs_show_what_the_api_gives_and_scrolling_loads_every_page_once(watched, server,
                                                                               author):
    from playwright.sync_api import expect

    page = watched
    # More posts than a page holds, from two creators (each may post 20 an hour).
    followed = [Account.signed_up(server, "followed"), Account.signed_up(server, "followed")]
    mine = [text_post(followed[n % 2], f"Followed creator's post {n}")["id"]
            for n in range(FEED_PAGE + 5)]
    theirs = text_post(author, "A post by someone not followed")["id"]
    viewer = Viewer(page, server)
    for creator in followed:
        viewer.call("POST", f"/api/creators/{username_of(creator)}/follow")

    page.goto(server.url + "/feed?tab=new")
    expect(page.locator("#tab-new")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#feed-posts > .post-card")).to_have_count(FEED_PAGE)
    first_page = shown_ids(page)
    api_page = viewer.call("GET", "/api/feed?tab=new")
    assert first_page == [p["id"] for p in api_page["posts"]]
    assert first_page[0] == theirs  # newest first

    # Scrolling to the end loads the next pages, until the API has no next cursor.
    total = len(all_posts(viewer, "new"))
    while page.locator("#feed-posts > .post-card").count() < total:
        count = page.locator("#feed-posts > .post-card").count()
        page.locator("#feed-more").scroll_into_view_if_needed()
        expect(page.locator("#feed-posts > .post-card")).not_to_have_count(count)
    expect(page.locator("#load-more")).to_be_hidden()
    page.screenshot(path="/tmp/kindred-feed.png")
    every = shown_ids(page)
    assert len(every) == len(set(every)) == total  # none skipped, none twice
    assert every == [p["id"] for p in all_posts(viewer, "new")]
    assert set(mine) <= set(every)

    page.click("#tab-following")
    expect(page.locator("#tab-following")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#tab-new")).to_have_attribute("aria-selected", "false")
    expect(page.locator("#feed-posts > .post-card")).to_have_count(FEED_PAGE)
    assert theirs not in shown_ids(page)
    assert set(shown_ids(page)) <= set(mine)
    assert page.url.endswith("/feed?tab=following")

    page.click("#tab-trending")
    expect(page.locator("#feed-posts")).to_have_attribute("data-tab", "trending")
    expect(page.locator("#feed-posts")).to_have_attribute("data-loaded", re.compile(r"^[1-9]"))
    assert shown_ids(page) == [p["id"] for p in viewer.call("GET", "/api/feed?tab=trending")["posts"]]
    clean(page)


def test_seeded_character_posts_are_labelled_as_ai_and_people_s_are_not(watched, server):
    from playwright.sync_api import expect

    page = watched
    viewer = Viewer(page, server)
    by_characters = [p for p in all_posts(viewer, "new") if p["author_kind"] == "character"]
    assert by_characters, "the cold-start seed posts come from characters"
    person = viewer.call("POST", "/api/posts", {"kind": "text", "body": "Written by a person"})["post"]
    page.goto(server.url + "/feed?tab=new")
    expect(page.locator(f'.post-card[data-post-id="{person["id"]}"] .post-author')).to_have_text(
        viewer.username)
    expect(page.locator(f'.post-card[data-post-id="{person["id"]}"] .ai-label')).to_have_count(0)
    for post in by_characters:
        card = page.locator(f'#feed-posts > .post-card[data-post-id="{post["id"]}"]')
        while not card.count():
            count = page.locator("#feed-posts > .post-card").count()
            page.locator("#feed-more").scroll_into_view_if_needed()
            expect(page.locator("#feed-posts > .post-card")).not_to_have_count(count)
        expect(card.locator(".post-head .ai-label")).to_have_text("AI · character")
        expect(card.locator(".post-author")).to_have_text(post["author"]["name"])
    clean(page)


def test_like_and_comment_from_the_feed(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    post = text_post(author, "Like me and say something")
    viewer = Viewer(page, server)
    page.goto(server.url + "/feed?tab=new")
    card = page.locator(f'.post-card[data-post-id="{post["id"]}"]')

    card.locator("button.like").click()
    expect(card.locator("button.like")).to_have_attribute("aria-pressed", "true")
    expect(card.locator("button.like")).to_have_text("♥ 1")
    stored = viewer.call("GET", f"/api/posts/{post['id']}")["post"]
    assert stored["liked"] is True and stored["likes"] == 1

    card.locator("button.comment").click()
    card.locator(".quick-comment textarea").fill("What a lovely post")
    card.locator(".quick-comment button[type=submit]").click()
    expect(card.locator(".quick-comment")).to_contain_text("Comment posted")
    expect(card.locator("button.comment")).to_have_text("1 comment")
    comments = viewer.call("GET", f"/api/posts/{post['id']}/comments")["comments"]
    assert [c["body"] for c in comments] == ["What a lovely post"]

    # Share: copy the post's link, or open its PNG card.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    card.locator(".share-menu summary").click()
    card.locator("button.copy-link").click()
    expect(card.locator(".post-status")).to_have_text("Link copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == f"{server.url}/posts/{post['id']}"
    png = page.request.get(server.url + card.locator("a.card-link").get_attribute("href"))
    assert png.status == 200 and png.headers["content-type"] == "image/png"

    page.reload()  # what the page shows after a reload is what was stored
    expect(card.locator("button.like")).to_have_attribute("aria-pressed", "true")
    card.locator("button.like").click()
    expect(card.locator("button.like")).to_have_attribute("aria-pressed", "false")
    expect(card.locator("button.like")).to_have_text("♥ 0")
    assert viewer.call("GET", f"/api/posts/{post['id']}")["post"]["likes"] == 0
    clean(page)


def test_report_a_post_from_the_feed(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    post = text_post(author, "I think everyone here is silly")
    Viewer(page, server)
    page.goto(server.url + "/feed?tab=new")
    card = page.locator(f'.post-card[data-post-id="{post["id"]}"]')
    card.locator("button.report").click()
    expect(page.locator("#report-dialog")).to_be_visible()
    page.select_option("#report-form select[name=reason]", "spam")
    page.fill("#report-form textarea[name=note]", "advertising")
    page.click("#report-send")
    expect(page.locator("#report-dialog")).to_be_hidden()
    expect(card.locator(".post-status")).to_contain_text("Reported")
    clean(page)


# -- the post page ---------------------------------------------------------------------------

def test_post_page_threads_replies_edits_and_deletes_own_comments(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    post = text_post(author, "Tell me about your day")
    other = call(author, "POST", f"/api/posts/{post['id']}/comments", {"body": "I start"})["comment"]
    viewer = Viewer(page, server)
    page.goto(f"{server.url}/posts/{post['id']}")
    expect(page.locator("#post-slot .post-card .post-body")).to_have_text("Tell me about your day")
    expect(page.locator("#comment-list > .comment")).to_have_count(1)

    page.fill("#comment-input", "Mine was long")
    page.click("#comment-form button[type=submit]")
    expect(page.locator("#comment-list > .comment")).to_have_count(2)
    expect(page.locator("#post-slot .comments-link")).to_have_text("2 comments")

    thread = page.locator(f'#comment-list > .comment[data-comment-id="{other["id"]}"]')
    thread.locator("> .comment-tools button.reply").click()
    thread.locator(".reply-form textarea").fill("Replying to you")
    thread.locator(".reply-form button[type=submit]").click()
    reply = thread.locator(".replies > .comment")
    expect(reply).to_have_count(1)
    expect(reply.locator(".comment-body")).to_have_text("Replying to you")
    expect(reply.locator("button.reply")).to_have_count(0)  # one level of replies only
    stored = {c["body"]: c for c in every_comment(viewer, post["id"])}
    assert stored["Replying to you"]["parent_id"] == other["id"]

    # only your own comments have Edit and Delete; others' have Report
    expect(thread.locator("> .comment-tools button.edit")).to_have_count(0)
    expect(thread.locator("> .comment-tools button.report")).to_have_count(1)
    reply.locator("button.edit").click()
    reply.locator(".edit-form textarea").fill("Replying to you, edited")
    reply.locator(".edit-form button[type=submit]").click()
    expect(reply.locator(".comment-body")).to_have_text("Replying to you, edited")
    expect(reply.locator(".badge")).to_contain_text("edited")

    page.once("dialog", lambda dialog: dialog.accept())
    reply.locator("button.delete").click()
    expect(thread.locator(".replies > .comment")).to_have_count(0)
    bodies = [c["body"] for c in every_comment(viewer, post["id"])]
    assert "Replying to you, edited" not in bodies and "Mine was long" in bodies
    clean(page)


def test_a_character_s_reply_is_labelled_as_ai_on_the_post_page(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    creator = author
    wren = call(creator, "POST", "/api/characters", {
        "name": "Wren Lamplight", "tagline": "keeps the lighthouse", "first_mes": "Hello there."})["character"]
    call(creator, "POST", f"/api/characters/{wren['id']}/publish")
    call(creator, "PATCH", f"/api/characters/{wren['id']}", {"community_replies": True})
    post = call(creator, "POST", "/api/posts", {"kind": "character", "character_id": wren["id"],
                                                 "body": "Meet Wren"})["post"]
    viewer = Viewer(page, server, "asker")
    page.goto(f"{server.url}/posts/{post['id']}")
    page.fill("#comment-input", "Wren, what is the lamp made of?")
    page.click("#comment-form button[type=submit]")
    expect(page.locator("#comment-list > .comment")).to_have_count(1)

    answer = character_answer(viewer, post["id"])  # written in the background by the model
    page.reload()
    shown = page.locator(f'.comment[data-comment-id="{answer["id"]}"]')
    expect(shown).to_have_class(re.compile(r"\bby-character\b"))
    expect(shown.locator(".comment-author")).to_have_text("Wren Lamplight")
    expect(shown.locator(".ai-label")).to_have_text("AI · character")
    expect(page.locator("#comment-list > .comment").first.locator("> .comment-head .ai-label")).to_have_count(0)
    clean(page)


def test_a_held_post_is_marked_in_review_for_its_author_only(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    viewer = Viewer(page, server, "heldauthor")
    post = viewer.call("POST", "/api/posts", {"kind": "text", "body": "Waiting for a look"})["post"]
    with Session(server.engine) as session:  # as moderation stores a post it holds for review
        held = session.get(Post, post["id"])
        held.status = "held"
        session.add(held)
        session.commit()
    page.goto(f"{server.url}/posts/{post['id']}")
    expect(page.locator("#post-slot .post-card .in-review")).to_contain_text("In review")
    page.goto(server.url + "/feed?tab=new")
    expect(page.locator(f'.post-card[data-post-id="{post["id"]}"] .in-review')).to_be_visible()
    assert author.http.get(f"{server.url}/posts/{post['id']}", timeout=HTTP_TIMEOUT).status_code == 404
    clean(page)


def test_post_page_of_an_invisible_post_is_not_found(page, server):
    Viewer(page, server)
    response = page.goto(f"{server.url}/posts/999999")
    assert response.status == 404


# -- share from the chat page ----------------------------------------------------------------

def test_share_from_chat_previews_what_was_masked_then_publishes(watched, server):
    from playwright.sync_api import expect

    page = watched
    conversation_id = open_chat(page, server, character_id=1, prefix="sharer")
    page.fill("#composer-input", "Where can I write to you?")
    page.click("#send")
    expect(page.locator("#messages .message.user")).to_have_count(1)
    expect(page.locator("#send")).to_be_enabled()  # the reply finished
    # What people type is masked as they send it, but a character's reply is shown as the model
    # wrote it: here one that gives a street address and an e-mail address.
    asked, answer = last_exchange(server, conversation_id)
    with Session(server.engine) as session:
        stored_answer = session.get(Message, answer)
        stored_answer.content = "Send your letters to 12 Baker Street or to mira.post@example.com."
        session.add(stored_answer)
        session.commit()
    page.reload()
    page.wait_for_selector(".chat[data-joined=true]")

    page.click("#share-open")
    expect(page.locator("#share-panel")).to_be_visible()
    expect(page.locator("#share-preview-button")).to_be_disabled()
    page.click(f'#messages [data-message-id="{answer}"] .content')
    page.click(f'#messages [data-message-id="{asked}"] .content')
    expect(page.locator("#share-count")).to_have_text("2 messages picked")
    expect(page.locator(f'#messages [data-message-id="{asked}"]')).to_have_class(
        re.compile(r"\bpicked\b"))
    page.fill("#share-caption", "Our first talk! Call me on 555 123 4567")
    page.click("#share-preview-button")

    preview = page.locator("#share-preview")
    expect(preview).to_be_visible()
    page.screenshot(path="/tmp/kindred-share.png")
    for what in ("a street address", "an e-mail address", "a phone number"):
        expect(preview.locator(".masked-list")).to_contain_text(what)
    for private in ("12 Baker Street", "mira.post@example.com", "555 123 4567"):
        expect(preview).not_to_contain_text(private)
    lines = preview.locator(".excerpt-line")
    expect(lines).to_have_count(2)
    expect(lines.first).to_have_class(re.compile(r"\buser\b"))  # the conversation's order
    assert not [p for p in page.request.get(f"{server.url}/api/feed?tab=new").json()["posts"]
                if p["author_kind"] == "user" and p["author"]["username"].startswith("sharer_")]

    # Changing the caption asks for a new preview before publishing.
    page.fill("#share-caption", "Our first talk!")
    expect(page.locator("#share-publish")).to_be_disabled()
    page.click("#share-preview-button")
    expect(preview.locator(".masked-list")).not_to_contain_text("a phone number")
    page.click("#share-publish")
    page.wait_for_url(re.compile(r"/posts/\d+$"))
    post_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#post-slot .excerpt-line")).to_have_count(2)
    expect(page.locator("#post-slot .post-body")).to_have_text("Our first talk!")
    expect(page.locator("#post-slot .excerpt-line.character .ai-label")).to_have_count(1)
    stored = page.request.get(f"{server.url}/api/posts/{post_id}").json()["post"]
    assert stored["kind"] == "chat" and len(stored["excerpt"]) == 2
    assert "Baker Street" not in str(stored) and "mira.post@example.com" not in str(stored)

    # Continue this chat: a conversation of one's own, seeded with the shared exchange.
    page.click("#post-slot button.continue-chat")
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    continued = int(page.url.rsplit("/", 1)[1])
    assert continued != conversation_id
    expect(page.locator("#messages .message")).not_to_have_count(0)
    clean(page)


# -- notifications in the header -------------------------------------------------------------

def test_notification_badge_goes_up_live_when_someone_likes_your_post(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    viewer = Viewer(page, server, "liked")
    post = viewer.call("POST", "/api/posts", {"kind": "text", "body": "Please like this"})["post"]
    page.goto(server.url + "/feed")
    expect(page.locator("#notify")).to_have_attribute("data-live", "true")
    expect(page.locator("#notify-badge")).to_be_hidden()

    call(author, "POST", f"/api/posts/{post['id']}/like")
    expect(page.locator("#notify-badge")).to_have_text("1")  # no reload: over the socket
    expect(page.locator("#notify-badge")).to_be_visible()
    page.screenshot(path="/tmp/kindred-notify.png")

    page.click("#notify-button")
    item = page.locator("#notify-list .notify-item.unread")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("liked your post")
    page.click("#notify-read-all")
    expect(page.locator("#notify-badge")).to_be_hidden()
    assert viewer.call("GET", "/api/notifications")["unread"] == 0
    page.reload()
    expect(page.locator("#notify-badge")).to_be_hidden()
    clean(page)


# -- a phone-sized screen --------------------------------------------------------------------

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_feed_and_post_page_fit_a_phone_screen(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    post = text_post(author, "A long line " + "without-any-break-" * 12, tags=["cozy"])
    call(author, "POST", f"/api/posts/{post['id']}/comments", {"body": "word " * 60})
    Viewer(page, server, "phoner")

    page.goto(server.url + "/feed?tab=new")
    card = page.locator(f'.post-card[data-post-id="{post["id"]}"]')
    expect(card).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    card.locator("button.like").click()
    expect(card.locator("button.like")).to_have_attribute("aria-pressed", "true")
    page.click("#tab-trending")
    expect(page.locator("#tab-trending")).to_have_attribute("aria-selected", "true")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    page.screenshot(path="/tmp/kindred-feed-phone.png")
    page.click("#notify-button")
    panel = page.locator("#notify-panel").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= PHONE["width"]
    page.click("#notify-button")

    page.goto(f"{server.url}/posts/{post['id']}")
    expect(page.locator("#comment-list > .comment")).to_have_count(1)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path="/tmp/kindred-post-phone.png")
    page.fill("#comment-input", "From my phone")
    page.click("#comment-form button[type=submit]")
    expect(page.locator("#comment-list > .comment")).to_have_count(2)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    clean(page)


# -- the character page ----------------------------------------------------------------------

def test_character_page_shows_its_remix_lineage_and_remixes(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    fan = author
    viewer = Viewer(page, server, "remixer")
    original = viewer.call("GET", "/api/characters/1")["character"]

    page.goto(server.url + "/characters/1")
    expect(page.locator("#character-name")).to_have_text(original["name"])
    expect(page.locator("#lineage")).to_have_attribute("data-loaded", "true")
    before = viewer.call("GET", "/api/characters/1/lineage")["descendant_count"]
    expect(page.locator("#remixed-from")).to_be_hidden()  # a seeded original

    page.click("#character-remix")
    page.wait_for_url(re.compile(r"/studio/\d+$"))
    remix_id = int(page.url.rsplit("/", 1)[1])
    assert viewer.call("GET", "/api/characters/1/lineage")["descendant_count"] == before + 1

    page.goto(f"{server.url}/characters/{remix_id}")
    expect(page.locator("#remixed-from")).to_have_text(
        re.compile(rf"^Remixed from {re.escape(original['name'])} by "))
    expect(page.locator("#remixed-from a")).to_have_attribute("href", "/characters/1")
    expect(page.locator("#descendant-count")).to_have_text("No remixes yet.")

    page.goto(server.url + "/characters/1")
    expect(page.locator("#descendant-count")).to_contain_text(str(before + 1))

    # A character whose creator turned remixing off has no Remix button.
    closed = call(fan, "POST", "/api/characters", {"name": "Closed Book", "tagline": "mine only",
                                                  "first_mes": "Hello."})["character"]
    call(fan, "POST", f"/api/characters/{closed['id']}/publish")
    call(fan, "PATCH", f"/api/characters/{closed['id']}", {"allow_remix": False})
    page.goto(f"{server.url}/characters/{closed['id']}")
    expect(page.locator("#character-name")).to_have_text("Closed Book")
    expect(page.locator("#character-chat")).to_be_visible()
    expect(page.locator("#character-remix")).to_be_hidden()
    clean(page)


def test_character_page_lists_the_posts_about_it(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    fan = author
    about = call(fan, "POST", "/api/posts", {"kind": "character", "character_id": 1,
                                              "body": "My favourite character"})["post"]
    elsewhere = text_post(fan, "Not about anyone")
    viewer = Viewer(page, server, "reader")
    page.goto(server.url + "/characters/1")
    card = '#character-posts .post-card[data-post-id="{}"]'
    expect(page.locator(card.format(about["id"]))).to_be_visible()
    expect(page.locator(card.format(elsewhere["id"]))).to_have_count(0)
    listed = viewer.call("GET", "/api/characters/1/posts")["posts"]
    assert shown_ids(page, "#character-posts > .post-card") == [p["id"] for p in listed]
    assert listed[0]["id"] == about["id"]  # the newest first
    clean(page)


def test_for_you_says_why_each_post_is_there(watched, server, author):
    from playwright.sync_api import expect

    page = watched
    for n in range(3):
        text_post(author, f"Something for you {n}")
    viewer = Viewer(page, server)
    page.goto(server.url + "/feed")  # the first tab
    expect(page.locator("#tab-for_you")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#feed-posts")).to_have_attribute("data-loaded", re.compile(r"^[1-9]"))
    cards = page.locator("#feed-posts > .post-card")
    reasons = page.locator("#feed-posts > .post-card .post-reason")
    assert reasons.count() == cards.count()
    for reason in reasons.all():
        expect(reason).not_to_be_empty()
    visible = {p["id"] for p in all_posts(viewer, "new")}
    assert set(shown_ids(page)) <= visible
    clean(page)


def all_posts(viewer, tab):
    posts, cursor = [], None
    while True:
        query = f"/api/feed?tab={tab}" + (f"&cursor={quote(cursor)}" if cursor else "")
        batch = viewer.call("GET", query)
        posts += batch["posts"]
        cursor = batch["next_cursor"]
        if not cursor:
            return posts


def character_answer(viewer, post_id, timeout=90.0):
    """The first comment a character wrote on the post, once it is there (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for comment in every_comment(viewer, post_id):
            if comment["author_kind"] == "character":
                return comment
        time.sleep(0.2)
    pytest.fail(f"no character answered on post {post_id} within {timeout} s")


def last_exchange(server, conversation_id):
    """(the id of the conversation's last user message, the id of the reply to it)."""
    with Session(server.engine) as session:
        rows = session.exec(select(Message).where(Message.conversation_id == conversation_id)
                            .order_by(Message.id)).all()
    asked = [m for m in rows if m.role == "user"][-1]
    return asked.id, next(m.id for m in rows if m.parent_id == asked.id)


def every_comment(viewer, post_id):
    """The post's comments and their replies, in one list."""
    threads = viewer.call("GET", f"/api/posts/{post_id}/comments")["comments"]
    return [c for thread in threads for c in [thread, *thread.get("replies", [])]]


def username_of(account):
    response = account.http.get(account.server.url + "/api/auth/me", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["user"]["username"]
