"""A creator's stories are checked against the level names the app is configured with, the same
names story play reads them with (not the defaults of config.py)."""
import copy

import pytest

from characters.stories import check_stories, level_number, story_problems
from core.errors import KindredError

LEVELS = ["Newcomer", "Pal", "Buddy", "Chum", "Ally", "Kin"]

LANTERNS = {"id": "lanterns", "title": "Lanterns", "required_level": "Pal",
            "chapters": [{"id": "gate", "title": "At the gate", "required_level": "chum",
                          "choices": [{"id": "in", "label": "Go in", "next": None}]}]}


@pytest.fixture
def app_config(app_config):
    return type("RenamedLevels", (app_config,), {"LEVEL_NAMES": list(LEVELS)})


def _draft(auth):
    response = auth.call("POST", "/api/characters", json={"name": "Lantern"})
    assert response.status_code == 201
    return response.get_json()["character"]["id"]


def test_an_edit_naming_configured_levels_is_saved_and_plays_with_them(app, auth):
    auth.signup()
    character_id = _draft(auth)
    saved = auth.call("PATCH", f"/api/characters/{character_id}",
                      json={"extensions": {"kindred/stories": [LANTERNS]}})
    assert saved.status_code == 200, saved.get_json()
    setup = auth.call("GET", f"/api/studio/relationship-setup?character_id={character_id}")
    assert setup.get_json()["story_problems"] == []
    stories = auth.call("GET", f"/api/characters/{character_id}/stories").get_json()["stories"]
    assert [(s["key"], s["required_level"], s["required_level_name"]) for s in stories] == [
        ("lanterns", 1, "Pal")]


def test_an_edit_naming_a_default_level_the_app_does_not_use_is_refused(app, auth):
    auth.signup()
    character_id = _draft(auth)
    story = copy.deepcopy(LANTERNS)
    story["required_level"] = "Friend"  # a name of config.Config, not of this app
    refused = auth.call("PATCH", f"/api/characters/{character_id}",
                        json={"extensions": {"kindred/stories": [story]}})
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "bad_story"
    assert "'required_level' must be a level number or one of Newcomer, Pal, Buddy" in error["message"]


def test_the_schema_reads_levels_only_with_the_names_it_is_given():
    assert story_problems([LANTERNS], LEVELS) == []
    assert level_number(" chum ", LEVELS) == 3 and level_number(99, LEVELS) == 5
    assert level_number("Friend", LEVELS) is None and level_number(True, LEVELS) is None
    with pytest.raises(KindredError) as refused:
        check_stories([LANTERNS], ["Stranger", "Friend"])
    assert refused.value.code == "bad_story" and "story 1 ('lanterns')" in refused.value.message
