"""One avatar pipeline: a card's image and an uploaded avatar are refused alike when they are
decompression bombs (before any pixel is decoded), and come out as the same plain PNG."""
import io
import json
import struct
import zlib

import pytest
from PIL import Image, ImageFile
from sqlmodel import select

from characters.cards import CardError
from characters.cards import png as card_png
from characters.images import MAX_PIXELS, MAX_SIDE, ImageRefused, clean_image
from characters.service import clean_avatar
from characters.uploads import clean_upload
from core.db import session_scope
from characters.models import Character


def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(ctype)))


def bomb_png(width: int, height: int) -> bytes:
    """A few hundred bytes claiming width x height grey pixels: a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (card_png.PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + _chunk(b"IEND", b""))


def as_card(image: bytes) -> bytes:
    return card_png.embed_card_json(image, {"chara": json.dumps({"name": "Bomb"}).encode()})


# Past our own limit; past Pillow's bomb warning; past Pillow's bomb error.
BOMBS = {"over_the_limit": (8_000, 6_000), "pillow_warning": (12_000, 12_000),
         "pillow_error": (30_000, 30_000)}


@pytest.fixture
def decoded(monkeypatch):
    """Every Pillow pixel decode, recorded."""
    calls, load = [], ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load",
                        lambda self: calls.append(self.size) or load(self))
    return calls


@pytest.mark.parametrize("size", sorted(BOMBS.values()))
def test_a_decompression_bomb_is_refused_alike_on_both_paths_before_decoding(size, decoded):
    bomb = bomb_png(*size)
    with pytest.raises(ImageRefused) as uploaded:
        clean_upload(bomb)
    with pytest.raises(CardError) as carded:
        clean_avatar(bomb)
    assert uploaded.value.code == "image_too_large" and uploaded.value.status == 400
    assert carded.value.code == "bad_image"  # the card import's documented code
    assert f"{MAX_PIXELS:,}" in uploaded.value.message
    assert carded.value.message.endswith(uploaded.value.message)  # the same reason, mapped
    assert decoded == []


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_bomb_is_refused_over_http_as_upload_and_inside_a_card_and_nothing_is_kept(
        app, auth, name):
    auth.signup()
    bomb = bomb_png(*BOMBS[name])
    draft = auth.call("POST", "/api/characters", json={"name": "Target"}).get_json()["character"]
    uploaded = auth.call("POST", f"/api/characters/{draft['id']}/avatar",
                         data={"file": (io.BytesIO(bomb), "bomb.png")})
    imported = auth.call("POST", "/api/characters/import",
                         data={"file": (io.BytesIO(as_card(bomb)), "bomb.png")},
                         content_type="multipart/form-data")
    assert (uploaded.status_code, uploaded.get_json()["error"]["code"]) == (400, "image_too_large")
    assert (imported.status_code, imported.get_json()["error"]["code"]) == (400, "bad_image")
    assert f"{MAX_PIXELS:,}" in imported.get_json()["error"]["message"]
    with session_scope(app.extensions["kindred.db"]) as session:
        assert session.get(Character, draft["id"]).avatar_filename is None
        assert session.exec(select(Character).where(Character.name == "Bomb")).all() == []
    avatars = app.config["INSTANCE_DIR"] / "avatars"
    assert not list(avatars.glob("upload-*")) and not list(avatars.glob("card-*"))


def test_both_paths_give_the_same_plain_png():
    image = Image.new("RGBA", (2048, 1024), (200, 40, 90, 128))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=_text_info("Comment", "secret"))
    data = out.getvalue()
    assert clean_upload(data) == clean_avatar(data) == clean_image(data)
    with Image.open(io.BytesIO(clean_image(data))) as cleaned:
        assert cleaned.size == (MAX_SIDE, MAX_SIDE // 2) and cleaned.mode == "RGBA"
        assert "Comment" not in cleaned.info


def test_each_path_keeps_its_own_rules_on_top_of_the_pipeline():
    tiny, gif = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (8, 8)).save(tiny, "PNG")
    Image.new("RGB", (64, 48)).save(gif, "GIF")
    with pytest.raises(ImageRefused) as small:
        clean_upload(tiny.getvalue())
    assert small.value.code == "image_too_small"
    assert clean_avatar(tiny.getvalue()).startswith(card_png.PNG_SIGNATURE)  # a card keeps it
    with pytest.raises(ImageRefused) as unsupported:
        clean_upload(gif.getvalue())
    assert unsupported.value.code == "unsupported_image"
    assert clean_avatar(gif.getvalue()).startswith(card_png.PNG_SIGNATURE)


def _text_info(key: str, value: str):
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    info.add_text(key, value)
    return info
