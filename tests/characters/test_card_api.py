"""Card import and export over HTTP: every field kept, lossless round-trips, clear 400s."""
import dataclasses
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import func, select

from core.db import session_scope
from characters.cards import Card, export_card, parse_card_file
from characters.cards import charx
from characters.cards import png as card_png
from characters.models import Character

SERAPHINA = Path("/work/shared/fixtures/cards/default_Seraphina.png")


def seraphina() -> tuple[Card, bytes]:
    return parse_card_file(SERAPHINA.read_bytes(), SERAPHINA.name)


def upload(auth, data: bytes, filename: str, query: str = "", **kwargs):
    return auth.call("POST", f"/api/characters/import{query}",
                     data={"file": (io.BytesIO(data), filename), **kwargs},
                     content_type="multipart/form-data")


def stored(app, character_id: int) -> Character:
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.get(Character, character_id)


def character_count(app) -> int:
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(select(func.count()).select_from(Character)).one()


def avatar_files(app) -> set[str]:
    folder = app.config["INSTANCE_DIR"] / "avatars"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def v3_json_card() -> dict:
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": {
        "name": "Mira Voss", "description": "A cartographer ✨ of lost cities.",
        "personality": "curious", "scenario": "A storm-bound library.",
        "first_mes": "*looks up* Hello, {{user}}.", "mes_example": "<START>\n{{char}}: Maps!",
        "creator_notes": "notes", "system_prompt": "Be {{char}}.",
        "post_history_instructions": "Stay brief.", "alternate_greetings": ["Hi", "Yo"],
        "tags": ["maps", "mystery"], "creator": "someone", "character_version": "3.1",
        "extensions": {"depth_prompt": {"prompt": "x", "depth": 4}, "weird/key": [1, {"a": None}],
                       "talkativeness": "0.5"},
        "character_book": {"name": "Atlas", "scan_depth": 3, "unknown_book_key": True,
                           "entries": [{"keys": ["atlas"], "content": "The Atlas is old.",
                                        "enabled": True, "insertion_order": 5,
                                        "extensions": {"x": 1}, "mystery": "kept"}]},
        "nickname": "Mimi", "source": ["https://example.org/mira"],
        "group_only_greetings": ["Hello all"], "creation_date": 1700000000,
        "modification_date": 1700000500,
        "creator_notes_multilingual": {"fr": "notes en français"},
        "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}]}}


# ------------------------------------------------------------------ import


def test_seraphina_imports_with_every_field_and_lorebook_entry(app, auth):
    auth.signup()
    card, _ = seraphina()
    response = upload(auth, SERAPHINA.read_bytes(), "default_Seraphina.png")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["character"]
    assert body["name"] == "Seraphina" and body["visibility"] == "private"
    assert body["lorebook_entries"] == 4

    character = stored(app, body["id"])
    for field in ("name", "description", "personality", "scenario", "first_mes", "mes_example",
                  "creator_notes", "system_prompt", "post_history_instructions",
                  "alternate_greetings", "tags", "creator", "character_version"):
        assert getattr(character, field) == getattr(card, field), field
    assert character.extensions == {"talkativeness": "0.5", "fav": False, "world": "Eldoria"}
    assert character.character_book == card.character_book
    assert [e["keys"][0] for e in character.character_book["entries"]] == [
        "eldoria", "shadowfang", "glade", "power"]
    assert character.creator_id is not None and character.creator == "OtisAlejandro"


def test_imported_avatar_is_reencoded_without_the_card_chunks(app, auth):
    auth.signup()
    character_id = upload(auth, SERAPHINA.read_bytes(), "s.png").get_json()["character"]["id"]
    filename = stored(app, character_id).avatar_filename
    data = (app.config["INSTANCE_DIR"] / "avatars" / filename).read_bytes()
    chunk_types = {c.type for c in card_png.read_chunks(data)}
    assert chunk_types <= {b"IHDR", b"IDAT", b"IEND"}
    assert Image.open(io.BytesIO(data)).size == (400, 600)
    served = auth.call("GET", f"/characters/{character_id}/avatar.png")
    assert served.status_code == 200 and served.data == data


