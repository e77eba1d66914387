"""Behaviour of the character card import/export library (characters.cards)."""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from characters.cards import (  # noqa: E402
    V3_COMPAT_EXTENSION,
    Card,
    CardError,
    export_card,
    from_dict,
    parse_card_file,
)
from characters.cards import charx, png  # noqa: E402
from characters.cards.limits import MAX_CHARX_MEMBERS  # noqa: E402

SERAPHINA = Path("/work/shared/fixtures/cards/default_Seraphina.png")


# ---------------------------------------------------------------- helpers


def seraphina_bytes() -> bytes:
    return SERAPHINA.read_bytes()


def rich_card() -> Card:
    """A V3 card using every field, with extension/lorebook keys we do not know."""
    return Card(
        name="Mira Voss",
        description="A cartographer ✨ of lost cities.\r\nSecond line.",
        personality="curious, precise",
        scenario="A storm-bound library.",
        first_mes="*looks up* Oh! Hello, {{user}}.",
        mes_example="<START>\n{{user}}: hi\n{{char}}: hello",
        creator_notes="Made for tests.",
        system_prompt="You are {{char}}.",
        post_history_instructions="Stay in character.",
        alternate_greetings=["Alt one", "Alt two — ünïcødé"],
        tags=["fantasy", "scholar"],
        creator="kindred-tests",
        character_version="2.1",
        extensions={
            "talkativeness": "0.5",
            "fav": True,
            "world": "Atlas",
            "depth_prompt": {"prompt": "Remember the maps.", "depth": 4, "role": "system"},
            "x_vendor/unknown": {"nested": [1, 2.5, None, {"deep": True}]},
        },
        character_book={
            "name": "Atlas Lore",
            "description": "World notes",
            "scan_depth": 8,
            "token_budget": 1024,
            "recursive_scanning": True,
            "extensions": {"x_book_future": "kept"},
            "entries": [
                {
                    "keys": ["atlas", "map"],
                    "secondary_keys": ["old"],
                    "selective": True,
                    "constant": False,
                    "enabled": True,
                    "insertion_order": 10,
                    "priority": 5,
                    "position": "after_char",
                    "case_sensitive": True,
                    "extensions": {"probability": 80, "x_entry_future": {"a": 1}},
                    "id": 7,
                    "comment": "maps",
                    "name": "Atlas",
                    "content": "The Atlas is a living map.",
                    "use_regex": False,
                },
                {"keys": [], "content": "Always on", "constant": True, "enabled": False,
                 "insertion_order": 0, "extensions": {}},
            ],
        },
        nickname="Mira",
        creator_notes_multilingual={"en": "Made for tests.", "fr": "Fait pour les tests."},
        source=["https://example.com/mira"],
        group_only_greetings=["Hello, everyone."],
        creation_date=1700000000,
        modification_date=1700000500,
        assets=[
            dict(charx.MAIN_ICON_ASSET),
            {"type": "background", "uri": "https://example.com/bg.webp", "name": "main", "ext": "webp"},
        ],
        spec="v3",
    )


def text_chunks(data: bytes) -> list[tuple[str, bytes]]:
    """(keyword, value) of every tEXt chunk, parsed independently of the library."""
    found, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if ctype == b"tEXt":
            keyword, _, value = body.partition(b"\0")
            found.append((keyword.decode("latin-1"), value))
        pos += 12 + length
    return found


def chunk_bodies(data: bytes, ctype: bytes) -> list[bytes]:
    bodies, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == ctype:
            bodies.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return bodies


def png_with_text(chunks: list[tuple[str, bytes]]) -> bytes:
    """A small valid PNG carrying the given raw tEXt (keyword, value) chunks."""
    def chunk(ctype: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))

    image = png.placeholder_png()
    iend = len(image) - 12
    texts = b"".join(chunk(b"tEXt", k.encode("latin-1") + b"\0" + v) for k, v in chunks)
    return image[:iend] + texts + image[iend:]


def b64json(obj) -> bytes:
    return base64.b64encode(json.dumps(obj).encode("utf-8"))


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    return buffer.getvalue()


def error_code(data: bytes, filename: str | None = None) -> str:
    with pytest.raises(CardError) as info:
        parse_card_file(data, filename)
    assert info.value.message  # every rejection explains itself
    return info.value.code


# ---------------------------------------------------------------- the real SillyTavern card


