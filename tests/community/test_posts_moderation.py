"""Posts and comments through moderation: held ones are seen by their author only, marked in
review, until a moderator restores them; reports of posts and comments reach the queue with
their context, and hide/restore act on them; when the pipeline is down nothing is posted.

The operator's policy here holds spam on posts and comments instead of blocking it, and the
shipped rules flag "free gems" as spam."""
import pytest

from community.models import Comment, Post
from tests.community.core_support import Person, chat_post, count, publish, seed_rules
from tests.moderation.conftest import act

SPAM = "Free gems for everyone who reads this"


@pytest.fixture
def app_config(app_config):
    return type("HoldingConfig", (app_config,), {
        "SAFETY_POLICY": {"spam": {"post": "hold", "comment": "hold"}}})


@pytest.fixture
def alice(app):
    seed_rules(app)
    return Person(app)


@pytest.fixture
def moderator(app):
    return Person(app, "moderator")


def _queue_item(moderator, target_type, target_id):
    items = moderator.get("/api/moderation/queue").get_json()["items"]
    return next(i for i in items if (i["target_type"], i["target_id"]) == (target_type,
                                                                           target_id))


def test_a_held_post_is_the_authors_alone_until_a_moderator_restores_it(app, alice, bob,
                                                                        moderator):
    follower = Person(app)
    assert follower.call("POST", f"/api/creators/{alice.username}/follow").status_code == 200
    response = publish(alice, kind="text", body=SPAM)
    assert response.status_code == 201, response.get_json()
    post = response.get_json()["post"]
    assert post["status"] == "held" and post["in_review"] is True
    assert alice.get(f"/api/posts/{post['id']}").get_json()["post"]["in_review"] is True
    for reader in (bob, follower):
        assert reader.get(f"/api/posts/{post['id']}").status_code == 404
        assert reader.get(f"/posts/{post['id']}/card.png").status_code == 404
        assert reader.call("POST", f"/api/posts/{post['id']}/like").status_code == 404
    assert alice.call("POST", f"/api/posts/{post['id']}/like").status_code == 409
    assert follower.get("/api/notifications").get_json()["unread"] == 0

    item = _queue_item(moderator, "post", post["id"])
    assert item["source"] == "flagged" and item["category"] == "spam"
    assert item["hideable"] is True  # the queue page offers hide and restore on it
    assert {"field": "body", "text": SPAM} in item["context"]
    assert act(moderator, "restore", "post", post["id"], reason="Not spam.").status_code == 201
    assert bob.get(f"/api/posts/{post['id']}").get_json()["post"]["status"] == "published"
    notified = follower.get("/api/notifications").get_json()
    assert [(n["kind"], n["post_id"]) for n in notified["notifications"]] == [("post", post["id"])]


def test_a_reported_post_is_hidden_and_restored_by_a_moderator(app, alice, bob, moderator):
    post = chat_post(alice, body="An ordinary caption")
    report = bob.call("POST", "/api/reports", json={"target_type": "post", "target_id": post["id"],
                                                    "reason": "harassment", "note": "rude"})
    assert report.status_code == 201, report.get_json()
    item = _queue_item(moderator, "post", post["id"])
    assert item["author"]["id"] == alice.id and item["reports"][0]["note"] == "rude"
    assert {"field": "body", "text": "An ordinary caption"} in item["context"]
    assert any(line["field"].startswith("excerpt") for line in item["context"])

    hidden = act(moderator, "hide", "post", post["id"], rule="R5", reason="Harassment.")
    assert hidden.status_code == 201, hidden.get_json()
    assert bob.get(f"/api/posts/{post['id']}").status_code == 404
    assert alice.get(f"/api/posts/{post['id']}").get_json()["post"]["status"] == "hidden"
    notices = alice.get("/api/me/notices").get_json()["notices"]
    assert notices[0]["text"].startswith(f"A post of yours (#{post['id']}) was hidden")
    assert act(moderator, "restore", "post", post["id"]).status_code == 201
    assert bob.get(f"/api/posts/{post['id']}").status_code == 200


