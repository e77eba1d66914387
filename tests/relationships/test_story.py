"""Story mode: listing, starting and resuming, branching choices, goals, rewards, the card."""
import io
import json

import pytest

from app import create_app
from conversations.prompt import build_prompt
from core.db import session_scope
from conversations.models import Conversation, Message
from characters.models import Character
from relationships import affinity
from relationships.seed import FIRST_FROST
from tests.relationships.conftest import character_id, set_extensions, user_id_of
from tests.support.chat import add_turn
from tests.support.events import collect_until, payloads


def _stories(auth, character):
    return auth.call("GET", f"/api/characters/{character}/stories").get_json()["stories"]


def _start(auth, story_id):
    return auth.call("POST", f"/api/stories/{story_id}/start")


def _choose(auth, progress_id, choice_id):
    return auth.call("POST", f"/api/story-progress/{progress_id}/choose", json={"choice_id": choice_id})


def _messages(auth, conversation_id):
    return auth.call("GET", f"/api/conversations/{conversation_id}").get_json()[
        "conversation"]["messages"]


def test_the_seeded_story_is_listed_with_its_locks(story_app, auth):
    auth.signup()
    stories = _stories(auth, character_id(story_app, "Bramble"))
    assert [(s["title"], s["chapters"], s["locked"], s["progress"]) for s in stories] == [
        ("The First Frost", 4, False, None)]
    state = auth.call("GET", f"/api/relationships/{character_id(story_app, 'Bramble')}").get_json()
    assert [(i["type"], i["chapter"], i["level"]) for i in state["locked"]] == [
        ("chapter", "lantern", 1)]


@pytest.mark.both_databases
def test_a_story_branches_pays_rewards_once_and_resumes(story_app, auth):
    auth.signup()
    bramble = character_id(story_app, "Bramble")
    story = _stories(auth, bramble)[0]
    started = _start(auth, story["id"])
    assert started.status_code == 201
    progress = started.get_json()["progress"]
    assert progress["chapter"]["id"] == "frost" and progress["status"] == "active"
    assert [c["id"] for c in progress["chapter"]["choices"]] == ["tuck", "watch"]
    opening = _messages(auth, progress["conversation_id"])
    assert len(opening) == 1 and "Frost has silvered the moss" in opening[0]["content"]

    resumed = _start(auth, story["id"])
    assert resumed.status_code == 200 and resumed.get_json()["resumed"] is True
    assert resumed.get_json()["progress"]["id"] == progress["id"]

    chosen = _choose(auth, progress["id"], "watch")
    assert chosen.status_code == 200
    body = chosen.get_json()
    assert body["points"] == 15 and body["progress"]["chapter"]["id"] == "ferns"
    assert body["progress"]["completed_chapters"] == ["frost"]
    assert [(p["chapter"], p.get("choice")) for p in body["progress"]["path"]] == [
        ("frost", None), ("frost", "watch"), ("ferns", None)]
    shown = _messages(auth, progress["conversation_id"])
    assert [m["role"] for m in shown] == ["assistant", "user", "assistant"]
    assert shown[1]["content"] == "*Watch the frost ferns*" and "Frost Ferns" in shown[2]["content"]
    lantern = next(c for c in body["progress"]["chapter"]["choices"] if c["id"] == "lantern")
    assert lantern["locked"] is True and lantern["required_level_name"] == "Acquaintance"

    locked = _choose(auth, progress["id"], "lantern")
    assert locked.status_code == 403 and locked.get_json()["error"]["code"] == "level_locked"
    assert "Acquaintance" in locked.get_json()["error"]["message"]
    assert len(_messages(auth, progress["conversation_id"])) == 3

    with session_scope(story_app.extensions["kindred.db"]) as session:
        affinity.award_chapter(session, story_app.config, user_id_of(story_app, auth.username),
                               bramble, 0, "bonus", 10)
    opened = _choose(auth, progress["id"], "lantern").get_json()
    assert opened["progress"]["chapter"]["id"] == "lantern" and opened["points"] == 15
    state = auth.call("GET", f"/api/relationships/{bramble}").get_json()
    assert state["affinity"] == 40 and state["level_name"] == "Acquaintance"

    replay = _start(auth, story["id"])  # still active: resumes in the lantern chapter
    assert replay.get_json()["progress"]["chapter"]["id"] == "lantern"


