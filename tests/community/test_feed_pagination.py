"""Cursor pages: no post is skipped or repeated while posts are published, liked and hidden
between pages. The keyset pages run on SQLite and PostgreSQL."""
import pytest

from tests.community.feed_world import (add_post, app, app_config, character_id, db,  # noqa: F401
                                        feed, follow_creator, ids, like, make_user, read_all,
                                        set_status, user_id)


@pytest.mark.both_databases
def test_new_pages_skip_and_repeat_nothing_while_posts_arrive(auth, db):
    auth.signup()
    creator = make_user(db)
    before = [add_post(db, author_id=creator, age_hours=h) for h in range(12, 0, -1)]
    arrived = []
    seen = read_all(auth, "new", limit=5,
                    between=lambda n: arrived.append(add_post(db, author_id=creator)))
    assert seen == list(reversed(before))  # the newest first, each exactly once
    assert not set(arrived) & set(seen)    # the new ones are above, for the next refresh
    assert ids(feed(auth, "new"))[:len(arrived)] == list(reversed(arrived))


@pytest.mark.both_databases
def test_posts_published_in_the_same_instant_are_split_by_id_without_loss(auth, db):
    auth.signup()
    creator = make_user(db)
    from datetime import timedelta
    from tests.community.feed_world import Post, session_scope, utcnow
    moment = utcnow() - timedelta(minutes=1)
    with session_scope(db) as session:
        rows = [Post(kind="text", body=f"same {i}", author_id=creator, created_at=moment,
                     updated_at=moment) for i in range(7)]
        session.add_all(rows)
        session.commit()
        made = sorted(r.id for r in rows)
    assert read_all(auth, "new", limit=3) == list(reversed(made))


def test_following_pages_stay_stable_while_posts_arrive(auth, db):
    auth.signup()
    me, creator = user_id(db, auth.username), make_user(db)
    follow_creator(db, me, creator)
    before = [add_post(db, author_id=creator, age_hours=h) for h in range(9, 0, -1)]
    for h in range(9, 0, -1):
        add_post(db, author_id=make_user(db), age_hours=h + 0.5)  # not followed
    seen = read_all(auth, "following", limit=4,
                    between=lambda n: add_post(db, author_id=creator))
    assert seen == list(reversed(before))


@pytest.mark.both_databases
def test_trending_pages_keep_their_ranking_while_likes_and_posts_arrive(auth, db):
    auth.signup()
    creator = make_user(db)
    posts = [add_post(db, author_id=creator, likes=20 - i, age_hours=1) for i in range(15)]
    fans = [make_user(db) for _ in range(30)]

    def meanwhile(page_number):
        if page_number == 1:  # the last post becomes one of the most liked
            for fan in fans[:15]:
                like(db, fan, posts[-1])
        arrived.append(add_post(db, author_id=creator, likes=100))  # and a hot new post

    arrived = []
    seen = read_all(auth, "trending", limit=4, between=meanwhile)
    assert seen[:len(posts)] == posts  # the order of the first page's moment, each once
    # Past the end of that ranking come the posts that arrived meanwhile, never a repeat.
    assert len(seen) == len(set(seen)) and set(seen[len(posts):]) <= set(arrived)
    fresh = ids(feed(auth, "trending"))
    assert fresh[0] != posts[0]  # a new scroll sees the new ranking


def test_ranked_pages_drop_a_post_hidden_meanwhile_and_keep_the_rest(auth, db):
    auth.signup()
    creator = make_user(db)
    posts = [add_post(db, author_id=creator, likes=30 - i, age_hours=1) for i in range(10)]
    first = feed(auth, "trending", limit=4)
    assert ids(first) == posts[:4]
    set_status(db, posts[5], "hidden")
    rest = read_all_from(auth, "trending", first["next_cursor"], limit=4)
    assert rest == posts[4:5] + posts[6:]


def test_for_you_pages_skip_and_repeat_nothing_while_posts_and_likes_arrive(auth, db):
    auth.signup()
    me = user_id(db, auth.username)
    creator = make_user(db)
    characters = [character_id(db, n) for n in ("Bramble", "Cinder", "Juniper Okafor",
                                                 "Rio Vance", "Sable Marrow")]
    posts = [add_post(db, author_id=creator, character_id=characters[i % 5], likes=i % 4,
                      age_hours=i) for i in range(18)]

    def meanwhile(page_number):
        arrived.append(add_post(db, author_id=creator, character_id=characters[0], likes=50))
        like(db, me, posts[-page_number])

    arrived = []
    seen = read_all(auth, "for_you", limit=5, between=meanwhile)
    assert len(seen) == len(set(seen))
    assert sorted(seen[:len(posts)]) == sorted(posts)  # the first ranking, whole
    assert set(seen[len(posts):]) <= set(arrived)


def test_a_ranked_scroll_longer_than_its_snapshot_continues_without_repeats(app, auth, db):
    from community.ranking import FeedSettings
    app.extensions["kindred.feed"].settings = FeedSettings(snapshot_size=6, explore_share=0.0)
    auth.signup()
    creator = make_user(db)
    posts = [add_post(db, author_id=creator, likes=i, age_hours=1) for i in range(17)]
    seen = read_all(auth, "trending", limit=4,
                    between=lambda n: add_post(db, author_id=creator, likes=99))
    assert len(seen) == len(set(seen))
    assert set(posts) <= set(seen)
    assert seen[:6] == list(reversed(posts))[:6]


def read_all_from(auth, tab, cursor, limit):
    seen = []
    while cursor:
        page = feed(auth, tab, cursor, limit)
        seen += ids(page)
        cursor = page["next_cursor"]
    return seen


def test_with_redis_a_ranked_scroll_continues_in_another_process(app, auth, db):
    """Two Feeds with REDIS_URL stand for two server processes: the cursor of one's page reads
    on in the other, without a repeat, while a post arrives between the pages."""
    import os

    import redis

    from community.feed_api import build_feed
    from tests.support import require
    url = os.environ.get("KINDRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as exc:
        require(False, f"Redis is not reachable at {url}: {exc}")
    config = {**app.config, "REDIS_URL": url}
    processes = [build_feed(config, app.extensions["kindred.discovery"]) for _ in range(2)]
    auth.signup()
    creator = make_user(db)
    posts = [add_post(db, author_id=creator, likes=20 - i, age_hours=1) for i in range(9)]
    seen, cursor, turn = [], None, 0
    while True:
        app.extensions["kindred.feed"] = processes[turn % 2]
        page = feed(auth, "trending", cursor, limit=4)
        seen += ids(page)
        cursor, turn = page["next_cursor"], turn + 1
        if not cursor:
            break
        add_post(db, author_id=creator, likes=90)
    assert seen[:len(posts)] == posts and len(seen) == len(set(seen))
    app.extensions["kindred.feed"] = processes[0]
    gone = feed(auth, "trending", limit=2)["next_cursor"]
    redis.Redis.from_url(url).delete(*redis.Redis.from_url(url).keys(
        "kindred:feed:snapshot:*"))
    response = auth.call("GET", f"/api/feed?tab=trending&cursor={gone}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "cursor_expired"
