"""Story play announces each chapter it completes: one ChapterFinished per chapter and
play-through, delivered after the completion is committed."""
import pytest

from core.event_types import ChapterFinished
from tests.relationships.conftest import character_id, user_id_of
from tests.support.chat import add_turn


@pytest.fixture
def finished(story_app):
    seen = []
    story_app.extensions["kindred.events"].subscribe(ChapterFinished, seen.append)
    return seen


def _start_and_tuck(auth, app):
    story = auth.call("GET", f"/api/characters/{character_id(app, 'Bramble')}/stories"
                      ).get_json()["stories"][0]
    progress = auth.call("POST", f"/api/stories/{story['id']}/start").get_json()["progress"]
    chosen = auth.call("POST", f"/api/story-progress/{progress['id']}/choose",
                       json={"choice_id": "tuck"})
    assert chosen.status_code == 200
    return story["id"], progress


def _reply(app, conversation_id, text):
    _question, reply = add_turn(app, conversation_id, text, "Mm. Gently.")
    app.extensions["kindred.relationships"].after_reply(conversation_id, reply)


def test_reaching_a_chapter_goal_in_the_chat_records_one_chapter_finished(story_app, auth,
                                                                          finished):
    auth.signup()
    story_id, progress = _start_and_tuck(auth, story_app)
    bramble, user_id = character_id(story_app, "Bramble"), user_id_of(story_app, auth.username)
    finished.clear()  # the choice finished the first chapter

    _reply(story_app, progress["conversation_id"], "I lay a leaf blanket over every seed.")
    assert finished == [ChapterFinished(user_id, bramble, story_id, "seeds",
                                        progress["conversation_id"], story_finished=False)]
    _reply(story_app, progress["conversation_id"], "Another blanket, just to be sure.")
    assert len(finished) == 1  # a chapter completes once


def test_choices_record_the_chapter_they_finish_and_the_end_of_the_story(story_app, auth,
                                                                         finished):
    auth.signup()
    story_id, progress = _start_and_tuck(auth, story_app)
    assert [(e.story_id, e.chapter, e.story_finished) for e in finished] == [
        (story_id, "frost", False)]
    ended = auth.call("POST", f"/api/story-progress/{progress['id']}/choose",
                      json={"choice_id": "rest"})
    assert ended.get_json()["progress"]["status"] == "finished"
    assert [(e.chapter, e.story_finished) for e in finished] == [
        ("frost", False), ("seeds", True)]
