"""Creators over the JSON API: versions and restore, avatar uploads, follows and likes, creator
profiles, search (FTS5 / tsvector), tag listings, trending, the dashboard and the prompt
inspector. Bad input is a 4xx and stores nothing."""
import io
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from core.db import session_scope, utcnow
from conversations.models import Conversation
from characters.models import (Character, CharacterFollow, CharacterLike, CharacterVersion,
                               CreatorFollow, PromptReport)
from tests.support.chat import add_turn
from tests.support.events import collect_until, payloads

DRAFT = {"name": "Quill", "tagline": "A talking pen", "description": "{{char}} writes letters "
         "by moonlight.", "first_mes": "Ink?", "tags": ["writing", "Cozy"],
         "character_book": {"entries": [{"keys": ["letter"], "content": "Quill's letters rhyme.",
                                         "enabled": True, "insertion_order": 1}]}}


@pytest.fixture(autouse=True)
def no_embedding_threads(app):
    app.config["EMBED_ON_PUBLISH"] = False


def create(auth, **fields):
    response = auth.call("POST", "/api/characters", json={**DRAFT, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["character"]


def count(app, model, *where):
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(sa.select(sa.func.count()).select_from(model).where(*where)).scalar()


def image_bytes(fmt="PNG", size=(64, 48), **save):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, fmt, **save)
    return out.getvalue()


# Versions

@pytest.mark.both_databases
def test_each_publish_is_a_version_and_restore_brings_old_fields_back(app, auth):
    auth.signup()
    draft = create(auth)
    assert auth.call("GET", f"/api/characters/{draft['id']}/versions").get_json() == {"versions": []}
    first = auth.call("POST", f"/api/characters/{draft['id']}/publish")
    assert first.get_json()["version"] == 1
    auth.call("PATCH", f"/api/characters/{draft['id']}", json={"description": "Changed."})
    second = auth.call("POST", f"/api/characters/{draft['id']}/publish",
                       json={"visibility": "unlisted"})
    assert second.get_json()["version"] == 2
    listed = auth.call("GET", f"/api/characters/{draft['id']}/versions").get_json()["versions"]
    assert [v["version"] for v in listed] == [2, 1] and listed[0]["visibility"] == "unlisted"
    one = auth.call("GET", f"/api/characters/{draft['id']}/versions/1").get_json()["version"]
    assert one["snapshot"]["description"] == DRAFT["description"]

    restored = auth.call("POST", f"/api/characters/{draft['id']}/versions/1/restore")
    assert restored.status_code == 200
    assert restored.get_json()["character"]["description"] == DRAFT["description"]
    assert restored.get_json()["version"] == 3  # a published character republishes at once
    latest = auth.call("GET", f"/api/characters/{draft['id']}/versions").get_json()["versions"][0]
    assert latest["restored_from"] == 1


@pytest.mark.both_databases
def test_conversations_keep_working_after_edits_and_restores(app, auth, socket_client):
    draft = create(auth)
    auth.call("POST", f"/api/characters/{draft['id']}/publish")
    conversation = auth.start_conversation(draft["id"])
    auth.call("PATCH", f"/api/characters/{draft['id']}", json={"first_mes": "New hello",
                                                                "description": "Rewritten."})
    auth.call("POST", f"/api/characters/{draft['id']}/versions/1/restore")
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "A letter?"})
    events = collect_until(socket_client)
    done = payloads(events, "chat:done")
    assert done and done[0]["message"]["role"] == "assistant", [e["name"] for e in events]
    got = auth.call("GET", f"/api/conversations/{conversation['id']}").get_json()["conversation"]
    assert got["messages"][0]["content"] == "Ink?" and len(got["messages"]) == 3


def test_versions_are_the_creators_only_and_bad_numbers_are_refused(app, auth):
    auth.signup()
    draft = create(auth)
    auth.call("POST", f"/api/characters/{draft['id']}/publish")
    assert auth.call("POST", f"/api/characters/{draft['id']}/versions/9/restore").status_code == 404
    assert auth.call("POST", f"/api/characters/{draft['id']}/versions/0/restore").status_code == 400
    assert auth.call("POST", f"/api/characters/{draft['id']}/versions/x/restore").status_code == 404
    auth.call("POST", "/api/auth/logout")
    auth.signup()
    assert auth.call("GET", f"/api/characters/{draft['id']}/versions").status_code == 404
    assert auth.call("POST", f"/api/characters/{draft['id']}/versions/1/restore").status_code == 404
    assert count(app, CharacterVersion) == 1


