"""GET /api/characters/<id>/posts: the posts about a character or written by it, newest first,
in stable pages, with the feed's filters; 404 for a character the reader may not see."""
from datetime import datetime, timezone

import pytest

from characters.models import Character
from core.db import session_scope
from tests.community.feed_world import (add_post, app, app_config, character_id, db,  # noqa: F401
                                        make_user, read_pages, set_status, user_id)
from tests.support.users import update_user


def posts_of(auth, character, cursor=None, limit=None):
    query = f"/api/characters/{character}/posts"
    params = [f"cursor={cursor}"] if cursor else []
    params += [f"limit={limit}"] if limit else []
    response = auth.call("GET", query + ("?" + "&".join(params) if params else ""))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def read_all(auth, character, limit=4, between=None) -> list[int]:
    return read_pages(lambda cursor, size: posts_of(auth, character, cursor, size), limit,
                      between)


def new_character(db, creator, **fields) -> int:
    with session_scope(db) as session:
        character = Character(name=fields.pop("name", "Someone New"), creator_id=creator,
                              **fields)
        session.add(character)
        session.commit()
        return character.id


def test_the_posts_about_a_character_and_by_it_newest_first(auth, db):
    auth.signup()
    fan = make_user(db)
    bramble, cinder = character_id(db, "Bramble"), character_id(db, "Cinder")
    about = add_post(db, author_id=fan, character_id=bramble, age_hours=5)
    intro = add_post(db, author_character_id=bramble, character_id=bramble, age_hours=3)
    scene = add_post(db, author_character_id=bramble, character_id=cinder, kind="scene",
                     age_hours=1)  # written by Bramble, about Cinder: on both pages
    add_post(db, author_id=fan, character_id=cinder, age_hours=2)
    add_post(db, author_id=fan, age_hours=0)  # about no one
    page = posts_of(auth, bramble)
    assert [p["id"] for p in page["posts"]] == [scene, intro, about]
    assert page["next_cursor"] is None
    assert scene in read_all(auth, cinder)


def test_each_post_is_the_post_payload(auth, db):
    auth.signup()
    bramble = character_id(db, "Bramble")
    post = add_post(db, author_id=make_user(db), character_id=bramble, body="hello Bramble",
                    likes=3)
    item = posts_of(auth, bramble)["posts"][0]
    assert item == auth.call("GET", f"/api/posts/{post}").get_json()["post"]


@pytest.mark.both_databases
def test_pages_skip_and_repeat_nothing_while_posts_arrive(auth, db):
    auth.signup()
    fan, bramble = make_user(db), character_id(db, "Bramble")
    before = [add_post(db, author_id=fan, character_id=bramble, age_hours=h)
              for h in range(11, 0, -1)]
    for h in range(11, 0, -1):
        add_post(db, author_id=fan, character_id=character_id(db, "Cinder"), age_hours=h + 0.5)
    arrived = []
    seen = read_all(auth, bramble, limit=4, between=lambda n: arrived.append(
        add_post(db, author_id=fan, character_id=bramble)))
    assert seen == list(reversed(before))  # newest first, each exactly once
    assert not set(arrived) & set(seen)    # the new ones are above, for the next visit
    assert [p["id"] for p in posts_of(auth, bramble, limit=len(arrived))["posts"]] == \
        list(reversed(arrived))


def test_hidden_deleted_and_others_held_posts_are_left_out(auth, db):
    auth.signup()
    me, fan, bramble = user_id(db, auth.username), make_user(db), character_id(db, "Bramble")
    shown = add_post(db, author_id=fan, character_id=bramble)
    hidden = add_post(db, author_id=fan, character_id=bramble, status="hidden")
    deleted = add_post(db, author_id=fan, character_id=bramble, status="deleted")
    held = add_post(db, author_id=fan, character_id=bramble, status="held")
    my_held = add_post(db, author_id=me, character_id=bramble, status="held")
    later_hidden = add_post(db, author_id=fan, character_id=bramble)
    assert later_hidden in read_all(auth, bramble)
    set_status(db, later_hidden, "hidden")
    seen = read_all(auth, bramble)
    assert set(seen) == {shown, my_held}  # a held post only for its author
    assert not {hidden, deleted, held, later_hidden} & set(seen)
    held_payload = next(p for p in posts_of(auth, bramble)["posts"] if p["id"] == my_held)
    assert held_payload["in_review"] is True


