"""Editors' picks: admins feature characters, posts and stories; the public sees only what it
may still see (a hidden post or a private character drops out); every bad request is a 4xx that
stores nothing; picks come on the home page and with the feed's first page, labelled."""
import pytest
from sqlmodel import Session

from characters.models import Character
from relationships.models import Story
from tests.community.core_support import chat_post
from tests.curation.conftest import stored
from tests.moderation.conftest import act

pytestmark = pytest.mark.both_databases


def pick(admin, kind, item_id, **more):
    return admin.call("POST", "/api/admin/picks", json={"kind": kind, "id": item_id, **more})


def public_picks(client) -> list[tuple]:
    return [(p["kind"], p["item_id"]) for p in client.get("/api/picks").get_json()["picks"]]


def a_story(app, character_id=1, title="The First Frost") -> int:
    with Session(app.extensions["kindred.db"]) as session:
        story = Story(character_id=character_id, key="first-frost", title=title, definition={})
        session.add(story)
        session.commit()
        return story.id


def test_an_admin_features_a_character_a_post_and_a_story(app, client, admin, member):
    post = chat_post(member, body="The fox told me a secret")
    story_id = a_story(app)
    made = pick(admin, "character", 1, note="  A gentle start. ")
    assert made.status_code == 201, made.get_json()
    shown = made.get_json()["pick"]
    assert shown["label"] == "Editors' pick" and shown["note"] == "A gentle start."
    assert shown["url"] == "/characters/1" and shown["visible"] is True
    assert pick(admin, "post", post["id"]).get_json()["pick"]["title"] == "The fox told me a secret"
    assert pick(admin, "story", story_id).get_json()["pick"]["title"] == "The First Frost"

    # Public, newest first, with no login.
    assert public_picks(client) == [("story", story_id), ("post", post["id"]), ("character", 1)]
    assert [p["label"] for p in client.get("/api/picks").get_json()["picks"]] == ["Editors' pick"] * 3


def test_a_post_hidden_after_it_was_picked_drops_out(app, client, admin, member):
    post = chat_post(member)
    assert pick(admin, "post", post["id"]).status_code == 201
    assert public_picks(client) == [("post", post["id"])]
    assert act(admin, "hide", "post", post["id"], rule="R5").status_code == 201
    assert public_picks(client) == []
    listed = admin.call("GET", "/api/admin/picks").get_json()["picks"]
    assert [(p["item_id"], p["visible"]) for p in listed] == [(post["id"], False)]
    assert act(admin, "restore", "post", post["id"]).status_code == 201
    assert public_picks(client) == [("post", post["id"])]  # it comes back


def test_a_character_made_private_or_a_story_removed_drops_out(app, client, admin, member):
    character_id = member.character(visibility="public", name="Wren")
    story_id = a_story(app)
    pick(admin, "character", character_id)
    pick(admin, "story", story_id)
    with Session(app.extensions["kindred.db"]) as session:
        session.get(Character, character_id).visibility = "private"
        session.get(Story, story_id).removed = True
        session.commit()
    assert public_picks(client) == []


def test_deleting_a_pick(app, client, admin):
    made = pick(admin, "character", 1).get_json()["pick"]
    assert admin.call("DELETE", f"/api/admin/picks/{made['id']}").status_code == 204
    assert public_picks(client) == [] and stored(app)[1] == []
    gone = admin.call("DELETE", f"/api/admin/picks/{made['id']}")
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "not_found"


BAD_PICKS = [
    ({"kind": "room", "id": 1}, 400, "bad_kind"),
    ({"id": 1}, 400, "bad_kind"),
    ({"kind": "character", "id": "1"}, 400, "bad_field"),
    ({"kind": "character", "id": True}, 400, "bad_field"),
    ({"kind": "character", "id": 0}, 400, "bad_field"),
    ({"kind": "character", "id": 1, "note": 5}, 400, "bad_field"),
    ({"kind": "character", "id": 1, "note": "x" * 281}, 400, "too_long"),
    ({"kind": "character", "id": 1, "weight": 3}, 400, "unknown_field"),
    ({"kind": "character", "id": 999999}, 404, "not_found"),
    ({"kind": "post", "id": 999999}, 404, "not_found"),
    ({"kind": "story", "id": 999999}, 404, "not_found"),
]


@pytest.mark.parametrize("body, status, code", BAD_PICKS)
def test_a_bad_pick_is_refused_and_stores_nothing(app, admin, body, status, code):
    before = stored(app)
    response = admin.call("POST", "/api/admin/picks", json=body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert stored(app) == before


def test_private_or_hidden_items_cannot_be_picked(app, admin, member):
    private = member.character(visibility="private", name="Secret")
    post = chat_post(member)
    act(admin, "hide", "post", post["id"], rule="R5")
    before = stored(app)
    for kind, item_id in (("character", private), ("post", post["id"])):
        response = pick(admin, kind, item_id)
        assert response.status_code == 404, response.get_json()
    assert stored(app) == before


def test_the_same_item_twice_is_a_409(app, admin):
    assert pick(admin, "character", 1).status_code == 201
    before = stored(app)
    again = pick(admin, "character", 1, note="again")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_picked"
    assert stored(app) == before


def test_only_admins_manage_picks(app, client, admin, member):
    made = pick(admin, "character", 1).get_json()["pick"]
    before = stored(app)
    for method, path, body in (("POST", "/api/admin/picks", {"kind": "character", "id": 2}),
                               ("DELETE", f"/api/admin/picks/{made['id']}", None),
                               ("GET", "/api/admin/picks", None)):
        refused = member.call(method, path, json=body)
        assert refused.status_code == 403, (method, path)
        assert refused.get_json()["error"]["code"] == "forbidden"
        assert client.open(path, method=method, json=body).status_code == 401
    assert stored(app) == before


def test_picks_show_on_the_home_page_and_with_the_feeds_first_page(app, admin, member):
    post = chat_post(member, body="A quiet evening")
    assert set(member.call("GET", "/api/feed?tab=new").get_json()) == {"posts", "next_cursor"}
    pick(admin, "post", post["id"], note="Lovely writing")
    home = member.get("/").get_data(as_text=True)
    assert "Editors&#39; pick" in home and "Lovely writing" in home
    assert f'href="/posts/{post["id"]}">A quiet evening</a>' in home

    first = member.call("GET", "/api/feed?tab=new&limit=1").get_json()
    assert [(p["kind"], p["item_id"], p["label"]) for p in first["picks"]] == [
        ("post", post["id"], "Editors' pick")]
    assert set(first) == {"posts", "next_cursor", "picks"}
    if first["next_cursor"]:  # later pages keep the feed's own shape
        later = member.call("GET", f"/api/feed?tab=new&limit=1&cursor={first['next_cursor']}")
        assert set(later.get_json()) == {"posts", "next_cursor"}