def test_avatar_metadata_is_stripped(app, auth):
    auth.signup()
    image = Image.new("RGB", (64, 48), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    out = io.BytesIO()
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_text("Comment", "gps: 51.5,-0.1")
    image.save(out, "PNG", exif=exif, pnginfo=info)
    card_file = export_card(Card(name="Exif"), "png", "v2", out.getvalue())
    assert b"SecretCameraMaker" in card_file and b"gps:" in card_file
    character_id = upload(auth, card_file, "exif.png").get_json()["character"]["id"]
    avatar = (app.config["INSTANCE_DIR"] / "avatars" / stored(app, character_id).avatar_filename)
    data = avatar.read_bytes()
    assert b"SecretCameraMaker" not in data and b"gps:" not in data
    assert Image.open(io.BytesIO(data)).getpixel((5, 5)) == (10, 200, 30)


def test_private_import_is_hidden_from_everyone_but_the_owner(app, client, auth):
    auth.signup()
    character_id = upload(auth, SERAPHINA.read_bytes(), "s.png").get_json()["character"]["id"]
    assert auth.call("GET", f"/api/characters/{character_id}").status_code == 200
    assert character_id not in [c["id"] for c in client.get("/api/characters").get_json()]
    assert auth.call("GET", f"/api/characters/{character_id}/export").status_code == 200
    auth.call("POST", "/api/auth/logout")
    auth.signup()
    assert auth.call("GET", f"/api/characters/{character_id}").status_code == 404
    assert auth.call("GET", f"/api/characters/{character_id}/export").status_code == 404
    assert auth.call("GET", f"/characters/{character_id}/avatar.png").status_code == 404


def test_visibility_can_be_set_on_import(app, client, auth):
    auth.signup()
    public = upload(auth, SERAPHINA.read_bytes(), "s.png", "?visibility=public")
    assert public.get_json()["character"]["visibility"] == "public"
    assert public.get_json()["character"]["id"] in [c["id"] for c in
                                                   client.get("/api/characters").get_json()]
    unlisted = upload(auth, SERAPHINA.read_bytes(), "s.png", visibility="unlisted")
    assert unlisted.get_json()["character"]["visibility"] == "unlisted"
    bad = upload(auth, SERAPHINA.read_bytes(), "s.png", "?visibility=everyone")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_visibility"


def test_json_card_with_v3_fields_and_unknown_extensions_imports(app, auth):
    auth.signup()
    raw = json.dumps(v3_json_card()).encode()
    response = upload(auth, raw, "mira.json")
    assert response.status_code == 201, response.get_json()
    character = stored(app, response.get_json()["character"]["id"])
    assert character.avatar_filename is None  # the generated avatar is used
    assert character.extensions["weird/key"] == [1, {"a": None}]
    assert character.extensions["kindred/v3"]["nickname"] == "Mimi"
    assert character.character_book["unknown_book_key"] is True
    assert character.character_book["entries"][0]["mystery"] == "kept"


def test_import_needs_login_and_csrf(app, client, auth):
    anonymous = client.post("/api/characters/import",
                            data={"file": (io.BytesIO(SERAPHINA.read_bytes()), "s.png")},
                            content_type="multipart/form-data")
    assert anonymous.status_code in (401, 403)
    auth.signup()
    no_token = client.post("/api/characters/import",
                           data={"file": (io.BytesIO(SERAPHINA.read_bytes()), "s.png")},
                           content_type="multipart/form-data")
    assert no_token.status_code == 403
    assert no_token.get_json()["error"]["code"] == "csrf_failed"


@pytest.mark.parametrize("data, filename, code", [
    (b"", "empty.json", "empty_file"),
    (b"{not json", "broken.json", "bad_json"),
    (b'{"spec": "chara_card_v9", "data": {"name": "x"}}', "v9.json", "unknown_spec"),
    (b'{"spec": "chara_card_v2", "data": {"description": "no name"}}', "n.json", "missing_name"),
    (SERAPHINA.read_bytes()[:5000], "truncated.png", "truncated_png"),
    (b"\xff\xd8\xff\xe0 jpeg bytes", "photo.jpg", "not_a_png"),
    (b"PK\x03\x04 not really a zip", "card.charx", "bad_zip"),
    (json.dumps({"name": "x" * 121}).encode(), "long.json", "field_too_long"),
])
def test_bad_files_get_a_400_naming_the_problem_and_store_nothing(app, auth, data, filename, code):
    auth.signup()
    before, avatars = character_count(app), avatar_files(app)
    response = upload(auth, data, filename)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert character_count(app) == before and avatar_files(app) == avatars


def test_plain_png_and_undecodable_image_are_rejected(app, auth):
    auth.signup()
    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, "PNG")
    response = upload(auth, plain.getvalue(), "plain.png")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "no_card_data"
    # Valid chunk structure and card, but the pixel data is garbage.
    broken = card_png.embed_card_json(card_png.placeholder_png(4, 4)[:33] + _chunk(b"IDAT", b"xx")
                                      + _chunk(b"IEND", b""),
                                      {"chara": json.dumps({"name": "Glitch"}).encode()})
    before, avatars = character_count(app), avatar_files(app)
    response = upload(auth, broken, "glitch.png")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_image"
    assert character_count(app) == before and avatar_files(app) == avatars