def test_seraphina_png_imports_every_field():
    data = seraphina_bytes()
    card, avatar = parse_card_file(data, "default_Seraphina.png")

    assert card.spec == "v2"
    assert card.name == "Seraphina"
    assert len(card.description) == 2851
    assert card.description.startswith("[Seraphina's Personality= \"caring\"")
    assert "[Genre: fantasy; Tags: adventure, Magic;" in card.description
    assert len(card.first_mes) == 785
    assert card.first_mes.startswith("*You wake with a start")
    assert card.personality == card.scenario == card.mes_example == ""
    assert card.system_prompt == card.post_history_instructions == ""
    assert card.creator_notes == "ST Default Bot contest winner: roleplay bots category"
    assert card.creator == "OtisAlejandro"
    assert card.character_version == "1.0.0"
    assert card.tags == [] and card.alternate_greetings == []
    assert card.extensions == {"talkativeness": "0.5", "fav": False, "world": "Eldoria"}
    assert card.nickname is None and card.assets is None and card.group_only_greetings == []
    assert avatar == data


def test_seraphina_lorebook_is_kept_entry_for_entry():
    data = seraphina_bytes()
    card, _ = parse_card_file(data)
    raw = json.loads(base64.b64decode(dict(text_chunks(data))["chara"]))

    book = card.character_book
    assert book == raw["data"]["character_book"]
    assert book["name"] == "Eldoria"
    assert [e["id"] for e in book["entries"]] == [0, 1, 2, 3]
    assert book["entries"][0]["keys"] == ["eldoria", "wood", "forest", "magical forest"]
    assert book["entries"][1]["keys"] == ["shadowfang", "beast", "monster", "monsters", "beasts"]
    assert book["entries"][2]["keys"] == ["glade", "safe haven", "refuge"]
    assert book["entries"][3]["keys"] == ["power", "magic", "ability"]
    assert [len(e["content"]) for e in book["entries"]] == [1551, 914, 954, 710]
    for entry in book["entries"]:
        assert entry["secondary_keys"] == [] and entry["comment"] == ""
        assert entry["enabled"] is True and entry["constant"] is False and entry["selective"] is False
        assert entry["insertion_order"] == 100 and entry["position"] == "before_char"
        assert entry["extensions"] == {"position": 0, "probability": None, "useProbability": False}


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("spec", ["v2", "v3"])
@pytest.mark.parametrize("source", ["seraphina", "rich"])
def test_png_export_import_round_trip_is_identical(spec, source):
    if source == "seraphina":
        card, avatar = parse_card_file(seraphina_bytes())
    else:
        card, avatar = rich_card(), None
    exported = export_card(card, "png", spec, avatar)
    again, again_avatar = parse_card_file(exported, "card.png")
    assert again == card
    assert again_avatar == exported


@pytest.mark.parametrize("source", ["seraphina", "rich"])
def test_png_chara_chunk_alone_round_trips_including_v3_only_fields(source):
    card = parse_card_file(seraphina_bytes())[0] if source == "seraphina" else rich_card()
    exported = export_card(card, "png", "v2")
    chara_json = base64.b64decode(dict(text_chunks(exported))["chara"])
    v2_only = png.embed_card_json(exported, {"chara": chara_json})
    assert [k for k, _ in text_chunks(v2_only)] == ["chara"]
    again, _ = parse_card_file(v2_only)
    assert again.spec == "v2"
    assert again == card


@pytest.mark.parametrize("spec", ["v2", "v3"])
@pytest.mark.parametrize("source", ["seraphina", "rich"])
def test_json_export_import_round_trip_is_identical(spec, source):
    card = parse_card_file(seraphina_bytes())[0] if source == "seraphina" else rich_card()
    exported = export_card(card, "json", spec)
    assert json.loads(exported)["spec"] == f"chara_card_{spec}"
    again, avatar = parse_card_file(exported, "card.json")
    assert again == card and again.spec == spec and avatar is None


def test_charx_round_trip_is_identical_and_carries_the_avatar():
    card = rich_card()
    avatar = png.placeholder_png()
    exported = export_card(card, "charx", "v3", avatar)
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        assert set(archive.namelist()) == {"card.json", "assets/icon/images/main.png"}
        card_json = json.loads(archive.read("card.json"))
    assert card_json["spec"] == "chara_card_v3"
    assert card_json["data"]["assets"][0] == {
        "type": "icon", "uri": "embeded://assets/icon/images/main.png", "name": "main", "ext": "png",
    }
    again, icon = parse_card_file(exported, "card.charx")
    assert again == card
    assert icon == avatar


def test_charx_export_of_a_png_card_adds_the_main_icon_asset_and_strips_card_chunks():
    card, avatar = parse_card_file(seraphina_bytes())
    again, icon = parse_card_file(export_card(card, "charx", "v3", avatar))
    assert again.assets == [charx.MAIN_ICON_ASSET]
    again.assets = None
    assert again == card
    assert text_chunks(icon) == []
    assert chunk_bodies(icon, b"IDAT") == chunk_bodies(avatar, b"IDAT")


