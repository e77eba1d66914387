"""Likes: idempotent both ways, counted once per person, on published posts one may see."""
import threading

import pytest

from community.models import PostLike
from tests.community.core_support import Person, chat_post, count


def _like(person, post_id, method="POST"):
    return person.call(method, f"/api/posts/{post_id}/like")


def test_liking_twice_counts_once_and_unliking_twice_removes_once(app, alice, bob):
    post = chat_post(alice)
    for _ in range(2):
        response = _like(bob, post["id"])
        assert response.status_code == 200
        assert response.get_json() == {"post_id": post["id"], "liked": True, "likes": 1}
    assert bob.get(f"/api/posts/{post['id']}").get_json()["post"]["liked"] is True
    assert _like(alice, post["id"]).get_json()["likes"] == 2
    for _ in range(2):
        response = _like(bob, post["id"], "DELETE")
        assert response.get_json() == {"post_id": post["id"], "liked": False, "likes": 1}
    seen = bob.get(f"/api/posts/{post['id']}").get_json()["post"]
    assert (seen["likes"], seen["liked"]) == (1, False)
    assert count(app, PostLike) == 1


@pytest.mark.both_databases
def test_likes_sent_at_once_by_many_people_are_all_counted(app, alice):
    post = chat_post(alice)
    people = [Person(app) for _ in range(4)]
    barrier = threading.Barrier(len(people) * 2)
    answers = []

    def like(person):
        barrier.wait()
        answers.append(_like(person, post["id"]).status_code)
    threads = [threading.Thread(target=like, args=(p,)) for p in people for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [200] * 8
    assert alice.get(f"/api/posts/{post['id']}").get_json()["post"]["likes"] == 4
    assert count(app, PostLike) == 4


def test_unknown_deleted_and_signed_out_likes_are_refused(app, alice, bob):
    post = chat_post(alice)
    assert _like(bob, 999999).status_code == 404
    assert app.test_client().post(f"/api/posts/{post['id']}/like").status_code in (401, 403)
    assert alice.call("DELETE", f"/api/posts/{post['id']}").status_code == 200
    assert _like(bob, post["id"]).status_code == 404
    assert _like(bob, post["id"], "DELETE").status_code == 404
    assert count(app, PostLike) == 0
