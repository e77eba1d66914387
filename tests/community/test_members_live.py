"""Characters as members through the app's own wiring: a comment through the API reaches the
background subscriber, and the character's answer (or welcome) shows up in the thread, labelled
as a character's."""
import time

import pytest

from tests.moderation.conftest import Person
from tests.community.member_world import comment, post_about, quiet_config, taking_part


@pytest.fixture
def app_config(app_config):
    return quiet_config(app_config, COMMUNITY_MEMBERS=True)  # the app's own subscriber


def threads_once(reader, post_id, ready, timeout=90.0):
    """The post's threads as soon as `ready(threads)` holds (the answer is generated in the
    background, at low priority)."""
    deadline = time.monotonic() + timeout
    while True:
        threads = reader.call("GET", f"/api/posts/{post_id}/comments").get_json()["comments"]
        if ready(threads) or time.monotonic() > deadline:
            return threads
        time.sleep(0.1)


def test_a_named_character_answers_a_comment_in_the_background(app):
    creator, reader = Person(app), Person(app)
    wren = taking_part(creator)
    post = post_about(creator, wren["id"])
    asked = comment(reader, post["id"], "Wren, what is the lamp made of?")
    threads = threads_once(reader, post["id"], lambda t: t and t[0]["replies"])
    [thread] = threads
    assert thread["id"] == asked.comment_id
    [answer] = thread["replies"]
    assert answer["author_kind"] == "character" and answer["author"]["id"] == wren["id"]
    assert answer["body"].strip()


def test_a_first_post_is_welcomed_in_the_background(app):
    creator, newcomer = Person(app), Person(app)
    wren = taking_part(creator)
    newcomer.call("POST", f"/api/characters/{wren['id']}/follow")
    post = newcomer.call("POST", "/api/posts", json={"kind": "text", "body": "Hello, I'm new!"})
    post_id = post.get_json()["post"]["id"]
    [welcome] = threads_once(newcomer, post_id, bool)
    assert welcome["author_kind"] == "character" and welcome["author"]["name"] == "Wren"
