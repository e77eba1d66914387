"""Characters as members, driven one event at a time (the app's own background subscriber is off
here, so each test decides exactly which comment a character sees): who answers what, in its own
voice from the tiny random-weight model, the limits, no bot loops, moderation, and welcomes."""
from datetime import timedelta

import pytest

from community.members import Members, names
from core.db import utcnow
from core.event_types import CommentAdded, PostPublished
from safety import build_moderator
from tests.moderation.conftest import Person
from tests.community.member_world import (character_comments, comment, post_about,
                                          post_by, quiet_config, taking_part)


@pytest.fixture
def app_config(app_config):
    return quiet_config(app_config, COMMUNITY_REPLIES_PER_THREAD_HOUR=2)


def members(app, moderator=None, clock=utcnow) -> Members:
    return Members(app.extensions["kindred.db"], app.extensions["kindred.inference"],
                   moderator or app.extensions["kindred.moderator"], app.config,
                   app.extensions["kindred.notifier"].notify, clock=clock)


@pytest.fixture
def creator(app):
    return Person(app)


@pytest.fixture
def reader(app):
    return Person(app)


def listed(reader, post_id):
    threads = reader.call("GET", f"/api/posts/{post_id}/comments").get_json()["comments"]
    return threads


@pytest.mark.both_databases
def test_a_comment_naming_the_character_gets_its_answer_in_the_thread(app, creator, reader):
    wren = taking_part(creator)
    post = post_about(creator, wren["id"])
    event = comment(reader, post["id"], "I think wren would love the sea.")
    answer = members(app).on_comment(event)
    assert answer is not None and answer.body.strip()
    threads = listed(reader, post["id"])
    assert len(threads) == 1 and threads[0]["id"] == event.comment_id
    [reply] = threads[0]["replies"]
    assert reply["author_kind"] == "character" and reply["author"]["id"] == wren["id"]
    assert reply["author"]["name"] == "Wren" and reply["body"] == answer.body
    assert reply["parent_id"] == event.comment_id


def test_a_question_on_the_characters_own_post_is_answered(app, creator, reader):
    wren = taking_part(creator)
    post_id = post_by(app, wren["id"])
    event = comment(reader, post_id, "What do you do on stormy nights?")
    assert members(app).on_comment(event) is not None
    assert [c.author_character_id for c in character_comments(app, post_id)] == [wren["id"]]


def test_a_question_on_a_persons_post_that_does_not_name_it_is_left_to_the_person(
        app, creator, reader):
    wren = taking_part(creator)
    post = post_about(creator, wren["id"])
    event = comment(reader, post["id"], "Where did you find this character?")
    assert members(app).on_comment(event) is None
    plain = comment(reader, post["id"], "Lovely lighthouse.")
    assert members(app).on_comment(plain) is None
    assert character_comments(app, post["id"]) == []


def test_a_character_stays_quiet_unless_its_creator_lets_it_take_part(app, creator, reader):
    quiet = taking_part(creator, name="Moss", replies=False)
    default = creator.call("POST", "/api/characters", json={"name": "Fern"}).get_json()[
        "character"]
    creator.call("POST", f"/api/characters/{default['id']}/publish")
    assert default["community_replies"] is False  # off unless turned on
    for character in (quiet, default):
        post = post_about(creator, character["id"])
        event = comment(reader, post["id"], f"{character['name']}, are you there?")
        assert members(app).on_comment(event) is None
        assert character_comments(app, post["id"]) == []


def test_at_most_n_answers_per_thread_per_hour(app, creator, reader):
    wren = taking_part(creator)
    post = post_about(creator, wren["id"])
    now = [utcnow()]
    speaker = members(app, clock=lambda: now[0])
    answered = [speaker.on_comment(comment(reader, post["id"], f"Wren, tell me thing {n}?"))
                for n in range(3)]
    assert [a is not None for a in answered] == [True, True, False]  # the setting is 2
    assert len(character_comments(app, post["id"])) == 2
    other_post = post_about(creator, wren["id"], body="Another thread")
    assert speaker.on_comment(comment(reader, other_post["id"], "Wren?")) is not None
    now[0] += timedelta(minutes=61)
    assert speaker.on_comment(comment(reader, post["id"], "Wren, still up?")) is not None