def test_a_chapter_goal_reached_in_the_chat_completes_it_and_can_end_the_story(
        story_app, auth, socket_client):
    bramble = character_id(story_app, "Bramble")
    story = _stories(auth, bramble)[0]
    progress = _start(auth, story["id"]).get_json()["progress"]
    _choose(auth, progress["id"], "tuck")
    socket_client.emit("chat:send", {"conversation_id": progress["conversation_id"],
                                     "content": "I lay a leaf blanket over every single seed."})
    events = collect_until(socket_client, names=("story:update",))
    update = payloads(events, "story:update")[0]["progress"]
    assert update["chapter"]["id"] == "seeds" and update["chapter"]["completed"] is True
    assert update["completed_chapters"] == ["frost", "seeds"] and update["status"] == "active"
    assert payloads(events, "relationship:update")[0]["points"] == 7 + 15
    ended = _choose(auth, progress["id"], "rest").get_json()["progress"]
    assert ended["status"] == "finished" and ended["chapter"]["choices"] == []
    assert ended["points_earned"] == 30  # the seeds chapter paid once, by its goal
    again = _choose(auth, progress["id"], "rest")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "story_finished"
    replay = _start(auth, story["id"])
    assert replay.status_code == 201 and replay.get_json()["progress"]["id"] != progress["id"]
    paid = _choose(auth, replay.get_json()["progress"]["id"], "tuck").get_json()
    assert paid["points"] == 0  # chapters pay their reward once, ever


def test_the_chapter_instructions_reach_the_prompt_of_the_story_conversation(story_app, auth,
                                                                            inference):
    auth.signup(username="sam")
    story = _stories(auth, character_id(story_app, "Bramble"))[0]
    progress = _start(auth, story["id"]).get_json()["progress"]
    with session_scope(story_app.extensions["kindred.db"]) as session:
        convo = session.get(Conversation, progress["conversation_id"])
        character = session.get(Character, convo.character_id)
        history = [Message(role="user", content="What should we do?")]
        extras = story_app.extensions["kindred.replies"].prompt_extras(
            session, convo, character, history, "sam")
        text = build_prompt(character, history, "sam", inference, 2048, 50, extras=extras).text
    assert 'Story mode: "The First Frost", chapter "Frost on the Moss".' in text
    assert "Ask sam whether they want to help tuck in the seeds" in text
    assert "Chapter goal: sam decides how to spend the frosty morning." in text


@pytest.mark.parametrize("choice", ["nope", "", None, 3, ["tuck"]])
def test_bad_choices_are_refused_and_change_nothing(story_app, auth, choice):
    auth.signup()
    story = _stories(auth, character_id(story_app, "Bramble"))[0]
    progress = _start(auth, story["id"]).get_json()["progress"]
    response = _choose(auth, progress["id"], choice)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_choice" and "'tuck'" in error["message"]
    after = auth.call("GET", f"/api/story-progress/{progress['id']}").get_json()["progress"]
    assert after == progress
    assert len(_messages(auth, progress["conversation_id"])) == 1


def test_unknown_and_foreign_stories_and_progress_are_404(story_app, auth):
    auth.signup()
    story = _stories(auth, character_id(story_app, "Bramble"))[0]
    progress = _start(auth, story["id"]).get_json()["progress"]
    assert _start(auth, 999999).status_code == 404
    assert _choose(auth, 999999, "tuck").status_code == 404
    assert auth.call("GET", "/api/characters/999999/stories").status_code == 404
    assert auth.call("GET", "/api/story-progress?conversation_id=999999").status_code == 404
    assert auth.call("GET", "/api/story-progress").status_code == 400
    other = story_app.test_client()
    csrf = other.post("/api/auth/signup", json={"username": "eve", "password": "password1"}
                      ).get_json()["csrf_token"]
    stolen = other.post(f"/api/story-progress/{progress['id']}/choose", json={"choice_id": "tuck"},
                        headers={"X-CSRF-Token": csrf})
    assert stolen.status_code == 404 and stolen.get_json()["error"]["code"] == "not_found"
    assert other.get(f"/api/story-progress/{progress['id']}").status_code == 404
    no_csrf = other.post(f"/api/stories/{story['id']}/start")
    assert no_csrf.status_code == 403
    assert auth.call("GET", f"/api/story-progress/{progress['id']}").get_json()["progress"] == progress


