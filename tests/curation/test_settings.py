"""Instance settings: config defaults until an admin edits them, every bad edit a 400 that stores
nothing, only admins may edit, and the pages show the name, tagline, positioning and tags."""
import pytest

from tests.community.core_support import chat_post
from tests.curation.conftest import stored
from tests.moderation.conftest import Person

pytestmark = pytest.mark.both_databases


def test_defaults_come_from_config_until_an_admin_edits_them(app, client, admin):
    app.config.update(INSTANCE_NAME="Hearthside", INSTANCE_TAGLINE="Stories by the fire.",
                      INSTANCE_FEATURED_TAGS=["cozy"])
    shown = client.get("/api/instance").get_json()["instance"]  # public: no login
    assert shown == {"name": "Hearthside", "tagline": "Stories by the fire.",
                     "featured_tags": ["cozy"], "default_content_rating": "sfw",
                     "positioning": "", "customised": []}

    response = admin.call("PATCH", "/api/admin/instance", json={
        "name": "  Lantern Hall ", "featured_tags": ["#Fantasy", "slice-of-life", "fantasy"],
        "positioning": "A small, kind place for long stories.",
        "default_content_rating": "mature"})
    assert response.status_code == 200, response.get_json()
    edited = response.get_json()["instance"]
    assert edited["name"] == "Lantern Hall"
    assert edited["tagline"] == "Stories by the fire."  # still the default
    assert edited["featured_tags"] == ["fantasy", "slice-of-life"]
    assert edited["default_content_rating"] == "mature"
    assert sorted(edited["customised"]) == ["default_content_rating", "featured_tags", "name",
                                            "positioning"]
    assert client.get("/api/instance").get_json()["instance"] == edited  # persisted

    reset = admin.call("PATCH", "/api/admin/instance", json={"name": None})
    assert reset.get_json()["instance"]["name"] == "Hearthside"


def test_the_pages_show_the_instance_instead_of_a_fixed_name(app, admin):
    admin.call("PATCH", "/api/admin/instance", json={
        "name": "Lantern Hall", "tagline": "Stories by the fire.",
        "positioning": "A small, kind place for long stories.", "featured_tags": ["cozy"]})
    home = admin.get("/").get_data(as_text=True)
    assert '<a class="brand" href="/">Lantern Hall</a>' in home
    assert "<title>Lantern Hall · Stories by the fire.</title>" in home
    assert "A small, kind place for long stories." in home
    assert 'href="/tags/cozy">#cozy</a>' in home
    assert "<title>Feed · Lantern Hall</title>" in admin.get("/feed").get_data(as_text=True)
    assert "Kindred" not in home


BAD_EDITS = [
    ({"colour": "blue"}, "unknown_field"),
    ({"name": ""}, "bad_field"),
    ({"name": "   "}, "bad_field"),
    ({"name": 7}, "bad_field"),
    ({"name": "x" * 61}, "too_long"),
    ({"tagline": "x" * 141}, "too_long"),
    ({"positioning": "x" * 2001}, "too_long"),
    ({"default_content_rating": "nsfw"}, "bad_field"),
    ({"featured_tags": "cozy"}, "bad_field"),
    ({"featured_tags": ["two words"]}, "bad_tag"),
    ({"featured_tags": [3]}, "bad_tag"),
    ({"featured_tags": ["t" * 31]}, "bad_tag"),
    ({"featured_tags": [f"tag{i}" for i in range(9)]}, "too_many_tags"),
    ({"tagline": "nul \x00 here"}, "bad_text"),
    ({}, "bad_request"),
]


@pytest.mark.parametrize("body, code", BAD_EDITS)
def test_a_bad_edit_is_a_400_and_changes_nothing(app, admin, body, code):
    admin.call("PATCH", "/api/admin/instance", json={"name": "Lantern Hall"})
    before = stored(app)
    response = admin.call("PATCH", "/api/admin/instance", json={"tagline": "fine", **body}
                          if body and code != "bad_request" else body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert stored(app) == before


def test_only_admins_edit_the_settings(app, client, member):
    moderator_like = member.call("PATCH", "/api/admin/instance", json={"name": "Mine"})
    assert moderator_like.status_code == 403
    assert moderator_like.get_json()["error"]["code"] == "forbidden"
    assert client.patch("/api/admin/instance", json={"name": "Mine"}).status_code == 401
    assert stored(app) == (None, [])


def test_a_posts_share_card_carries_the_instance_name(app, admin):
    post = chat_post(admin)
    before = admin.get(f"/posts/{post['id']}/card.png")
    assert before.status_code == 200 and before.mimetype == "image/png"
    assert admin.get(f"/posts/{post['id']}/card.png").data == before.data  # the same card again
    admin.call("PATCH", "/api/admin/instance", json={"name": "Lantern Hall of Long Stories"})
    after = admin.get(f"/posts/{post['id']}/card.png")
    assert after.status_code == 200 and after.data != before.data  # the brand line is redrawn


def test_new_characters_take_the_instance_default_rating_when_their_creator_may_make_it(app,
                                                                                       admin):
    adult, unknown_age = Person(app), Person(app)
    assert adult.call("POST", "/api/me/age", json={"birth_year": 1990}).status_code == 200
    draft = {"name": "Lamplighter", "description": "Keeps the harbour lights."}
    before = adult.call("POST", "/api/characters", json=draft).get_json()["character"]
    assert before["content_rating"] == "sfw"  # the config default
    assert 'value="mature" selected' not in adult.get("/studio").get_data(as_text=True)

    admin.call("PATCH", "/api/admin/instance", json={"default_content_rating": "mature"})

    made = adult.call("POST", "/api/characters", json=draft)
    assert made.status_code == 201 and made.get_json()["character"]["content_rating"] == "mature"
    assert 'value="mature" selected' in adult.get("/studio").get_data(as_text=True)
    chosen = adult.call("POST", "/api/characters", json={**draft, "content_rating": "sfw"})
    assert chosen.get_json()["character"]["content_rating"] == "sfw"  # the creator's choice
    minor_safe = unknown_age.call("POST", "/api/characters", json=draft)  # no age given: not
    assert minor_safe.status_code == 201                                  # refused, just sfw
    assert minor_safe.get_json()["character"]["content_rating"] == "sfw"
    assert 'value="mature" selected' not in unknown_age.get("/studio").get_data(as_text=True)