def test_missing_file_field_is_a_400(app, auth):
    auth.signup()
    response = auth.call("POST", "/api/characters/import", data={"other": "x"},
                         content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "missing_file"


def test_oversized_upload_is_a_413(app, auth):
    auth.signup()
    app.config["MAX_CARD_UPLOAD_BYTES"] = 100_000
    before = character_count(app)
    response = upload(auth, SERAPHINA.read_bytes(), "s.png")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "file_too_large"
    assert character_count(app) == before


def test_upload_over_the_card_library_limit_is_a_413(app, auth):
    auth.signup()
    response = upload(auth, b" " * (20 * 2**20 + 10), "huge.json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "file_too_large"


# ------------------------------------------------------------------ export


EXPORTS = [("png", "v2"), ("png", "v3"), ("json", "v2"), ("json", "v3"), ("charx", "v3")]


@pytest.mark.both_databases
def test_seraphina_round_trips_losslessly_through_every_export(app, auth):
    auth.signup()
    original, _ = seraphina()
    character_id = upload(auth, SERAPHINA.read_bytes(), "s.png").get_json()["character"]["id"]
    for fmt, spec in EXPORTS:
        response = auth.call("GET", f"/api/characters/{character_id}/export?format={fmt}&spec={spec}")
        assert response.status_code == 200, (fmt, spec, response.get_json())
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment") and f"Seraphina.{fmt}" in disposition
        exported, _ = parse_card_file(response.data, f"Seraphina.{fmt}")
        expected = _as_exported(original, fmt)
        assert exported == expected, (fmt, spec)
        assert exported.character_book == original.character_book
        assert exported.extensions == original.extensions
        # and importing the export again stores the very same card
        again = upload(auth, response.data, f"Seraphina.{fmt}")
        assert again.status_code == 201
        reexport = auth.call("GET", f"/api/characters/{again.get_json()['character']['id']}"
                                    f"/export?format=json&spec=v3")
        assert parse_card_file(reexport.data)[0] == expected


def test_v3_only_fields_and_unknown_extensions_survive_a_v2_export(app, auth):
    auth.signup()
    original = parse_card_file(json.dumps(v3_json_card()).encode(), "mira.json")[0]
    character_id = upload(auth, json.dumps(v3_json_card()).encode(),
                          "mira.json").get_json()["character"]["id"]
    for fmt, spec in EXPORTS:
        response = auth.call("GET", f"/api/characters/{character_id}/export?format={fmt}&spec={spec}")
        # the card's main icon points into the CHARX zip when exported as CHARX
        assert parse_card_file(response.data)[0] == _as_exported(original, fmt), (fmt, spec)
    v2 = json.loads(auth.call("GET", f"/api/characters/{character_id}/export?format=json&spec=v2").data)
    assert v2["spec"] == "chara_card_v2" and v2["data"]["extensions"]["kindred/v3"]["nickname"] == "Mimi"


def test_kindred_fields_travel_under_a_namespaced_extension(app, auth):
    seeded = json.loads(auth.call("GET", "/api/characters/1/export?format=json").data)
    profile = seeded["data"]["extensions"]["kindred/profile"]
    tagline = auth.call("GET", "/api/characters/1").get_json()["character"]["tagline"]
    assert profile["tagline"] == tagline and tagline
    auth.signup()
    response = upload(auth, json.dumps(seeded).encode(), "seed.json")
    body = response.get_json()["character"]
    assert body["tagline"] == tagline
    assert "kindred/profile" not in stored(app, body["id"]).extensions
    again = json.loads(auth.call("GET", f"/api/characters/{body['id']}/export?format=json").data)
    assert again == seeded


def test_export_defaults_and_formats(app, client):
    png_file = client.get("/api/characters/1/export")
    assert png_file.status_code == 200 and png_file.mimetype == "image/png"
    chunks = {png_file.data[c.start + 8:c.end - 4].partition(b"\0")[0]
              for c in card_png.read_chunks(png_file.data) if c.type == b"tEXt"}
    assert chunks == {b"chara", b"ccv3"}
    assert client.get("/api/characters/1/export?format=charx").mimetype == "application/zip"
    as_json = client.get("/api/characters/1/export?format=json")
    assert as_json.mimetype == "application/json" and as_json.get_json()["spec"] == "chara_card_v2"


@pytest.mark.parametrize("query, code", [("format=pdf", "unsupported_export"),
                                         ("format=json&spec=v7", "unsupported_export"),
                                         ("format=charx&spec=v2", "unsupported_export")])
def test_bad_export_choices_are_400(client, query, code):
    response = client.get(f"/api/characters/1/export?{query}")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


def test_export_filename_is_safe(app, auth):
    auth.signup()
    card = {"name": '../../etc/"pa ss"wd; évil\r\nX-Header: 1'}
    character_id = upload(auth, json.dumps(card).encode(), "x.json").get_json()["character"]["id"]
    response = auth.call("GET", f"/api/characters/{character_id}/export?format=json")
    disposition = response.headers["Content-Disposition"]
    assert disposition == "attachment; filename=etc_pa_ss_wd_evil_X-Header_1.json"
    assert "X-Header" not in response.headers
    assert parse_card_file(response.data)[0].name == card["name"]


def test_missing_character_export_is_404(client):
    assert client.get("/api/characters/9999/export").status_code == 404


def _as_exported(card: Card, fmt: str) -> Card:
    """CHARX lists its embedded avatar as the spec's main icon asset; everything else is equal."""
    if fmt != "charx":
        return card
    return dataclasses.replace(card, assets=[dict(charx.MAIN_ICON_ASSET)])


def _chunk(ctype: bytes, data: bytes) -> bytes:
    import struct
    import zlib
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(ctype)))
