"""Posting and commenting are limited per user (COMMUNITY_POST_RATE_LIMIT,
COMMUNITY_COMMENT_RATE_LIMIT): past the limit a 429 with Retry-After, nothing stored, and other
people can still post."""
import pytest

from community.models import Comment, Post
from tests.community.core_support import count, publish


@pytest.fixture
def app_config(app_config):
    return type("LimitedConfig", (app_config,), {"COMMUNITY_POST_RATE_LIMIT": "2 per hour",
                                                 "COMMUNITY_COMMENT_RATE_LIMIT": "2 per hour"})


def test_posts_and_comments_past_the_limit_are_refused_and_not_stored(app, alice, bob):
    posts = [publish(alice, kind="text", body=f"Post {i}") for i in range(3)]
    assert [r.status_code for r in posts] == [201, 201, 429]
    assert posts[2].headers.get("Retry-After")
    assert posts[2].get_json()["error"]["code"] == "too_many_requests"
    assert count(app, Post) == 2
    assert publish(bob, kind="text", body="Mine").status_code == 201
    post_id = posts[0].get_json()["post"]["id"]
    comments = [bob.call("POST", f"/api/posts/{post_id}/comments", json={"body": f"Hi {i}"})
                for i in range(3)]
    assert [r.status_code for r in comments] == [201, 201, 429]
    assert count(app, Comment) == 2
    assert alice.call("POST", f"/api/posts/{post_id}/comments",
                      json={"body": "Thanks"}).status_code == 201
