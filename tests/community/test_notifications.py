"""Notifications: replies, likes, new followers and posts by followed creators and characters
notify the right people once, never for their own acts; the list, the unread count, marking
read; and notify:new on the user's own sockets (Flask-SocketIO's test client)."""
import pytest
from sqlmodel import Session

from characters.models import Character
from community.models import Notification
from community.posts import create_post
from core.extensions import socketio
from tests.community.core_support import Person, chat_post, count


def _kinds(person):
    return [(n["kind"], n["actor"]["username"] if n["actor"] else None)
            for n in person.get("/api/notifications").get_json()["notifications"]]


def _comment(person, post_id, body, parent_id=None):
    response = person.call("POST", f"/api/posts/{post_id}/comments",
                           json={"body": body, "parent_id": parent_id})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["comment"]


def test_comments_and_replies_notify_the_post_author_and_the_one_replied_to(app, alice, bob):
    carol = Person(app)
    post = chat_post(alice)
    first = _comment(bob, post["id"], "Lovely")
    assert _kinds(alice) == [("reply", bob.username)]
    _comment(carol, post["id"], "Agreed", parent_id=first["id"])
    assert _kinds(bob) == [("reply", carol.username)]
    assert _kinds(alice) == [("reply", carol.username), ("reply", bob.username)]
    _comment(alice, post["id"], "Thanks both", parent_id=first["id"])  # own post: no self-notice
    assert _kinds(alice) == [("reply", carol.username), ("reply", bob.username)]
    assert _kinds(bob)[0] == ("reply", alice.username)
    listed = alice.get("/api/notifications").get_json()
    assert listed["unread"] == 2
    newest = listed["notifications"][0]
    assert newest["post_id"] == post["id"] and newest["snippet"] == "Agreed"
    assert newest["url"] == f"/posts/{post['id']}" and carol.username in newest["text"]


def test_a_like_notifies_once_even_after_unlike_and_like_again(app, alice, bob):
    post = chat_post(alice)
    for method in ("POST", "DELETE", "POST", "POST"):
        bob.call(method, f"/api/posts/{post['id']}/like")
    alice.call("POST", f"/api/posts/{post['id']}/like")  # her own like: nothing
    assert _kinds(alice) == [("like", bob.username)]
    assert _kinds(bob) == []


def test_new_followers_and_their_creators_posts(app, alice, bob):
    assert bob.call("POST", f"/api/creators/{alice.username}/follow").status_code == 200
    assert bob.call("POST", f"/api/creators/{alice.username}/follow").status_code == 200
    assert _kinds(alice) == [("follow", bob.username)]
    follow = alice.get("/api/notifications").get_json()["notifications"][0]
    assert follow["url"] == f"/creators/{bob.username}"
    post = chat_post(alice)
    assert _kinds(bob) == [("post", alice.username)]
    assert bob.get("/api/notifications").get_json()["notifications"][0]["post_id"] == post["id"]
    assert _kinds(alice) == [("follow", bob.username)]  # not told of her own post


def test_a_followed_character_posting_notifies_its_followers_who_may_read_it(app, alice, bob):
    assert bob.call("POST", "/api/characters/1/follow").status_code == 200
    assert alice.call("POST", "/api/characters/1/follow").status_code == 200
    db = app.extensions["kindred.db"]
    with Session(db, expire_on_commit=False) as session:
        character = session.get(Character, 1)
        post = create_post(session, None, {"kind": "intro", "body": "Hello, I am new here."},
                           app.extensions["kindred.moderator"], author_character=character)
    for person in (alice, bob):
        notes = person.get("/api/notifications").get_json()["notifications"]
        assert [(n["kind"], n["actor_character"]["id"], n["post_id"]) for n in notes] == [
            ("post", 1, post.id)]
    # A mature character's post reaches only followers who may read it.
    with Session(db, expire_on_commit=False) as session:
        character = session.get(Character, 1)
        character.content_rating = "mature"
        session.add(character)
        session.commit()
        create_post(session, None, {"kind": "intro", "body": "Another hello."},
                    app.extensions["kindred.moderator"], author_character=character)
    assert len(_kinds(bob)) == 1


@pytest.mark.both_databases
def test_marking_read_all_or_some(app, alice, bob):
    post = chat_post(alice)
    ids = [_comment(bob, post["id"], f"Comment {i}")["id"] for i in range(3)]
    assert len(ids) == 3
    listed = alice.get("/api/notifications").get_json()
    assert listed["unread"] == 3
    some = listed["notifications"][0]["id"]
    marked = alice.call("POST", "/api/notifications/read", json={"ids": [some]}).get_json()
    assert marked == {"marked": 1, "unread": 2}
    assert bob.call("POST", "/api/notifications/read", json={"ids": [some]}).get_json()[
        "marked"] == 0  # not his
    assert alice.call("POST", "/api/notifications/read").get_json() == {"marked": 2, "unread": 0}
    assert all(n["read"] for n in alice.get("/api/notifications").get_json()["notifications"])
    for bad in ({"ids": "all"}, {"ids": [True]}, {"ids": ["1"]}):
        assert alice.call("POST", "/api/notifications/read", json=bad).status_code == 400
    assert alice.get("/api/notifications?limit=0").status_code == 400
    assert alice.get("/api/notifications?before=x").status_code == 400
    page = alice.get("/api/notifications?limit=2").get_json()["notifications"]
    older = alice.get(f"/api/notifications?limit=2&before={page[-1]['id']}").get_json()
    assert len(page) == 2 and [n["id"] for n in older["notifications"]] == [
        min(n["id"] for n in alice.get("/api/notifications").get_json()["notifications"])]


@pytest.mark.both_databases
def test_notifications_about_a_deleted_post_are_not_listed(app, alice, bob):
    post = chat_post(alice)
    _comment(bob, post["id"], "Hi")
    assert alice.get("/api/notifications").get_json()["unread"] == 1
    alice.call("DELETE", f"/api/posts/{post['id']}")
    assert alice.get("/api/notifications").get_json() == {"notifications": [], "unread": 0}
    assert count(app, Notification) == 1  # kept, just not listed


def test_notifications_are_pushed_live_to_the_users_own_sockets(app, alice, bob):
    alice_socket = socketio.test_client(app, flask_test_client=alice.client)
    second_tab = socketio.test_client(app, flask_test_client=alice.client)
    bob_socket = socketio.test_client(app, flask_test_client=bob.client)
    try:
        for sio in (alice_socket, second_tab, bob_socket):
            assert sio.is_connected()
            sio.get_received()
        post = chat_post(alice)
        bob.call("POST", f"/api/posts/{post['id']}/like")
        for sio in (alice_socket, second_tab):
            pushed = [m["args"][0] for m in sio.get_received() if m["name"] == "notify:new"]
            assert len(pushed) == 1
            assert pushed[0]["notification"]["kind"] == "like"
            assert pushed[0]["notification"]["actor"]["username"] == bob.username
            assert pushed[0]["unread"] == 1
        assert [m for m in bob_socket.get_received() if m["name"] == "notify:new"] == []
    finally:
        for sio in (alice_socket, second_tab, bob_socket):
            if sio.is_connected():
                sio.disconnect()


def test_a_blocked_creators_acts_do_not_notify(app, alice, bob):
    response = alice.call("PUT", "/api/me/discovery", json={"blocked_creator_ids": [bob.id]})
    assert response.status_code == 200, response.get_json()
    post = chat_post(alice)
    bob.call("POST", f"/api/posts/{post['id']}/like")
    _comment(bob, post["id"], "Hello?")
    assert _kinds(alice) == []