def test_charx_without_avatar_round_trips_and_has_no_icon():
    card = rich_card()
    again, icon = parse_card_file(export_card(card, "charx", "v3", None))
    assert again == card and icon is None


@pytest.mark.parametrize("fmt,spec", [("json", "v2"), ("json", "v3"), ("png", "v2"), ("png", "v3"), ("charx", "v3")])
def test_unknown_extension_and_lorebook_keys_survive_every_format(fmt, spec):
    card = rich_card()
    card.extensions["someone_else/feature"] = {"list": [{"x": [None, False, 0.25]}], "text": "ß"}
    card.character_book["entries"][0]["x_unknown_entry_key"] = [1, "two"]
    card.character_book["x_unknown_book_key"] = {"kept": True}
    exported = export_card(card, fmt, spec, png.placeholder_png() if fmt == "charx" else None)
    again, _ = parse_card_file(exported)
    assert again.extensions == card.extensions
    assert again.character_book == card.character_book


def test_v2_export_of_a_v3_card_stores_v3_only_fields_in_a_namespaced_extension():
    card = rich_card()
    exported = json.loads(export_card(card, "json", "v2"))
    stored = exported["data"]["extensions"][V3_COMPAT_EXTENSION]
    assert stored["nickname"] == "Mira"
    assert stored["group_only_greetings"] == ["Hello, everyone."]
    assert stored["assets"] == card.assets
    assert "nickname" not in exported["data"]
    again = from_dict(exported)
    assert V3_COMPAT_EXTENSION not in again.extensions
    assert again == card


def test_v2_export_of_a_plain_v2_card_adds_no_compat_extension():
    card, _ = parse_card_file(seraphina_bytes())
    exported = json.loads(export_card(card, "json", "v2"))
    assert exported["data"]["extensions"] == {"talkativeness": "0.5", "fav": False, "world": "Eldoria"}


# ---------------------------------------------------------------- PNG chunks


def test_png_export_writes_both_chunks_and_replaces_old_ones_keeping_image_data():
    original = seraphina_bytes()
    card, avatar = parse_card_file(original)
    card.name = "Seraphina II"
    exported = export_card(card, "png", "v3", avatar)

    keywords = [k for k, _ in text_chunks(exported)]
    assert sorted(keywords) == ["ccv3", "chara"]
    values = dict(text_chunks(exported))
    assert json.loads(base64.b64decode(values["chara"]))["spec"] == "chara_card_v2"
    assert json.loads(base64.b64decode(values["ccv3"]))["spec"] == "chara_card_v3"
    assert chunk_bodies(exported, b"IDAT") == chunk_bodies(original, b"IDAT")
    assert chunk_bodies(exported, b"IHDR") == chunk_bodies(original, b"IHDR")
    assert parse_card_file(exported)[0].name == "Seraphina II"


def test_png_keyword_is_matched_case_insensitively():
    data = png_with_text([("CHARA", b64json({"spec": "chara_card_v2", "spec_version": "2.0",
                                              "data": {"name": "Upper"}}))])
    card, _ = parse_card_file(data)
    assert card.name == "Upper"


