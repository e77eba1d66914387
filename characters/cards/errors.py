"""The single exception type raised for any card that cannot be imported or exported."""

from __future__ import annotations


class CardError(ValueError):
    """A card file or card object was rejected.

    ``code`` is a short, stable snake_case identifier meant for programs (API
    responses, tests); ``message`` is a human sentence saying what was wrong and
    what is accepted instead.

    Codes in use:
        empty_file, file_too_large, not_a_png, truncated_png, corrupt_png,
        no_card_data, bad_base64, bad_encoding, bad_json, too_deep, not_a_card,
        missing_name, missing_data, unknown_spec, bad_field, field_too_long,
        too_many_items, bad_text,
        bad_zip, zip_bomb, unsafe_path, bad_image, unsupported_export.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
