"""The topic of the day: set by the operator (CLI or admin route) or drawn from the built-in
list; each character that takes part posts its answer and two of them play a scene; a day run
again posts nothing twice. Bad topics are a 4xx and store nothing."""
import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.cli import app as cli_app
from community.member_models import CommunityTopic
from community.models import Post
from community.topics import BUILT_IN_TOPICS, TopicRun
from config import Config
from core.db import session_scope, utcnow
from tests.moderation.conftest import Person
from tests.community.member_world import quiet_config, taking_part


@pytest.fixture
def app_config(app_config):
    return quiet_config(app_config, COMMUNITY_SCENE_TURNS=3)


@pytest.fixture
def admin(app):
    return Person(app, "admin")


def run_today(app):
    return TopicRun(app.extensions["kindred.db"], app.extensions["kindred.inference"],
                    app.extensions["kindred.moderator"], app.config).run(utcnow().date())


def posts(app, *kinds) -> list[Post]:
    with session_scope(app.extensions["kindred.db"]) as session:
        return list(session.exec(select(Post).where(Post.kind.in_(kinds)).order_by(Post.id)))


def topics_count(app) -> int:
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(sa.select(sa.func.count()).select_from(CommunityTopic)).scalar()


@pytest.mark.both_databases
def test_characters_that_take_part_answer_the_operators_topic_and_play_a_scene(app, admin,
                                                                              client):
    creator = Person(app)
    wren, moss = taking_part(creator, name="Wren"), taking_part(creator, name="Moss")
    taking_part(creator, name="Fern", replies=False)
    hidden = taking_part(creator, name="Ash")
    creator.call("POST", f"/api/characters/{hidden['id']}/unpublish")
    set_ = admin.call("POST", "/api/admin/community/topic",
                      json={"prompt": "What does the sea sound like to you?"})
    assert set_.status_code == 201 and set_.get_json()["topic"]["source"] == "operator"

    posted = run_today(app)
    assert posted["answers"] == 2 and posted["scene"] is True
    answers = posts(app, "topic")
    assert sorted(p.author_character_id for p in answers) == sorted([wren["id"], moss["id"]])
    for answer in answers:
        assert answer.author_kind == "character" and answer.author_id is None
        assert answer.body.startswith("Topic of the day: What does the sea sound like to you?")
    [scene] = posts(app, "scene")
    pair = {scene.author_character_id, scene.character_id}
    assert pair == {wren["id"], moss["id"]}
    names = [line["name"] for line in scene.excerpt]
    assert len(names) >= 2 and all(a != b for a, b in zip(names, names[1:]))  # they alternate

    shown = client.get("/api/community/topic").get_json()["topic"]
    assert shown["prompt"] == "What does the sea sound like to you?"
    assert sorted(shown["answer_post_ids"]) == sorted(p.id for p in answers)
    assert shown["scene_post_id"] == scene.id
    feed_post = client.get(f"/api/posts/{answers[0].id}").get_json()["post"]
    assert feed_post["author_kind"] == "character" and feed_post["kind"] == "topic"

    assert run_today(app) == {**posted, "answers": 0, "scene": False}  # nothing twice
    assert len(posts(app, "topic", "scene")) == 3
    late = admin.call("POST", "/api/admin/community/topic", json={"prompt": "Too late?"})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "topic_already_run"


def test_without_an_operators_topic_the_day_draws_one_from_the_list(app, client):
    creator = Person(app)
    taking_part(creator, name="Wren")
    before = client.get("/api/community/topic").get_json()["topic"]
    assert before["source"] == "list" and before["prompt"] in BUILT_IN_TOPICS
    assert topics_count(app) == 0  # looking stores nothing
    posted = run_today(app)
    assert posted["prompt"] == before["prompt"] and posted["answers"] == 1
    assert posted["scene"] is False  # one character cannot play a scene


def test_the_operator_sets_the_topic_from_the_command_line(app, monkeypatch):
    monkeypatch.setattr(Config, "DATABASE_URL", app.config["DATABASE_URL"])
    runner = cli_app.test_cli_runner()
    result = runner.invoke(args=["community", "topic", "Which door would you open first?"])
    assert result.exit_code == 0, result.output
    assert "Which door would you open first?" in result.output
    with session_scope(app.extensions["kindred.db"]) as session:
        [topic] = session.exec(select(CommunityTopic)).all()
    assert (topic.day, topic.source) == (utcnow().date(), "operator")
    bad = runner.invoke(args=["community", "topic", " "])
    assert bad.exit_code != 0 and "1 to 300 characters" in bad.output
    worse = runner.invoke(args=["community", "topic", "ok", "--day", "someday"])
    assert worse.exit_code != 0
    assert topics_count(app) == 1


@pytest.mark.parametrize("body, status, code", [
    ({"prompt": ""}, 400, "bad_topic"),
    ({"prompt": "x" * 301}, 400, "bad_topic"),
    ({"prompt": 42}, 400, "bad_topic"),
    ({"prompt": "ok", "day": "2020-01-01"}, 400, "bad_day"),
    ({"prompt": "ok", "day": "tomorrow"}, 400, "bad_day"),
    ({"prompt": "ok", "colour": "red"}, 400, "unknown_field"),
])
def test_bad_topics_are_refused_and_store_nothing(app, admin, body, status, code):
    answer = admin.call("POST", "/api/admin/community/topic", json=body)
    assert answer.status_code == status and answer.get_json()["error"]["code"] == code
    assert topics_count(app) == 0


def test_only_admins_set_the_topic(app):
    someone = Person(app)
    answer = someone.call("POST", "/api/admin/community/topic", json={"prompt": "Mine?"})
    assert answer.status_code == 403
    assert app.test_client().post("/api/admin/community/topic",
                                  json={"prompt": "Mine?"}).status_code in (401, 403)
    assert topics_count(app) == 0
