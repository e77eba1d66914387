"""The feed's counts reload walks every post in chunks (pausing between them in the background
so pages served meanwhile are not slowed): likes, a hide and a restore anywhere in the table,
past the first chunk, reach the trending tab."""
import pytest

from community import feed as feed_module
from tests.community.feed_world import (add_post, app, app_config, db, feed, ids,  # noqa: F401
                                        like, make_user, set_status)

pytestmark = pytest.mark.both_databases


def test_counts_and_statuses_past_the_first_chunk_reach_the_trending_tab(auth, db, monkeypatch):
    monkeypatch.setattr(feed_module, "RELOAD_CHUNK", 2)
    auth.signup()
    creator, fans = make_user(db), [make_user(db) for _ in range(3)]
    posts = [add_post(db, author_id=creator, age_hours=5 - n) for n in range(5)]
    assert ids(feed(auth, "trending")) == posts[::-1]  # nothing liked: newest first
    for fan in fans:
        like(db, fan, posts[0])   # the first chunk
    like(db, fans[0], posts[4])   # the last chunk, alone in it
    set_status(db, posts[2], "hidden")
    assert ids(feed(auth, "trending")) == [posts[0], posts[4], posts[3], posts[1]]
    set_status(db, posts[2], "published")  # restored: back in the index
    assert posts[2] in ids(feed(auth, "trending"))