def test_characters_never_answer_a_character_so_there_is_no_bot_loop(app, creator, reader):
    wren = taking_part(creator)
    moss = taking_part(creator, name="Moss")
    post_id = post_by(app, wren["id"], body="Moss and I watched the tide.")
    speaker = members(app)
    first = speaker.on_comment(comment(reader, post_id, "Wren, and what did Moss say?"))
    assert first is not None
    # Wren's answer names nobody on purpose here, but even a character comment naming Moss
    # or asking Wren something is never answered.
    from_wren = CommentAdded(comment_id=first.id, post_id=post_id, author_id=None,
                             author_character_id=wren["id"], parent_id=first.parent_id)
    assert speaker.on_comment(from_wren) is None
    assert [c.author_character_id for c in character_comments(app, post_id)] == [wren["id"]]
    assert moss["id"] not in [c.author_character_id for c in character_comments(app, post_id)]


def test_the_answer_goes_through_moderation_and_a_refused_one_is_not_stored(app, creator,
                                                                           reader):
    wren = taking_part(creator)
    post = post_about(creator, wren["id"])
    pending = comment(reader, post["id"], "Wren, say something?")
    admin = Person(app, "admin")
    # A rule that every non-empty text breaks, under the default action table: spam is blocked.
    rule = admin.call("POST", "/api/admin/moderation/rules",
                      json={"category": "spam", "kind": "pattern", "pattern": r"[\s\S]"})
    assert rule.status_code == 201, rule.get_json()
    strict = build_moderator(app.extensions["kindred.db"], {})
    assert members(app, moderator=strict).on_comment(pending) is None
    assert character_comments(app, post["id"]) == []
    items = admin.call("GET", "/api/moderation/queue").get_json()["items"]
    assert [(i["target_type"], i["target_id"]) for i in items] == [("character", wren["id"])]


def test_a_first_post_is_welcomed_by_a_followed_character_that_takes_part(app, creator):
    wren = taking_part(creator)
    quiet = taking_part(creator, name="Moss", replies=False)
    newcomer = Person(app)
    newcomer.call("POST", f"/api/characters/{quiet['id']}/follow")  # newest follow, but quiet
    newcomer.call("POST", f"/api/characters/{wren['id']}/like")
    first = newcomer.call("POST", "/api/posts", json={"kind": "text", "body": "Hi all!"})
    post_id = first.get_json()["post"]["id"]
    event = PostPublished(post_id=post_id, author_id=newcomer.id, author_character_id=None,
                          character_id=None, kind="text")
    welcome = members(app).on_post(event)
    assert welcome is not None and welcome.author_character_id == wren["id"]
    [shown] = listed(newcomer, post_id)
    assert shown["author_kind"] == "character" and shown["author"]["name"] == "Wren"
    notes = newcomer.call("GET", "/api/notifications").get_json()["notifications"]
    # The welcome is a comment on their post too, but they hear of it once, as a welcome.
    assert [(n["kind"], n["comment_id"]) for n in notes] == [("welcome", welcome.id)]
    assert members(app).on_post(event) is None  # delivered twice: one welcome
    second = newcomer.call("POST", "/api/posts", json={"kind": "text", "body": "Me again"})
    again = PostPublished(post_id=second.get_json()["post"]["id"], author_id=newcomer.id,
                          author_character_id=None, character_id=None, kind="text")
    assert members(app).on_post(again) is None
    assert len(character_comments(app, post_id)) == 1


def test_no_welcome_without_a_character_the_newcomer_follows_or_liked(app, creator):
    taking_part(creator)
    newcomer = Person(app)
    first = newcomer.call("POST", "/api/posts", json={"kind": "text", "body": "Hi all!"})
    post_id = first.get_json()["post"]["id"]
    event = PostPublished(post_id=post_id, author_id=newcomer.id, author_character_id=None,
                          character_id=None, kind="text")
    assert members(app).on_post(event) is None
    assert character_comments(app, post_id) == []


@pytest.mark.parametrize("text, named", [
    ("Odessa, hi", True), ("hey @odessa!", True), ("Odessa Vane rules", True),
    ("Odessaville is far", False), ("a vane on the roof", False), ("nobody here", False)])
def test_a_character_is_named_by_its_name_or_first_name_as_whole_words(text, named):
    assert names(text, "Odessa Vane") is named