def test_publish_and_edit_refresh_the_embedding_off_the_request(app, auth, monkeypatch):
    import discovery.embeddings as embeddings
    app.config["EMBED_ON_PUBLISH"] = True
    seen, done = [], threading.Event()

    def fake_refresh(session, character_id, embedder=None):
        if session.bind is not app.extensions["kindred.db"]:
            return False  # a background refresh left over from an earlier test's app
        seen.append(character_id)
        if len(seen) == 2:
            done.set()
        return True

    monkeypatch.setattr(embeddings, "refresh_embedding", fake_refresh)
    auth.signup()
    draft = create(auth)
    auth.call("PATCH", f"/api/characters/{draft['id']}", json={"tagline": "private edit"})
    auth.call("POST", f"/api/characters/{draft['id']}/publish")
    auth.call("PATCH", f"/api/characters/{draft['id']}", json={"tagline": "public edit"})
    assert done.wait(10) and seen == [draft["id"], draft["id"]]  # the private edit is skipped


# Avatars

@pytest.mark.parametrize("fmt, save", [("PNG", {}), ("JPEG", {"quality": 90}), ("WEBP", {})])
def test_avatar_upload_is_reencoded_as_a_plain_png(app, auth, client, fmt, save):
    auth.signup()
    draft = create(auth)
    data = image_bytes(fmt, **save)
    if fmt == "JPEG":  # with EXIF metadata that must not survive
        img = Image.open(io.BytesIO(data))
        exif = Image.Exif()
        exif[0x010E] = "secret description"
        out = io.BytesIO()
        img.save(out, "JPEG", exif=exif.tobytes())
        data = out.getvalue()
    response = auth.call("POST", f"/api/characters/{draft['id']}/avatar",
                         data={"file": (io.BytesIO(data), f"me.{fmt.lower()}")})
    assert response.status_code == 201, response.get_json()
    served = client.get(f"/characters/{draft['id']}/avatar.png")
    assert served.data.startswith(b"\x89PNG") and b"secret" not in served.data
    with Image.open(io.BytesIO(served.data)) as img:
        assert img.size == (64, 48) and not img.info.get("exif") and not img.getexif()
    reset = auth.call("DELETE", f"/api/characters/{draft['id']}/avatar")
    assert reset.status_code == 200
    assert client.get(f"/characters/{draft['id']}/avatar.png").data != served.data


@pytest.mark.parametrize("make, status, code", [
    (lambda: b"not an image at all", 400, "bad_image"),
    (lambda: b"", 400, "bad_image"),
    (lambda: image_bytes("PNG")[:60], 400, "bad_image"),
    (lambda: image_bytes("GIF"), 400, "unsupported_image"),
    (lambda: image_bytes("PNG", size=(8, 8)), 400, "image_too_small"),
    (lambda: image_bytes("PNG", size=(8000, 6000)), 400, "image_too_large"),
    (lambda: b"\x89PNG" + b"0" * (9 * 2**20), 413, "file_too_large"),
])
def test_bad_avatars_are_refused_and_nothing_changes(app, auth, make, status, code):
    auth.signup()
    draft = create(auth)
    response = auth.call("POST", f"/api/characters/{draft['id']}/avatar",
                         data={"file": (io.BytesIO(make()), "x.png")})
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    with session_scope(app.extensions["kindred.db"]) as session:
        assert session.get(Character, draft["id"]).avatar_filename is None
    avatars = app.config["INSTANCE_DIR"] / "avatars"
    assert not list(avatars.glob("upload-*")) if avatars.exists() else True


def test_avatar_needs_a_file_and_the_creator(app, auth):
    auth.signup()
    draft = create(auth)
    assert auth.call("POST", f"/api/characters/{draft['id']}/avatar").get_json()["error"][
        "code"] == "missing_file"
    auth.call("POST", "/api/auth/logout")
    auth.signup()
    response = auth.call("POST", f"/api/characters/{draft['id']}/avatar",
                         data={"file": (io.BytesIO(image_bytes()), "a.png")})
    assert response.status_code == 404


# Follows, likes, creators