def test_ccv3_chunk_is_preferred_over_chara():
    data = png_with_text([
        ("chara", b64json({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Old"}})),
        ("ccv3", b64json({"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": "New"}})),
    ])
    card, _ = parse_card_file(data)
    assert card.name == "New" and card.spec == "v3"


def test_non_png_avatar_is_re_encoded_as_png():
    from PIL import Image

    jpeg = io.BytesIO()
    Image.new("RGB", (32, 48), (200, 30, 60)).save(jpeg, "JPEG")
    exported = export_card(rich_card(), "png", "v3", jpeg.getvalue())
    card, avatar = parse_card_file(exported)
    assert card == rich_card()
    assert Image.open(io.BytesIO(avatar)).size == (32, 48)


# ---------------------------------------------------------------- other inputs


def test_v1_json_imports_as_a_flat_card():
    v1 = {"name": "Aria", "description": "A bard.", "personality": "cheerful", "scenario": "A tavern.",
          "first_mes": "Hi!", "mes_example": "<START>\n{{char}}: la la"}
    card, avatar = parse_card_file(json.dumps(v1).encode(), "aria.json")
    assert card.spec == "v1" and avatar is None
    assert (card.name, card.description, card.personality, card.scenario, card.first_mes, card.mes_example) == (
        "Aria", "A bard.", "cheerful", "A tavern.", "Hi!", "<START>\n{{char}}: la la")
    assert card.extensions == {} and card.character_book is None


def test_utf8_bom_is_tolerated_in_json():
    data = b"\xef\xbb\xbf" + json.dumps({"name": "Bom"}).encode()
    assert parse_card_file(data)[0].name == "Bom"


def test_newer_v3_minor_version_is_accepted():
    card = from_dict({"spec": "chara_card_v3", "spec_version": "3.1", "data": {"name": "Next"}})
    assert card.name == "Next"


# ---------------------------------------------------------------- rejections


def _zip_bomb() -> bytes:
    card = json.dumps({"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": "Bomb"}}).encode()
    return make_zip({"card.json": card, "assets/other/other/zeros.bin": bytes(5 * 1024 * 1024)})


BAD_INPUTS = {
    "truncated_png": lambda: (seraphina_bytes()[: 300_000], "x.png"),
    "png_without_card": lambda: (png.placeholder_png(), "plain.png"),
    "corrupt_base64": lambda: (png_with_text([("chara", b"eyJuYW1l@@@not*base64!!")]), None),
    "bad_json": lambda: (b'{"name": "x",', "x.json"),
    "bad_json_in_png": lambda: (png_with_text([("chara", base64.b64encode(b"{nope"))]), None),
    "non_utf8_json": lambda: ('{"name": "Café"}'.encode("latin-1"), "x.json"),
    "utf16_json": lambda: ('{"name": "x"}'.encode("utf-16"), "x.json"),
    "unknown_spec": lambda: (json.dumps({"spec": "chara_card_v9", "data": {"name": "x"}}).encode(), None),
    "unsupported_version": lambda: (
        json.dumps({"spec": "chara_card_v2", "spec_version": "3.0", "data": {"name": "x"}}).encode(), None),
    "zip_bomb": lambda: (_zip_bomb(), "bomb.charx"),
    "too_many_members": lambda: (make_zip({f"assets/other/other/{i}.txt": b"" for i in range(MAX_CHARX_MEMBERS + 1)},
                                          zipfile.ZIP_STORED), None),
    "path_traversal": lambda: (make_zip({"card.json": b'{"name": "x"}', "../../evil.sh": b"rm -rf"}), None),
    "absolute_path": lambda: (make_zip({"card.json": b'{"name": "x"}', "/etc/passwd": b"x"}), None),
    "charx_without_card": lambda: (make_zip({"assets/icon/images/main.png": png.placeholder_png()}), None),
    "huge_description": lambda: (json.dumps({"name": "x", "description": "a" * 300_000}).encode(), None),
    "huge_name": lambda: (json.dumps({"name": "n" * 70_000}).encode(), None),
    "random_bytes_named_png": lambda: (bytes(range(256)) * 4, "avatar.png"),
    "jpeg_instead_of_png": lambda: (b"\xff\xd8\xff\xe0" + bytes(100), "card.jpg"),
    "png_crc_damaged": lambda: (seraphina_bytes()[:100] + b"\x00" + seraphina_bytes()[101:], None),
    "json_array": lambda: (b"[1, 2, 3]", None),
    "missing_name": lambda: (json.dumps({"spec": "chara_card_v2", "data": {"description": "x"}}).encode(), None),
    "tags_not_a_list": lambda: (json.dumps({"name": "x", "tags": "a,b"}).encode(), None),
    "too_deep": lambda: (('{"name": "x", "extensions": {"a": ' + "[" * 200 + "]" * 200 + "}}").encode(), None),
    "empty": lambda: (b"", None),
    "too_large": lambda: (b" " * (21 * 1024 * 1024), None),
}
EXPECTED_CODES = {
    "truncated_png": "truncated_png",
    "png_without_card": "no_card_data",
    "corrupt_base64": "bad_base64",
    "bad_json": "bad_json",
    "bad_json_in_png": "bad_json",
    "non_utf8_json": "bad_encoding",
    "utf16_json": "bad_encoding",
    "unknown_spec": "unknown_spec",
    "unsupported_version": "unknown_spec",
    "zip_bomb": "zip_bomb",
    "too_many_members": "zip_bomb",
    "path_traversal": "unsafe_path",
    "absolute_path": "unsafe_path",
    "charx_without_card": "no_card_data",
    "huge_description": "field_too_long",
    "huge_name": "field_too_long",
    "random_bytes_named_png": "not_a_png",
    "jpeg_instead_of_png": "not_a_png",
    "png_crc_damaged": "corrupt_png",
    "json_array": "not_a_card",
    "missing_name": "missing_name",
    "tags_not_a_list": "bad_field",
    "too_deep": "too_deep",
    "empty": "empty_file",
    "too_large": "file_too_large",
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_rejected_with_a_specific_card_error(case):
    data, filename = BAD_INPUTS[case]()
    assert error_code(data, filename) == EXPECTED_CODES[case]


def test_export_rejects_an_avatar_that_is_not_an_image():
    with pytest.raises(CardError) as info:
        export_card(rich_card(), "png", "v3", os.urandom(512))
    assert info.value.code == "bad_image"


def test_export_rejects_charx_as_v2_and_unknown_formats():
    for fmt, spec in [("charx", "v2"), ("yaml", "v3"), ("json", "v4")]:
        with pytest.raises(CardError) as info:
            export_card(rich_card(), fmt, spec)
        assert info.value.code == "unsupported_export"


def test_card_error_is_a_value_error_with_code_and_message():
    error = CardError("bad_json", "The card JSON is not valid JSON.")
    assert isinstance(error, ValueError)
    assert (error.code, error.message) == ("bad_json", "The card JSON is not valid JSON.")


# ---------------------------------------------------------------- fuzzing


def _seed_files() -> dict[str, bytes]:
    card = rich_card()
    return {
        "seraphina_png": seraphina_bytes(),
        "small_png": export_card(card, "png", "v3"),
        "json": export_card(card, "json", "v2"),
        "charx": export_card(card, "charx", "v3", png.placeholder_png()),
    }


SEEDS = _seed_files()
SEED_JSON = export_card(rich_card(), "json", "v3")


def _mutate(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(data)
    for op, where, value in edits:
        pos = where % (len(buf) + 1)
        if op == "set" and buf:
            buf[pos % len(buf)] = value
        elif op == "insert":
            buf[pos:pos] = bytes([value]) * (value % 7 + 1)
        elif op == "delete":
            del buf[pos : pos + value % 16 + 1]
        elif op == "truncate":
            del buf[pos:]
    return bytes(buf)


EDITS = st.lists(
    st.tuples(st.sampled_from(["set", "insert", "delete", "truncate"]), st.integers(0, 2**31), st.integers(0, 255)),
    min_size=1,
    max_size=6,
)


@st.composite
def mutated_seed_file(draw):
    return _mutate(SEEDS[draw(st.sampled_from(sorted(SEEDS)))], draw(EDITS))


@st.composite
def png_and_charx_with_mutated_json(draw):
    """Valid containers (good CRCs, good zip) around mutated card JSON."""
    card_json = _mutate(SEED_JSON, draw(EDITS))
    if draw(st.booleans()):
        return png.embed_card_json(png.placeholder_png(), {draw(st.sampled_from(["chara", "ccv3"])): card_json})
    return make_zip({"card.json": card_json})


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
CARD_KEYS = st.sampled_from(
    ["name", "description", "first_mes", "alternate_greetings", "tags", "extensions", "character_book",
     "nickname", "creator_notes_multilingual", "source", "group_only_greetings", "creation_date",
     "assets", "spec", "spec_version", "data", V3_COMPAT_EXTENSION]
)


@st.composite
def card_shaped_json(draw):
    """Well-formed JSON with card-like keys holding values of random types."""
    data = draw(st.dictionaries(CARD_KEYS, JSON_VALUES, max_size=8))
    if draw(st.booleans()):
        data["name"] = draw(st.text(min_size=1, max_size=10))
    shape = draw(st.sampled_from(["v1", "chara_card_v2", "chara_card_v3"]))
    obj = data if shape == "v1" else {"spec": shape, "spec_version": draw(JSON_VALUES), "data": data}
    return json.dumps(obj).encode()


FUZZ_INPUTS = st.one_of(
    card_shaped_json(),
    st.binary(max_size=4096),
    st.binary(max_size=512).map(lambda b: png.PNG_SIGNATURE + b),
    st.binary(max_size=512).map(lambda b: b"PK\x03\x04" + b),
    mutated_seed_file(),
    png_and_charx_with_mutated_json(),
)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(FUZZ_INPUTS, st.sampled_from([None, "card.png", "card.json", "card.charx"]))
def test_parse_card_file_returns_a_card_or_raises_card_error_for_any_bytes(data, filename):
    try:
        card, avatar = parse_card_file(data, filename)
    except CardError as error:
        assert error.code and error.message
    else:
        assert isinstance(card, Card) and card.name
        assert avatar is None or isinstance(avatar, bytes)
        copy.deepcopy(card.to_v3_dict())
