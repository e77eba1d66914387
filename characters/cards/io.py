"""Import and export of character card files (PNG, JSON, CHARX), sniffed by content.

Every rejection of bad input is a CardError; see errors.py for the codes.
"""

from __future__ import annotations

from typing import Literal

from . import charx, png
from .errors import CardError
from .jsontext import decode_json_bytes, encode_json_bytes
from .limits import MAX_FILE_BYTES
from .model import Card, from_dict

ExportFormat = Literal["json", "png", "charx"]
ExportSpec = Literal["v2", "v3"]

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_OTHER_IMAGES = {
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"RIFF": "WebP/RIFF",
    b"BM": "BMP",
}
_IMAGE_SUFFIXES = (".png", ".apng", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")


def parse_card_file(data: bytes, filename: str | None = None) -> tuple[Card, bytes | None]:
    """Parse an uploaded card file; return (card, avatar image bytes or None).

    The format is sniffed from the content (the filename only improves error
    messages): PNG signature -> card in the ``ccv3``/``chara`` tEXt chunk, the
    PNG itself is the avatar; zip signature -> CHARX, the main icon asset is
    the avatar (in whatever image format it was stored); anything else -> JSON
    (V1, V2 or V3), no avatar.

    Raises CardError for every kind of bad input, never anything else.
    """
    data = bytes(data)
    if not data:
        raise CardError("empty_file", "The file is empty; upload a PNG, JSON or CHARX character card.")
    if len(data) > MAX_FILE_BYTES:
        raise CardError(
            "file_too_large",
            f"The file is {len(data) / 2**20:.1f} MB; at most {MAX_FILE_BYTES // 2**20} MB is accepted.",
        )
    if data.startswith(png.PNG_SIGNATURE):
        keyword, json_bytes = png.read_card_json(data)
        return from_dict(decode_json_bytes(json_bytes, f"'{keyword}' PNG chunk")), data
    if data.startswith(_ZIP_SIGNATURES):
        card_obj, icon = charx.read_charx(data)
        return from_dict(card_obj), icon
    _reject_non_json(data, filename)
    return from_dict(decode_json_bytes(data)), None


def export_card(
    card: Card,
    fmt: ExportFormat = "png",
    spec: ExportSpec = "v3",
    avatar_png: bytes | None = None,
) -> bytes:
    """Serialise ``card`` as a file in ``fmt`` ("json", "png" or "charx").

    - json: the ``spec`` ("v2" or "v3") wrapper object as UTF-8 JSON.
    - png: ``avatar_png`` (any image Pillow reads; a plain grey image if None)
      with both a ``chara`` (V2) and a ``ccv3`` (V3) tEXt chunk, as SillyTavern
      writes; old card chunks are replaced, the image data is kept intact.
      Readers prefer ``ccv3``; both chunks round-trip to the same card.
    - charx: V3 ``card.json`` plus the avatar as ``assets/icon/images/main.png``;
      CHARX is V3-only, so ``spec`` must be "v3".

    The card is re-validated first (types and size limits), so an export can
    always be imported again. Raises CardError (bad_field, field_too_long,
    bad_image, unsupported_export, ...).
    """
    card = from_dict(card.to_v3_dict())
    if spec not in ("v2", "v3"):
        raise CardError("unsupported_export", f"Unknown spec {spec!r}; use 'v2' or 'v3'.")
    if fmt == "json":
        wrapper = card.to_v2_dict() if spec == "v2" else card.to_v3_dict()
        return encode_json_bytes(wrapper, pretty=True)
    if fmt == "png":
        image = png.ensure_png(avatar_png) if avatar_png is not None else png.placeholder_png()
        payloads = {
            png.V2_KEYWORD: encode_json_bytes(card.to_v2_dict()),
            png.V3_KEYWORD: encode_json_bytes(card.to_v3_dict()),
        }
        return png.embed_card_json(image, payloads)
    if fmt == "charx":
        if spec != "v3":
            raise CardError("unsupported_export", "CHARX files always hold a V3 card; export them with spec 'v3'.")
        icon = _strip_card_chunks(png.ensure_png(avatar_png)) if avatar_png is not None else None
        return charx.write_charx(card.to_v3_dict(), icon)
    raise CardError("unsupported_export", f"Unknown export format {fmt!r}; use 'json', 'png' or 'charx'.")


def _reject_non_json(data: bytes, filename: str | None) -> None:
    for magic, kind in _OTHER_IMAGES.items():
        if data.startswith(magic):
            raise CardError(
                "not_a_png",
                f"This is a {kind} image; character cards can only be embedded in PNG images "
                "(or uploaded as JSON or CHARX).",
            )
    if filename and filename.lower().endswith(_IMAGE_SUFFIXES):
        raise CardError(
            "not_a_png",
            f"{filename!r} is named like an image but is not a PNG; "
            "upload a PNG character card, a JSON card or a CHARX file.",
        )
    if filename and filename.lower().endswith((".charx", ".zip")):
        raise CardError("bad_zip", f"{filename!r} is named like a CHARX/zip file but is not a zip archive.")


def _strip_card_chunks(image_png: bytes) -> bytes:
    return png.embed_card_json(image_png, {})