def test_a_private_characters_stories_are_hidden_from_others(story_app, auth):
    auth.signup()
    created = auth.call("POST", "/api/characters", json={
        "name": "Secretive", "extensions": {"kindred/stories": [FIRST_FROST]}}).get_json()["character"]
    mine = _stories(auth, created["id"])
    assert len(mine) == 1
    other = story_app.test_client()
    csrf = other.post("/api/auth/signup", json={"username": "eve", "password": "password1"}
                      ).get_json()["csrf_token"]
    assert other.get(f"/api/characters/{created['id']}/stories").status_code == 404
    assert other.post(f"/api/stories/{mine[0]['id']}/start",
                      headers={"X-CSRF-Token": csrf}).status_code == 404


def test_malformed_stories_are_skipped_and_a_story_that_needs_a_level_is_locked(story_app, auth):
    auth.signup()
    gated = {**FIRST_FROST, "id": "gated", "title": "Gated", "required_level": "Confidant"}
    broken = {"id": "broken", "title": "Broken", "chapters": [
        {"id": "a", "title": "A", "choices": [{"id": "x", "label": "X", "next": "nowhere"}]}]}
    created = auth.call("POST", "/api/characters", json={
        "name": "Author", "extensions": {"kindred/stories": [gated, broken, "junk"]}}
    ).get_json()["character"]
    stories = _stories(auth, created["id"])
    assert [(s["key"], s["locked"], s["required_level_name"]) for s in stories] == [
        ("gated", True, "Confidant")]
    refused = _start(auth, stories[0]["id"])
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "level_locked"
    assert auth.call("GET", "/api/conversations").get_json()["conversations"] == []


def test_stories_round_trip_through_a_card_file(story_app, auth):
    auth.signup()
    bramble = character_id(story_app, "Bramble")
    exported = auth.call("GET", f"/api/characters/{bramble}/export?format=json")
    card = json.loads(exported.data)
    assert card["data"]["extensions"]["kindred/stories"][0]["id"] == "first-frost"
    imported = auth.call("POST", "/api/characters/import", data={
        "file": (io.BytesIO(exported.data), "bramble.json")}, content_type="multipart/form-data")
    assert imported.status_code == 201
    copy_id = imported.get_json()["character"]["id"]
    copied = _stories(auth, copy_id)
    assert [(s["key"], s["title"], s["chapters"]) for s in copied] == [
        ("first-frost", "The First Frost", 4)]
    assert copied[0]["id"] != _stories(auth, bramble)[0]["id"]
    assert _start(auth, copied[0]["id"]).status_code == 201


@pytest.mark.both_databases
def test_everything_survives_a_restart(story_app, auth, app_config, inference):
    auth.signup(username="sam")
    bramble = character_id(story_app, "Bramble")
    story = _stories(auth, bramble)[0]
    progress = _start(auth, story["id"]).get_json()["progress"]
    _choose(auth, progress["id"], "watch")
    question, _ = add_turn(story_app, progress["conversation_id"], "My cat is called Pepper.", "Hm.")
    story_app.extensions["kindred.relationships"].after_reply(
        progress["conversation_id"], _messages(auth, progress["conversation_id"])[-1]["id"])
    before = auth.call("GET", f"/api/relationships/{bramble}").get_json()
    assert before["affinity"] == 15 + 7

    restarted = create_app(app_config, inference=inference)  # a new process on the same database
    client = restarted.test_client()
    csrf = client.post("/api/auth/login", json={"username": "sam", "password": "correct horse"}
                       ).get_json()["csrf_token"]
    assert client.get(f"/api/relationships/{bramble}").get_json() == before
    memories = client.get("/api/memories").get_json()["memories"]
    assert [(m["content"], m["source"]["message_id"]) for m in memories] == [
        ("sam's cat is called Pepper", question)]
    resumed = client.post(f"/api/stories/{story['id']}/start", headers={"X-CSRF-Token": csrf})
    assert resumed.status_code == 200
    assert resumed.get_json()["progress"]["chapter"]["id"] == "ferns"
    assert resumed.get_json()["progress"]["conversation_id"] == progress["conversation_id"]
    restarted.extensions["kindred.db"].dispose()


def test_creators_level_notes_and_stories_are_plain_card_extensions(story_app, auth):
    auth.signup()
    created = auth.call("POST", "/api/characters", json={"name": "Plain"}).get_json()["character"]
    assert _stories(auth, created["id"]) == []
    set_extensions(story_app, created["id"], **{"kindred/stories": [FIRST_FROST]})
    assert len(_stories(auth, created["id"])) == 1
    set_extensions(story_app, created["id"], **{"kindred/stories": []})
    assert _stories(auth, created["id"]) == []
