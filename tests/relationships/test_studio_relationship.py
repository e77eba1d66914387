"""What the studio's relationship editor relies on: a creator's edit of the card's stories is
checked (a story that would not load is refused with its reason, and nothing is stored), other
extension keys survive, and GET /api/studio/relationship-setup gives the levels and the extensions."""
import copy

from core.db import session_scope
from characters.models import Character
from relationships.seed import FIRST_FROST

IMPORTED_KEYS = {"talkativeness": "0.5", "kindred/v3": {"nickname": "Lan"},
                 "kindred/greeting_levels": [0, "Friend"]}

LANTERNS = {"id": "lanterns", "title": "Lanterns", "description": "A night walk.",
            "required_level": "Friend", "start": "gate",
            "chapters": [{"id": "gate", "title": "At the gate", "scene": "*Lanterns sway.*",
                          "instructions": "Be shy.", "goal": "Walk in.", "goal_keywords": ["walk"],
                          "required_level": 0,
                          "choices": [{"id": "in", "label": "Go in", "next": "garden"}]},
                         {"id": "garden", "title": "The garden", "required_level": "Confidant",
                          "reward": 30, "choices": []}]}


def _create(auth, **extensions):
    response = auth.call("POST", "/api/characters", json={
        "name": "Lantern", "alternate_greetings": ["Hi.", "Oh, it's you."],
        "extensions": {**IMPORTED_KEYS, **extensions}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["character"]["id"]


def _stored(app, character_id):
    with session_scope(app.extensions["kindred.db"]) as session:
        character = session.get(Character, character_id)
        return copy.deepcopy(character.extensions), character.name


def _patch(auth, character_id, body):
    return auth.call("PATCH", f"/api/characters/{character_id}", json=body)


def test_a_story_with_a_choice_to_a_missing_chapter_is_refused_and_nothing_is_stored(app, auth):
    auth.signup()
    character_id = _create(auth, **{"kindred/stories": [FIRST_FROST]})
    before = _stored(app, character_id)
    broken = copy.deepcopy(LANTERNS)
    del broken["chapters"][1]
    response = _patch(auth, character_id, {"name": "Renamed", "extensions": {
        **IMPORTED_KEYS, "kindred/stories": [FIRST_FROST, broken]}})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_story"
    assert error["message"].startswith("story 2 ('lanterns'): chapter 'gate': choice 'in' leads to "
                                       "unknown chapter 'garden'. Nothing was saved")
    assert _stored(app, character_id) == before


def test_each_kind_of_broken_story_is_named_with_its_problem(app, auth):
    auth.signup()
    character_id = _create(auth)
    before = _stored(app, character_id)
    duplicate_chapter = copy.deepcopy(LANTERNS)
    duplicate_chapter["chapters"][1]["id"] = "gate"
    untitled = copy.deepcopy(LANTERNS)
    untitled["chapters"][1]["title"] = " "
    unknown_level = {**LANTERNS, "required_level": "Bestie"}
    cases = [
        ([duplicate_chapter], "story 1 ('lanterns'): chapter id 'gate' is used by 2 chapters"),
        ([LANTERNS, LANTERNS], "story 2 ('lanterns'): story id 'lanterns' is already used"),
        ([untitled], "story 1 ('lanterns'): chapter 'garden': 'title' must be non-empty text"),
        ([unknown_level], "story 1 ('lanterns'): 'required_level' must be a level number or one "
                          "of Stranger, Acquaintance"),
        ([{**LANTERNS, "id": "no spaces"}], "story 1 ('no spaces'): story id must be 1-80 letters"),
        (["junk"], "story 1: a story must be an object"),
        ({"lanterns": LANTERNS}, "'kindred/stories' must be a list of stories"),
    ]
    for stories, message in cases:
        response = _patch(auth, character_id, {"extensions": {**IMPORTED_KEYS,
                                                              "kindred/stories": stories}})
        assert response.status_code == 400, stories
        assert response.get_json()["error"]["code"] == "bad_story"
        assert response.get_json()["error"]["message"].startswith(message)
    assert _stored(app, character_id) == before


def test_a_valid_story_is_stored_listed_and_other_extension_keys_survive(app, auth):
    auth.signup()
    character_id = _create(auth, **{"kindred/levels": ["Keep your distance."]})
    setup = auth.call("GET", f"/api/studio/relationship-setup?character_id={character_id}").get_json()
    extensions = {**setup["extensions"], "kindred/stories": [LANTERNS],
                  "kindred/levels": {"Stranger": "Shy.", "Soulmate": "Devoted."}}
    response = _patch(auth, character_id, {"extensions": extensions})
    assert response.status_code == 200, response.get_json()
    stored, _ = _stored(app, character_id)
    assert stored == {**IMPORTED_KEYS, "kindred/stories": [LANTERNS],
                      "kindred/levels": {"Stranger": "Shy.", "Soulmate": "Devoted."}}
    stories = auth.call("GET", f"/api/characters/{character_id}/stories").get_json()["stories"]
    assert [(s["key"], s["title"], s["chapters"], s["required_level"], s["required_level_name"])
            for s in stories] == [("lanterns", "Lanterns", 2, 2, "Friend")]


def test_unchanged_stored_stories_are_not_judged_again_but_are_reported_to_the_studio(app, auth):
    auth.signup()
    broken = {"id": "broken", "title": "Broken", "chapters": [
        {"id": "a", "title": "A", "choices": [{"id": "x", "label": "X", "next": "nowhere"}]}]}
    character_id = _create(auth, **{"kindred/stories": [broken]})  # a new draft is kept as sent
    setup = auth.call("GET", f"/api/studio/relationship-setup?character_id={character_id}").get_json()
    assert setup["story_problems"] == [
        "story 1 ('broken'): chapter 'a': choice 'x' leads to unknown chapter 'nowhere'"]
    renamed = _patch(auth, character_id, {"name": "Renamed",
                                          "extensions": {**setup["extensions"], "mood": "calm"}})
    assert renamed.status_code == 200, renamed.get_json()
    assert _stored(app, character_id) == ({**IMPORTED_KEYS, "kindred/stories": [broken],
                                           "mood": "calm"}, "Renamed")


def test_the_setup_gives_the_configured_levels_and_only_the_creator_sees_the_extensions(app, auth):
    auth.signup()
    character_id = _create(auth)
    fresh = auth.call("GET", "/api/studio/relationship-setup").get_json()
    assert fresh == {"levels": [{"level": i, "name": name, "at": at} for i, (name, at) in enumerate(
        zip(app.config["LEVEL_NAMES"], app.config["LEVEL_THRESHOLDS"]))],
        "extensions": None, "story_problems": []}
    assert [level["name"] for level in fresh["levels"]][:2] == ["Stranger", "Acquaintance"]
    mine = auth.call("GET", f"/api/studio/relationship-setup?character_id={character_id}")
    assert mine.get_json()["extensions"] == IMPORTED_KEYS
    other = app.test_client()
    other.post("/api/auth/signup", json={"username": "mallory", "password": "password1"})
    assert other.get(f"/api/studio/relationship-setup?character_id={character_id}").status_code == 404
    assert other.get("/api/studio/relationship-setup?character_id=x").status_code == 400
    assert app.test_client().get("/api/studio/relationship-setup").status_code == 401