def test_blocked_and_banned_creators_posts_are_left_out(auth, db):
    auth.signup()
    blocked, banned, other = make_user(db), make_user(db), make_user(db)
    bramble = character_id(db, "Bramble")
    kept = add_post(db, author_id=other, character_id=bramble)
    add_post(db, author_id=blocked, character_id=bramble)
    add_post(db, author_id=banned, character_id=bramble)
    from tests.community.feed_world import User
    with session_scope(db) as session:
        session.get(User, banned).banned_at = datetime.now(timezone.utc)
        session.commit()
    theirs = new_character(db, blocked, name="Blocked Creation")
    by_their_character = add_post(db, author_character_id=theirs, character_id=bramble)
    assert by_their_character in read_all(auth, bramble)
    response = auth.call("PUT", "/api/me/discovery", json={"blocked_creator_ids": [blocked]})
    assert response.status_code == 200
    assert read_all(auth, bramble) == [kept]
    assert read_all(auth, theirs) == []  # its page still opens; none of its posts are shown


def test_mature_posts_only_for_adults_who_turned_mature_content_on(auth, db):
    auth.signup()
    bramble, fan = character_id(db, "Bramble"), make_user(db)
    sfw = add_post(db, author_id=fan, character_id=bramble)
    mature = add_post(db, author_id=fan, character_id=bramble, content_rating="mature")
    assert read_all(auth, bramble) == [sfw]
    update_user(db, auth.username, birth_year=datetime.now(timezone.utc).year - 30)
    assert read_all(auth, bramble) == [sfw]  # adult, but mature content still off
    assert auth.call("PUT", "/api/me/discovery", json={"show_mature": True}).status_code == 200
    assert read_all(auth, bramble) == [mature, sfw]


def test_a_character_the_reader_may_not_see_is_a_404(auth, db):
    auth.signup()
    me, creator = user_id(db, auth.username), make_user(db)
    private = new_character(db, creator, name="Secret", visibility="private")
    hidden = new_character(db, creator, name="Taken Down", moderation_hidden=True)
    mature = new_character(db, creator, name="Grown Up", content_rating="mature")
    mine = new_character(db, me, name="My Draft", visibility="private")
    for character in (private, hidden, mature):
        add_post(db, author_id=creator, character_id=character)
    own = add_post(db, author_id=me, character_id=mine)
    for character in (private, hidden, mature, 999_999):
        response = auth.call("GET", f"/api/characters/{character}/posts")
        assert response.status_code == 404, character
        assert response.get_json()["error"]["code"] == "not_found"
    assert read_all(auth, mine) == [own]  # a creator sees their own private character's


def test_bad_cursor_or_limit_is_a_400(auth, db):
    auth.signup()
    fan, bramble, cinder = make_user(db), character_id(db, "Bramble"), character_id(db, "Cinder")
    for _ in range(3):
        add_post(db, author_id=fan, character_id=bramble)
        add_post(db, author_id=fan, character_id=cinder)
    cinders = posts_of(auth, cinder, limit=1)["next_cursor"]
    from tests.community.feed_world import feed
    new_tab = feed(auth, "new", limit=1)["next_cursor"]
    cases = {"cursor=not-a-cursor": "bad_cursor", "cursor=" + "A" * 300: "bad_cursor",
             f"cursor={cinders}": "bad_cursor",   # another character's
             f"cursor={new_tab}": "bad_cursor",   # the feed's
             "limit=0": "bad_request", "limit=51": "bad_request", "limit=ten": "bad_request"}
    for query, code in cases.items():
        response = auth.call("GET", f"/api/characters/{bramble}/posts?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == code, query
    response = auth.call("GET", f"/api/feed?tab=new&cursor={cinders}")
    assert response.status_code == 400  # and a character's cursor is no good to the feed


def test_the_list_needs_a_signed_in_user(client):
    response = client.get("/api/characters/1/posts")
    assert response.status_code == 401
