"""GET /api/feed: what each tab holds, in which order, why, and what it never shows."""
from datetime import datetime, timezone

from tests.community.feed_world import (add_post, app, app_config, character_id, db,  # noqa: F401
                                        feed, follow_character, follow_creator, ids, like,
                                        make_user, read_all, set_status, user_id)


def test_new_tab_is_every_visible_post_newest_first(auth, db):
    auth.signup()
    creator = make_user(db)
    older = add_post(db, author_id=creator, age_hours=5)
    newest = add_post(db, author_id=creator, age_hours=1)
    middle = add_post(db, author_character_id=character_id(db, "Bramble"),
                      character_id=character_id(db, "Bramble"), age_hours=3)
    page = feed(auth, "new")
    assert ids(page) == [newest, middle, older]
    assert page["next_cursor"] is None
    assert all(p["reason"] for p in page["posts"])


def test_following_holds_followed_creators_and_characters_and_posts_about_them(auth, db):
    auth.signup()
    me = user_id(db, auth.username)
    followed, stranger = make_user(db, "followed_one"), make_user(db)
    bramble, cinder = character_id(db, "Bramble"), character_id(db, "Cinder")
    follow_creator(db, me, followed)
    follow_character(db, me, bramble)
    by_creator = add_post(db, author_id=followed, age_hours=4)
    by_character = add_post(db, author_character_id=bramble, character_id=bramble, age_hours=3)
    about_character = add_post(db, author_id=stranger, character_id=bramble, age_hours=2)
    add_post(db, author_id=stranger, age_hours=1)                      # not followed
    add_post(db, author_character_id=cinder, character_id=cinder)      # not followed
    page = feed(auth, "following")
    assert ids(page) == [about_character, by_character, by_creator]
    reasons = {p["id"]: p["reason"] for p in page["posts"]}
    assert reasons[by_creator] == "You follow followed_one"
    assert reasons[by_character] == "You follow Bramble"
    assert reasons[about_character] == "About Bramble, whom you follow"


def test_following_is_empty_for_someone_who_follows_nobody(auth, db):
    auth.signup()
    add_post(db, author_id=make_user(db))
    assert feed(auth, "following") == {"posts": [], "next_cursor": None}


def test_trending_orders_by_engagement_that_fades_with_time(auth, db):
    auth.signup()
    creator = make_user(db)
    fresh_popular = add_post(db, author_id=creator, likes=10, age_hours=2)
    old_very_popular = add_post(db, author_id=creator, likes=40, age_hours=96)  # 40/16 = 2.5
    commented = add_post(db, author_id=creator, likes=2, comments=3, age_hours=1)  # ~8
    quiet = add_post(db, author_id=creator, age_hours=0)
    page = feed(auth, "trending")
    assert ids(page) == [fresh_popular, commented, old_very_popular, quiet]
    assert page["posts"][0]["reason"] == "Trending: 10 likes"
    assert page["posts"][-1]["reason"] == "New post"


def test_for_you_puts_posts_about_characters_you_like_first_and_says_why(auth, db):
    auth.signup()
    response = auth.call("PUT", "/api/me/interests", json={"tags": ["fantasy", "dragon"]})
    assert response.status_code == 200
    creator = make_user(db)
    fantasy = [character_id(db, "Bramble"), character_id(db, "Cinder")]
    others = [character_id(db, n) for n in ("Juniper Okafor", "Rio Vance", "Sable Marrow")]
    posts = {}
    for hours, c in enumerate(others + fantasy):  # the fantasy ones are the oldest
        posts[c] = add_post(db, author_id=creator, character_id=c, likes=3, age_hours=hours)
    page = feed(auth, "for_you")
    assert set(ids(page)[:2]) == {posts[c] for c in fantasy}
    assert set(ids(page)) == set(posts.values())
    top = page["posts"][0]
    assert top["reason"].startswith(("Matches your interests", "You like #"))
    assert "#fantasy" in top["reason"] or "#dragon" in top["reason"]


