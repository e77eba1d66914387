"""CHARX: a zip holding a V3 ``card.json`` at its root plus ``assets/...`` files.

Reading is defensive: member count, total declared size and per-member
compression ratio are capped (CardError "zip_bomb"), absolute or ``..`` member
names are refused (CardError "unsafe_path"), encrypted members are refused.
Only ``card.json`` and the main icon are actually decompressed.
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from typing import Any

from .errors import CardError
from .jsontext import decode_json_bytes, encode_json_bytes
from .limits import (
    CHARX_RATIO_MIN_BYTES,
    MAX_CHARX_MEMBERS,
    MAX_CHARX_RATIO,
    MAX_CHARX_TOTAL_BYTES,
)

CARD_MEMBER = "card.json"
ICON_MEMBER = "assets/icon/images/main.png"
EMBEDDED_URI_PREFIXES = ("embeded://", "embedded://")  # the spec spells it "embeded"
MAIN_ICON_ASSET = {
    "type": "icon",
    "uri": "embeded://" + ICON_MEMBER,
    "name": "main",
    "ext": "png",
}

_FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # reproducible archives


def read_charx(data: bytes) -> tuple[Any, bytes | None]:
    """Return (parsed card.json object, main icon bytes or None) from a CHARX zip.

    The main icon is the ``icon`` asset named ``main`` (else the first icon)
    with an ``embeded://`` URI, else the conventional ``assets/icon/images/main.png``.

    Raises CardError: bad_zip, zip_bomb, unsafe_path, no_card_data, and the
    JSON errors of card.json (bad_encoding, bad_json, too_deep).
    """
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            members = _checked_members(archive)
            if CARD_MEMBER not in members:
                raise CardError(
                    "no_card_data",
                    "This CHARX/zip file has no card.json at its root; a CHARX must contain one.",
                )
            card_obj = decode_json_bytes(_read_member(archive, members[CARD_MEMBER]), "card.json")
            icon_path = _main_icon_path(card_obj) or ICON_MEMBER
            icon = _read_member(archive, members[icon_path]) if icon_path in members else None
    except CardError:
        raise
    except Exception as exc:  # zipfile fails in many ways on hostile input
        raise CardError("bad_zip", f"The CHARX/zip file is damaged or unsupported ({exc}).") from exc
    return card_obj, icon


def write_charx(card_v3: dict[str, Any], icon_png: bytes | None) -> bytes:
    """Build a CHARX zip from a ``chara_card_v3`` object and an optional PNG icon.

    With an icon, ``data.assets`` gets the spec's main icon entry
    (``embeded://assets/icon/images/main.png``), replacing an existing main icon
    entry in place or added first; the caller's object is not modified.
    """
    card_v3 = dict(card_v3)
    if icon_png is not None:
        data = dict(card_v3["data"])
        data["assets"] = _with_main_icon(data.get("assets"))
        card_v3["data"] = data
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _write_member(archive, CARD_MEMBER, encode_json_bytes(card_v3, pretty=True), zipfile.ZIP_DEFLATED)
        if icon_png is not None:
            _write_member(archive, ICON_MEMBER, icon_png, zipfile.ZIP_STORED)
    return buffer.getvalue()


def _checked_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_CHARX_MEMBERS:
        raise CardError(
            "zip_bomb",
            f"The CHARX has {len(infos)} files; at most {MAX_CHARX_MEMBERS} are accepted.",
        )
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        _check_member_name(info.filename)
        if info.flag_bits & 0x1:
            raise CardError("bad_zip", "The CHARX contains encrypted files; only unencrypted zips are accepted.")
        if info.filename in members:
            raise CardError("bad_zip", f"The CHARX lists {info.filename!r} twice.")
        total += info.file_size
        if total > MAX_CHARX_TOTAL_BYTES:
            raise CardError(
                "zip_bomb",
                f"The CHARX unpacks to more than {MAX_CHARX_TOTAL_BYTES // (1024 * 1024)} MB; "
                "that is the most accepted.",
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= CHARX_RATIO_MIN_BYTES and ratio > MAX_CHARX_RATIO:
            raise CardError(
                "zip_bomb",
                f"{info.filename!r} in the CHARX is compressed {ratio:.0f}x; "
                f"at most {MAX_CHARX_RATIO}x is accepted (possible zip bomb).",
            )
        members[info.filename] = info
    return members


def _check_member_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if (
        name.startswith(("/", "\\"))
        or "\0" in name
        or ":" in parts[0]
        or any(part == ".." for part in parts)
    ):
        raise CardError(
            "unsafe_path",
            f"The CHARX contains an unsafe file path {name[:100]!r}; "
            "only relative paths inside the archive are accepted.",
        )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as member:
        blob = member.read(MAX_CHARX_TOTAL_BYTES + 1)
    if len(blob) > MAX_CHARX_TOTAL_BYTES:
        raise CardError("zip_bomb", f"{info.filename!r} in the CHARX unpacks to more than its declared size.")
    return blob


def _main_icon_path(card_obj: Any) -> str | None:
    data = card_obj.get("data") if isinstance(card_obj, dict) else None
    assets = data.get("assets") if isinstance(data, dict) else None
    if not isinstance(assets, list):
        return None
    icons = [a for a in assets if isinstance(a, dict) and a.get("type") == "icon"]
    icons.sort(key=lambda a: a.get("name") != "main")  # the main icon first
    for icon in icons:
        uri = icon.get("uri")
        for prefix in EMBEDDED_URI_PREFIXES:
            if isinstance(uri, str) and uri.startswith(prefix):
                return uri[len(prefix):]
    return None


def _with_main_icon(assets: Any) -> list[dict[str, Any]]:
    assets = list(assets) if isinstance(assets, list) else []
    for index, asset in enumerate(assets):
        if isinstance(asset, dict) and asset.get("type") == "icon" and asset.get("name") == "main":
            assets[index] = dict(MAIN_ICON_ASSET)
            return assets
    return [dict(MAIN_ICON_ASSET)] + assets


def _write_member(archive: zipfile.ZipFile, name: str, blob: bytes, compression: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIMESTAMP)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    archive.writestr(info, blob)