def test_what_a_user_cannot_see_cannot_be_reported(app, alice, bob):
    held = publish(alice, kind="text", body=SPAM).get_json()["post"]
    for target in ({"target_type": "post", "target_id": held["id"]},
                   {"target_type": "post", "target_id": 999999},
                   {"target_type": "comment", "target_id": 999999}):
        response = bob.call("POST", "/api/reports", json={**target, "reason": "spam"})
        assert response.status_code == 404, response.get_json()


@pytest.mark.both_databases
def test_a_reported_comment_is_hidden_and_its_post_counts_it_out(app, alice, bob, moderator):
    post = chat_post(alice)
    comment = bob.call("POST", f"/api/posts/{post['id']}/comments",
                       json={"body": "Nice one"}).get_json()["comment"]
    assert alice.call("POST", "/api/reports", json={
        "target_type": "comment", "target_id": comment["id"], "reason": "other"}).status_code == 201
    item = _queue_item(moderator, "comment", comment["id"])
    assert {"field": "comment", "text": "Nice one"} in item["context"]
    assert act(moderator, "hide", "comment", comment["id"], rule="R9",
               reason="Off topic.").status_code == 201
    assert alice.get(f"/api/posts/{post['id']}").get_json()["post"]["comments"] == 0
    assert alice.get(f"/api/posts/{post['id']}/comments").get_json()["comments"] == []
    mine = bob.get(f"/api/posts/{post['id']}/comments").get_json()["comments"]
    assert [c["status"] for c in mine] == ["hidden"]
    edit = bob.call("PATCH", f"/api/comments/{comment['id']}", json={"body": "Edited"})
    assert edit.status_code == 409
    assert act(moderator, "restore", "comment", comment["id"]).status_code == 201
    assert alice.get(f"/api/posts/{post['id']}").get_json()["post"]["comments"] == 1


def test_a_held_comment_is_the_authors_alone_and_not_counted(app, alice, bob):
    post = chat_post(alice)
    response = bob.call("POST", f"/api/posts/{post['id']}/comments", json={"body": SPAM})
    assert response.status_code == 201
    assert response.get_json()["comment"]["in_review"] is True
    assert alice.get(f"/api/posts/{post['id']}/comments").get_json()["comments"] == []
    assert [c["in_review"] for c in bob.get(f"/api/posts/{post['id']}/comments")
            .get_json()["comments"]] == [True]
    assert alice.get(f"/api/posts/{post['id']}").get_json()["post"]["comments"] == 0
    assert alice.get("/api/notifications").get_json()["unread"] == 0


def test_a_blocked_post_or_comment_is_refused_and_flagged_on_its_author(app, alice, bob,
                                                                        moderator):
    response = publish(alice, kind="text", body="go die")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["category"], error["rule"]) == ("blocked_content",
                                                                 "harassment", "R5")
    post = chat_post(alice)
    refused = bob.call("POST", f"/api/posts/{post['id']}/comments", json={"body": "go die"})
    assert refused.status_code == 422
    assert count(app, Post) == 1 and count(app, Comment) == 0
    assert _queue_item(moderator, "user", alice.id)["category"] == "harassment"
    assert _queue_item(moderator, "user", alice.id)["hideable"] is False  # a person: no hide


def test_when_moderation_is_down_nothing_is_posted(app, alice, monkeypatch):
    post = chat_post(alice)

    def broken(*_args, **_kwargs):
        raise RuntimeError("classifier gone")
    monkeypatch.setattr(app.extensions["kindred.moderator"], "moderate", broken)
    response = publish(alice, kind="text", body="Hello all")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "moderation_unavailable"
    comment = alice.call("POST", f"/api/posts/{post['id']}/comments", json={"body": "Hi"})
    assert comment.status_code == 503
    assert count(app, Post) == 1 and count(app, Comment) == 0