def test_for_you_learns_from_liked_posts_and_leaves_them_and_your_own_out(auth, db):
    auth.signup()
    me = user_id(db, auth.username)
    creator = make_user(db)
    cinder, juniper = character_id(db, "Cinder"), character_id(db, "Juniper Okafor")
    liked = add_post(db, author_id=creator, character_id=cinder, age_hours=30)
    like(db, me, liked)
    mine = add_post(db, author_id=me, character_id=cinder)
    about_juniper = add_post(db, author_id=creator, character_id=juniper, age_hours=1)
    about_cinder = add_post(db, author_id=creator, character_id=cinder, age_hours=2)
    page = feed(auth, "for_you")
    assert ids(page)[0] == about_cinder
    assert liked not in ids(page) and mine not in ids(page)
    assert about_juniper in ids(page)
    assert page["posts"][0]["reason"] == "Because you liked Cinder"


def test_for_you_gives_new_creators_a_share_and_says_so(app, auth, db):
    from community.feed_api import build_feed
    from community.ranking import FeedSettings
    feed_service = build_feed(app.config, app.extensions["kindred.discovery"])
    feed_service.settings = FeedSettings(explore_share=0.3)
    app.extensions["kindred.feed"] = feed_service
    auth.signup()
    veteran, newcomer = make_user(db), make_user(db)
    add_post(db, author_id=veteran, age_hours=24 * 30)  # the veteran's first post: a month ago
    veteran_posts = [add_post(db, author_id=veteran, likes=20, age_hours=1) for _ in range(9)]
    newcomer_post = add_post(db, author_id=newcomer, age_hours=30)
    page = feed(auth, "for_you", limit=10)
    assert newcomer_post in ids(page)
    assert ids(page)[0] in veteran_posts  # exploration never takes the top
    reason = next(p["reason"] for p in page["posts"] if p["id"] == newcomer_post)
    assert reason == "From a new creator"


def test_no_tab_shows_hidden_deleted_or_others_held_posts(auth, db):
    auth.signup()
    me = user_id(db, auth.username)
    creator = make_user(db)
    shown = add_post(db, author_id=creator, likes=1)
    hidden = add_post(db, author_id=creator, likes=5, status="hidden")
    deleted = add_post(db, author_id=creator, likes=5, status="deleted")
    held = add_post(db, author_id=creator, likes=5, status="held")
    my_held = add_post(db, author_id=me, status="held")
    later_hidden = add_post(db, author_id=creator, likes=3)
    follow_creator(db, me, creator)
    assert later_hidden in read_all(auth, "trending")
    set_status(db, later_hidden, "hidden")
    for tab in ("new", "following", "trending", "for_you"):
        seen = read_all(auth, tab)
        assert shown in seen, tab
        assert not {hidden, deleted, held, later_hidden} & set(seen), tab
    assert my_held in read_all(auth, "new")  # a held post is visible to its author only
    assert my_held in read_all(auth, "trending")


def test_blocked_creators_and_their_characters_never_appear(auth, db):
    auth.signup()
    me = user_id(db, auth.username)
    blocked, other = make_user(db), make_user(db)
    from tests.community.feed_world import session_scope, Character
    with session_scope(db) as session:
        theirs = Character(name="Blocked Creation", creator_id=blocked, tags=["misc"])
        session.add(theirs)
        session.commit()
        theirs_id = theirs.id
    response = auth.call("PUT", "/api/me/discovery", json={"blocked_creator_ids": [blocked]})
    assert response.status_code == 200
    kept = add_post(db, author_id=other, likes=1)
    by_blocked = add_post(db, author_id=blocked, likes=9)
    by_their_character = add_post(db, author_character_id=theirs_id, character_id=theirs_id,
                                  likes=9)
    about_their_character = add_post(db, author_id=other, character_id=theirs_id, likes=9)
    follow_creator(db, me, blocked)
    follow_character(db, me, theirs_id)
    follow_creator(db, me, other)
    for tab in ("new", "following", "trending", "for_you"):
        seen = read_all(auth, tab)
        assert kept in seen, tab
        assert not {by_blocked, by_their_character, about_their_character} & set(seen), tab