@pytest.mark.both_databases
def test_follow_and_like_characters_and_creators(app, auth, client):
    auth.signup()
    creator_name = auth.username
    draft = create(auth)
    auth.call("POST", f"/api/characters/{draft['id']}/publish")
    auth.call("POST", "/api/auth/logout")
    auth.signup()
    for _ in range(2):  # idempotent
        liked = auth.call("POST", f"/api/characters/{draft['id']}/like").get_json()
        followed = auth.call("POST", f"/api/characters/{draft['id']}/follow").get_json()
    assert liked["likes"] == 1 and liked["liked"] and followed["followers"] == 1
    assert auth.call("POST", f"/api/creators/{creator_name.upper()}/follow").get_json() == {
        "followers": 1, "following": True}
    profile = client.get(f"/api/creators/{creator_name}").get_json()["creator"]
    assert profile["username"] == creator_name and profile["following"] and profile["followers"] == 1
    assert [c["id"] for c in profile["characters"]] == [draft["id"]]
    assert profile["characters"][0]["likes"] == 1
    unliked = auth.call("DELETE", f"/api/characters/{draft['id']}/like").get_json()
    assert unliked["likes"] == 0 and not unliked["liked"] and unliked["following"]
    assert auth.call("DELETE", f"/api/creators/{creator_name}/follow").get_json()["followers"] == 0


def test_social_bad_inputs_are_4xx_and_store_nothing(app, auth, client):
    auth.signup()
    me = auth.username
    private = create(auth)
    assert auth.call("POST", f"/api/creators/{me}/follow").status_code == 400
    assert client.get("/api/creators/nobody_here").status_code == 404
    assert client.get("/api/creators/" + "x" * 40).status_code == 404
    auth.call("POST", "/api/auth/logout")
    assert client.post("/api/characters/1/like").status_code in (401, 403)
    auth.signup()
    assert auth.call("POST", f"/api/characters/{private['id']}/like").status_code == 404
    assert auth.call("POST", "/api/characters/999999/follow").status_code == 404
    assert auth.call("POST", "/api/creators/nobody_here/follow").status_code == 404
    assert auth.call("PUT", "/api/characters/1/like").status_code == 405
    assert client.post("/api/characters/1/like").status_code == 403  # no CSRF header
    for model in (CharacterLike, CharacterFollow, CreatorFollow):
        assert count(app, model) == 0
    # The profile lists public characters only.
    assert client.get(f"/api/creators/{me}").get_json()["creator"]["characters"] == []


# Search, tags, trending

@pytest.mark.both_databases
def test_search_finds_public_characters_by_name_tag_and_description(app, auth, client):
    auth.signup()
    quill = create(auth)
    auth.call("POST", f"/api/characters/{quill['id']}/publish")
    hidden = create(auth, name="Quillon", description="Hidden draft about moonlight.")
    ids = lambda r: [c["id"] for c in r.get_json()["results"]]  # noqa: E731
    assert quill["id"] in ids(client.get("/api/search?q=quill"))
    assert quill["id"] in ids(client.get("/api/search?q=moonlight"))  # description
    assert quill["id"] in ids(client.get("/api/search?q=writing"))  # tags
    assert quill["id"] in ids(client.get("/api/search?q=MOONLIGHT+letters"))
    assert hidden["id"] not in ids(client.get("/api/search?q=moonlight"))
    assert ids(client.get("/api/search?q=zebra")) == []
    assert quill["id"] in ids(client.get("/api/search?tag=cozy"))
    assert quill["id"] in ids(client.get("/api/search?tag=%23Cozy&q=letters"))
    assert ids(client.get("/api/search?tag=horror&q=quill")) == []
    # The index follows edits (triggers on SQLite, the expression itself on PostgreSQL).
    auth.call("PATCH", f"/api/characters/{quill['id']}", json={"description": "Sunlit poems."})
    assert quill["id"] not in ids(client.get("/api/search?q=moonlight"))
    assert quill["id"] in ids(client.get("/api/search?q=sunlit"))
    # Seeded cast is searchable too; odd punctuation is just text, never query syntax.
    assert client.get('/api/search?q="OR(*)NEAR-').status_code == 200
    assert client.get("/api/search?q=%22%22").status_code == 200


@pytest.mark.parametrize("query, code", [
    ("", "bad_request"), ("q=" + "a" * 201, "query_too_long"), ("tag=" + "t" * 41, "tag_too_long"),
    ("q=x&limit=abc", "bad_request"), ("q=x&offset=-1", "bad_request"),
])
def test_bad_searches_are_a_400(client, query, code):
    response = client.get("/api/search?" + query)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


