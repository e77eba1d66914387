"""The normalised Card (V3 superset) and its conversion to/from spec JSON objects.

Specs: Character Card V2 (malfoyslastname/character-card-spec-v2, spec_v2.md)
and V3 (kwaroran/character-card-spec-v3, SPEC_V3.md). V1 is the flat TavernAI
object {name, description, personality, scenario, first_mes, mes_example}.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from . import fields
from .errors import CardError
from .jsontext import check_depth

# Key under ``extensions`` carrying V3-only fields through a V2 export.
V3_COMPAT_EXTENSION = "kindred/v3"

V2_SPEC = "chara_card_v2"
V3_SPEC = "chara_card_v3"

V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
V2_TEXT_FIELDS = V1_FIELDS + (
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "creator",
    "character_version",
)
V3_ONLY_FIELDS = (
    "nickname",
    "creator_notes_multilingual",
    "source",
    "group_only_greetings",
    "creation_date",
    "modification_date",
    "assets",
)


@dataclass
class Card:
    """A character card in normalised form.

    ``extensions`` and ``character_book`` are kept verbatim (unknown keys
    included). V3-only optional fields are None when absent. ``spec`` records
    the format the card was read from ("v1", "v2" or "v3") and is excluded from
    equality, so ``a == b`` compares card data only.
    """

    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    creator_notes: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    alternate_greetings: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    creator: str = ""
    character_version: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)
    character_book: dict[str, Any] | None = None
    # V3-only fields
    nickname: str | None = None
    creator_notes_multilingual: dict[str, str] | None = None
    source: list[str] | None = None
    group_only_greetings: list[str] = field(default_factory=list)
    creation_date: int | float | None = None
    modification_date: int | float | None = None
    assets: list[dict[str, Any]] | None = None
    spec: str = field(default="v3", compare=False)

    @classmethod
    def from_dict(cls, obj: Any) -> "Card":
        """Same as the module-level :func:`from_dict`."""
        return from_dict(obj)

    def to_v2_dict(self) -> dict[str, Any]:
        """Return a full ``chara_card_v2`` object.

        V3-only fields that are set are stored under
        ``extensions["kindred/v3"]`` so that importing the result restores them.
        """
        data = self._v2_data()
        extensions = data["extensions"]
        if isinstance(extensions.get(V3_COMPAT_EXTENSION), dict):
            del extensions[V3_COMPAT_EXTENSION]  # would be read back as V3 fields
        v3_only = self._v3_only_values()
        if v3_only:
            extensions[V3_COMPAT_EXTENSION] = v3_only
        return {"spec": V2_SPEC, "spec_version": "2.0", "data": data}

    def to_v3_dict(self) -> dict[str, Any]:
        """Return a full ``chara_card_v3`` object (absent optional fields omitted)."""
        data = self._v2_data()
        data["group_only_greetings"] = list(self.group_only_greetings)
        data.update(self._v3_only_values())
        return {"spec": V3_SPEC, "spec_version": "3.0", "data": data}

    def _v2_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {key: getattr(self, key) for key in V1_FIELDS}
        data.update(
            creator_notes=self.creator_notes,
            system_prompt=self.system_prompt,
            post_history_instructions=self.post_history_instructions,
            alternate_greetings=list(self.alternate_greetings),
        )
        if self.character_book is not None:
            data["character_book"] = copy.deepcopy(self.character_book)
        data.update(
            tags=list(self.tags),
            creator=self.creator,
            character_version=self.character_version,
            extensions=copy.deepcopy(self.extensions),
        )
        return data

    def _v3_only_values(self) -> dict[str, Any]:
        values = {}
        for key in V3_ONLY_FIELDS:
            value = getattr(self, key)
            if value is not None and not (key == "group_only_greetings" and not value):
                values[key] = copy.deepcopy(value)
        return values


def from_dict(obj: Any) -> Card:
    """Build a Card from a parsed V1, V2 or V3 card object.

    Raises CardError: not_a_card (not an object), unknown_spec (unknown ``spec``
    or unsupported ``spec_version`` major), missing_data (no ``data`` object),
    missing_name, bad_field, field_too_long, too_deep.
    """
    if not isinstance(obj, dict):
        raise CardError(
            "not_a_card",
            f"Expected a character card JSON object, got a JSON {type(obj).__name__}.",
        )
    check_depth(obj)
    spec = obj.get("spec")
    if spec is None and "name" not in obj and isinstance(obj.get("data"), dict):
        spec = V2_SPEC  # V2 object written without its "spec" marker
    if spec is None:
        return _card_from_v1(obj)
    if spec == V2_SPEC:
        _check_version(obj.get("spec_version"), 2, spec)
        return _card_from_v2(_data_object(obj, spec))
    if spec == V3_SPEC:
        _check_version(obj.get("spec_version"), 3, spec)
        return _card_from_v3(_data_object(obj, spec))
    raise CardError(
        "unknown_spec",
        f"Unknown card spec {str(spec)[:40]!r}; accepted are V1 (no spec), "
        f"'{V2_SPEC}' and '{V3_SPEC}'.",
    )


def _card_from_v1(obj: dict) -> Card:
    values = _common_values(obj)
    if not values["creator_notes"] and isinstance(obj.get("creatorcomment"), str):
        values["creator_notes"] = fields.text(obj, "creatorcomment")  # TavernAI/ST V1 name
    return Card(**values, spec="v1")


def _card_from_v2(data: dict) -> Card:
    values = _common_values(data)
    compat = values["extensions"].get(V3_COMPAT_EXTENSION)
    if isinstance(compat, dict):
        del values["extensions"][V3_COMPAT_EXTENSION]
        values.update(_v3_only_values(compat))
    return Card(**values, spec="v2")


def _card_from_v3(data: dict) -> Card:
    return Card(**_common_values(data), **_v3_only_values(data), spec="v3")


def _common_values(data: dict) -> dict[str, Any]:
    values: dict[str, Any] = {key: fields.text(data, key) for key in V2_TEXT_FIELDS}
    if not values["name"].strip():
        raise CardError("missing_name", "The card has no 'name'; every card needs a non-empty name.")
    values["alternate_greetings"] = fields.text_list(data, "alternate_greetings")
    values["tags"] = fields.text_list(data, "tags")
    values["extensions"] = fields.mapping(data, "extensions")
    values["character_book"] = fields.character_book(data, "character_book")
    return values


def _v3_only_values(data: dict) -> dict[str, Any]:
    return {
        "nickname": fields.optional_text(data, "nickname"),
        "creator_notes_multilingual": fields.text_mapping(data, "creator_notes_multilingual"),
        "source": fields.optional_text_list(data, "source"),
        "group_only_greetings": fields.text_list(data, "group_only_greetings"),
        "creation_date": fields.number(data, "creation_date"),
        "modification_date": fields.number(data, "modification_date"),
        "assets": fields.asset_list(data, "assets"),
    }


def _data_object(obj: dict, spec: str) -> dict:
    data = obj.get("data")
    if not isinstance(data, dict):
        raise CardError("missing_data", f"A '{spec}' card must have a 'data' object holding its fields.")
    return data


def _check_version(version: Any, major: int, spec: str) -> None:
    if version is None:
        return
    match = None if isinstance(version, bool) else re.match(r"\s*(\d{1,9})", str(version))
    if match is None or int(match.group(1)) != major:
        raise CardError(
            "unknown_spec",
            f"Unsupported spec_version {str(version)[:20]!r} for '{spec}'; "
            f"only version {major}.x is supported.",
        )