def test_mature_posts_only_for_adults_who_turned_mature_content_on(auth, db):
    auth.signup()
    creator = make_user(db)
    sfw = add_post(db, author_id=creator)
    mature = add_post(db, author_id=creator, content_rating="mature", likes=4)
    for tab in ("new", "trending", "for_you"):
        assert set(read_all(auth, tab)) == {sfw}, tab
    assert auth.call("PUT", "/api/me/discovery", json={"show_mature": True}).status_code == 403
    from tests.support.users import update_user
    update_user(db, auth.username, birth_year=datetime.now(timezone.utc).year - 30)
    assert set(read_all(auth, "new")) == {sfw}  # adult, but mature content still off
    assert auth.call("PUT", "/api/me/discovery", json={"show_mature": True}).status_code == 200
    for tab in ("new", "trending", "for_you"):
        assert set(read_all(auth, tab)) == {sfw, mature}, tab
    update_user(db, auth.username, birth_year=None)  # no longer known to be an adult
    assert set(read_all(auth, "new")) == {sfw}


def test_posts_about_a_private_or_hidden_character_are_left_out(auth, db):
    auth.signup()
    creator = make_user(db)
    from tests.community.feed_world import session_scope, Character
    with session_scope(db) as session:
        private = Character(name="Secret", creator_id=creator, visibility="private")
        hidden = Character(name="Taken Down", creator_id=creator, moderation_hidden=True)
        session.add_all([private, hidden])
        session.commit()
        private_id, hidden_id = private.id, hidden.id
    kept = add_post(db, author_id=creator)
    add_post(db, author_id=creator, character_id=private_id)
    add_post(db, author_id=creator, character_id=hidden_id)
    for tab in ("new", "trending", "for_you"):
        assert read_all(auth, tab) == [kept], tab


def test_each_post_is_the_post_payload_with_a_reason(auth, db):
    auth.signup()
    post = add_post(db, author_id=make_user(db), body="hello feed", likes=2)
    item = feed(auth, "new")["posts"][0]
    single = auth.call("GET", f"/api/posts/{post}").get_json()["post"]
    assert {k: v for k, v in item.items() if k != "reason"} == single
    assert item["reason"] == "New post"


def test_bad_tab_cursor_or_limit_is_a_400_json_error(auth, db):
    auth.signup()
    for _ in range(3):
        add_post(db, author_id=make_user(db))
    good_new = feed(auth, "new", limit=1)["next_cursor"]
    good_trending = feed(auth, "trending", limit=1)["next_cursor"]
    cases = {"tab=everything": "bad_tab", "tab=": "bad_tab",
             "tab=new&cursor=not-a-cursor": "bad_cursor",
             "tab=new&cursor=" + "A" * 300: "bad_cursor",
             f"tab=trending&cursor={good_new}": "bad_cursor",
             f"tab=following&cursor={good_new}": "bad_cursor",
             f"tab=for_you&cursor={good_trending}": "bad_cursor",
             "tab=trending&cursor=eyJ2IjoxLCJ0IjoidHJlbmRpbmciLCJzIjoibm9wZSIsIm8iOjB9":
                 "cursor_expired",
             "tab=new&cursor=eyJ2IjoxLCJ0IjoibmV3IiwiYXQiOiJ4IiwiaWQiOjF9": "bad_cursor",
             "tab=new&limit=0": "bad_request", "tab=new&limit=51": "bad_request",
             "tab=new&limit=ten": "bad_request"}
    for query, code in cases.items():
        response = auth.call("GET", f"/api/feed?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == code, query


def test_a_ranked_cursor_is_only_good_for_the_reader_it_was_made_for(app, auth, db):
    auth.signup()
    for _ in range(3):
        add_post(db, author_id=make_user(db), likes=1)
    cursor = feed(auth, "trending", limit=1)["next_cursor"]
    other = app.test_client()
    from tests.conftest import AuthActions
    stranger = AuthActions(other)
    stranger.signup()
    response = stranger.call("GET", f"/api/feed?tab=trending&cursor={cursor}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "cursor_expired"


def test_the_feed_needs_a_signed_in_user(client):
    response = client.get("/api/feed?tab=new")
    assert response.status_code == 401