@pytest.mark.both_databases
def test_trending_weighs_recent_engagement_over_old(app, auth, client):
    auth.signup()
    fresh, stale = create(auth, name="Fresh"), create(auth, name="Stale")
    for c in (fresh, stale):
        auth.call("POST", f"/api/characters/{c['id']}/publish")
    with session_scope(app.extensions["kindred.db"]) as session:
        now = utcnow()
        user_id = session.exec(sa.text("SELECT id FROM users LIMIT 1")).scalar()
        for days, character in ((0, fresh), (10, stale), (10, stale), (30, stale)):
            session.add(Conversation(user_id=user_id, character_id=character["id"],
                                     created_at=now - timedelta(days=days)))
        session.commit()
    results = client.get("/api/trending").get_json()["results"]
    ranked = [r["id"] for r in results]
    assert ranked.index(fresh["id"]) < ranked.index(stale["id"])
    assert all(r["score"] > 0 for r in results)
    auth.call("POST", f"/api/characters/{fresh['id']}/unpublish")
    assert fresh["id"] not in [r["id"] for r in client.get("/api/trending").get_json()["results"]]
    assert client.get("/api/trending?limit=nope").status_code == 400


# Dashboard

@pytest.mark.both_databases
def test_dashboard_counts_and_seven_day_trend(app, auth):
    auth.signup()
    creator = auth.username
    draft = create(auth)
    auth.call("POST", f"/api/characters/{draft['id']}/publish")
    add_turn(app, auth.start_conversation(draft["id"])["id"], "preview", "not counted")
    auth.call("POST", "/api/auth/logout")
    auth.signup()
    conversation = auth.start_conversation(draft["id"])
    add_turn(app, conversation["id"], "hello", "hi there")
    auth.call("POST", f"/api/characters/{draft['id']}/like")
    auth.call("POST", f"/api/characters/{draft['id']}/follow")
    assert auth.call("GET", f"/api/characters/{draft['id']}/stats").status_code == 404
    auth.call("POST", "/api/auth/logout")
    auth.login(creator)
    body = auth.call("GET", f"/api/characters/{draft['id']}/stats").get_json()
    assert body["totals"] == {"conversations": 1, "messages": 2, "unique_users": 1,
                              "followers": 1, "likes": 1}
    assert len(body["trend"]) == 7 and body["trend"][-1] == {
        "day": utcnow().date().isoformat(), "conversations": 1, "messages": 2, "likes": 1,
        "follows": 1}


# Prompt inspector

@pytest.mark.both_databases
def test_prompt_inspector_shows_fired_lore_and_token_parts(app, auth, socket_client):
    draft = create(auth)
    conversation = auth.start_conversation(draft["id"])
    socket_client.emit("chat:send", {"conversation_id": conversation["id"],
                                     "content": "Write me a letter"})
    done = payloads(collect_until(socket_client), "chat:done")[0]
    reply_id = done["message"]["id"]
    report = auth.call("GET", f"/api/messages/{reply_id}/prompt")
    assert report.status_code == 200, report.get_json()
    prompt = report.get_json()["prompt"]
    assert [e["content"] for e in prompt["lore_entries"]] == ["Quill's letters rhyme."]
    assert prompt["lore_entries"][0]["trigger"] == "key: letter"
    parts = prompt["parts"]
    assert parts["lorebook"] == prompt["lore_entries"][0]["tokens"] > 0
    assert parts["character_definition"] > 0 and parts["history"] > 0
    assert sum(parts.values()) >= prompt["total_tokens"] - parts["other_system_sections"]
    user_message = done["message"]["parent_id"]
    assert auth.call("GET", f"/api/messages/{user_message}/prompt").status_code == 404
    auth.call("POST", "/api/auth/logout")
    auth.signup()
    assert auth.call("GET", f"/api/messages/{reply_id}/prompt").status_code == 404
    assert count(app, PromptReport) == 1


def test_pages_render_and_refuse_what_they_should(app, auth, client):
    assert client.get("/studio").status_code == 302  # log in first
    assert client.get("/search").status_code == 200
    assert client.get("/tags/Cozy").status_code == 200
    assert client.get("/creators/nobody_here").status_code == 404
    auth.signup()
    me = auth.username
    draft = create(auth)
    assert client.get("/studio").status_code == 200
    assert client.get(f"/studio/{draft['id']}").status_code == 200
    assert client.get(f"/creators/{me}").status_code == 200
    studio = auth.call("GET", f"/api/characters/{draft['id']}/studio").get_json()["character"]
    assert studio["character_book"]["entries"][0]["keys"] == ["letter"]
    mine = auth.call("GET", "/api/me/characters").get_json()["characters"]
    assert [c["id"] for c in mine] == [draft["id"]] and mine[0]["version"] is None
    auth.call("POST", "/api/auth/logout")
    auth.signup()
    assert client.get(f"/studio/{draft['id']}").status_code == 404
    assert auth.call("GET", f"/api/characters/{draft['id']}/studio").status_code == 404
