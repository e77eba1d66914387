"""Character card data in PNG tEXt chunks, parsed and written by hand.

Cards live in tEXt chunks whose value is base64 of UTF-8 JSON: keyword
``chara`` (V2, the SillyTavern/TavernAI convention) and ``ccv3`` (V3). Keywords
are matched case-insensitively; ``ccv3`` wins when both exist (SPEC_V3.md).
Every chunk is CRC-checked. Pillow is used only to validate and re-encode
avatar images that are not already PNG.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import struct
import warnings
import zlib
from io import BytesIO
from typing import NamedTuple

from .errors import CardError
from .limits import MAX_IMAGE_PIXELS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
V2_KEYWORD = "chara"
V3_KEYWORD = "ccv3"
CARD_KEYWORDS = (V3_KEYWORD, V2_KEYWORD)  # order of preference when reading

_TEXT_CHUNK_TYPES = (b"tEXt", b"zTXt", b"iTXt")
_WHITESPACE = re.compile(rb"\s+")


class Chunk(NamedTuple):
    """One PNG chunk: its type and its byte span [start, end) in the file."""

    type: bytes
    start: int
    end: int

    def data(self, png: bytes) -> bytes:
        return png[self.start + 8 : self.end - 4]


def read_card_json(png: bytes) -> tuple[str, bytes]:
    """Return (keyword, decoded JSON bytes) of the card embedded in ``png``.

    Raises CardError: not_a_png, truncated_png, corrupt_png, no_card_data,
    bad_base64.
    """
    found: dict[str, bytes] = {}
    for chunk in read_chunks(png):
        if chunk.type != b"tEXt":
            continue
        keyword, _, value = chunk.data(png).partition(b"\0")
        name = keyword.decode("latin-1").lower()
        if name in CARD_KEYWORDS and name not in found:
            found[name] = value
    for name in CARD_KEYWORDS:
        if name in found:
            return name, _decode_base64(found[name], name)
    raise CardError(
        "no_card_data",
        "This PNG has no character card in it (no 'chara' or 'ccv3' tEXt chunk); "
        "it is a plain image, not a card.",
    )


def embed_card_json(png: bytes, payloads: dict[str, bytes]) -> bytes:
    """Return ``png`` with its card chunks replaced by ``payloads`` (keyword -> JSON bytes).

    Any existing chara/ccv3 text chunks are removed; the new tEXt chunks are
    inserted just before IEND, in the order given. Every other chunk (image
    data included) is copied byte for byte.
    """
    out = [PNG_SIGNATURE]
    for chunk in read_chunks(png):
        if chunk.type == b"IEND":
            for keyword, payload in payloads.items():
                out.append(_text_chunk(keyword, base64.b64encode(payload)))
        elif _is_card_chunk(png, chunk):
            continue
        out.append(png[chunk.start : chunk.end])
    return b"".join(out)


def read_chunks(png: bytes) -> list[Chunk]:
    """Split a PNG into chunks, checking signature, lengths, CRCs, IHDR and IEND.

    Bytes after IEND are ignored. Raises CardError: not_a_png, truncated_png,
    corrupt_png.
    """
    if not png.startswith(PNG_SIGNATURE):
        raise CardError("not_a_png", "This is not a PNG file (bad signature); cards must be PNG, JSON or CHARX.")
    view = memoryview(png)
    chunks: list[Chunk] = []
    pos = len(PNG_SIGNATURE)
    while not chunks or chunks[-1].type != b"IEND":
        if pos + 12 > len(png):
            raise _truncated()
        length, ctype = struct.unpack_from(">I4s", png, pos)
        end = pos + 12 + length
        if length > 0x7FFFFFFF or not ctype.isalpha():
            raise _corrupt(f"invalid chunk header at byte {pos}")
        if end > len(png):
            raise _truncated()
        (crc,) = struct.unpack_from(">I", png, end - 4)
        if zlib.crc32(view[pos + 4 : end - 4]) != crc:
            raise _corrupt(f"CRC mismatch in {ctype.decode('ascii')} chunk at byte {pos}")
        chunks.append(Chunk(ctype, pos, end))
        pos = end
    if chunks[0].type != b"IHDR" or chunks[0].end - chunks[0].start != 25:
        raise _corrupt("the first chunk is not a valid IHDR header")
    return chunks


def ensure_png(image: bytes) -> bytes:
    """Return ``image`` as PNG bytes: PNGs are structure-checked and kept as-is,
    other formats Pillow can read (JPEG, WebP, GIF...) are verified and re-encoded.

    Raises CardError("bad_image") when the bytes are not a usable image.
    """
    if image.startswith(PNG_SIGNATURE):
        try:
            read_chunks(image)
        except CardError as exc:
            raise CardError("bad_image", f"The avatar is a damaged PNG: {exc.message}") from exc
        return image
    return _reencode_as_png(image)


@functools.lru_cache(maxsize=1)
def placeholder_png(width: int = 400, height: int = 600) -> bytes:
    """A plain grey PNG used as the card image when no avatar is supplied."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    row = b"\0" + bytes((0x6B, 0x72, 0x80)) * width
    pixels = zlib.compress(row * height, 9)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _decode_base64(value: bytes, keyword: str) -> bytes:
    compact = _WHITESPACE.sub(b"", value)
    compact += b"=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CardError(
            "bad_base64",
            f"The PNG '{keyword}' chunk is not valid base64 ({exc}); it must hold base64-encoded JSON.",
        ) from exc


def _is_card_chunk(png: bytes, chunk: Chunk) -> bool:
    if chunk.type not in _TEXT_CHUNK_TYPES:
        return False
    keyword = chunk.data(png).partition(b"\0")[0]
    return keyword.decode("latin-1").lower() in CARD_KEYWORDS


def _text_chunk(keyword: str, text: bytes) -> bytes:
    return _chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text)


def _chunk(ctype: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(ctype))
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def _reencode_as_png(image: bytes) -> bytes:
    from PIL import Image  # imported lazily: only needed for non-PNG avatars

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(BytesIO(image)) as probe:
                probe.verify()
            with Image.open(BytesIO(image)) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise CardError(
                        "bad_image",
                        f"The avatar is {img.width}x{img.height} pixels; at most "
                        f"{MAX_IMAGE_PIXELS:,} pixels are accepted.",
                    )
                img.load()
                if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                    img = img.convert("RGBA" if "A" in img.mode else "RGB")
                out = BytesIO()
                img.save(out, "PNG")
                return out.getvalue()
    except CardError:
        raise
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, ...)
        raise CardError(
            "bad_image",
            "The avatar is not a readable image; use a PNG, JPEG, WebP or GIF file.",
        ) from exc


def _truncated() -> CardError:
    return CardError("truncated_png", "The PNG file ends early (it is truncated); upload the complete file.")


def _corrupt(detail: str) -> CardError:
    return CardError("corrupt_png", f"The PNG file is damaged ({detail}); upload an intact PNG.")
