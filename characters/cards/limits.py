"""Size limits applied to untrusted card files (all sizes in bytes).

They are generous for real cards (the largest community cards are a few MB of
PNG and a few tens of KB of text) while bounding memory and CPU per upload.
"""

from __future__ import annotations

# Whole uploaded file (PNG, JSON or CHARX).
MAX_FILE_BYTES = 20 * 1024 * 1024

# Any single text field, measured as UTF-8 bytes.
MAX_FIELD_BYTES = 64 * 1024

# Fields that legitimately hold long prose or HTML (chub.ai creator notes often
# carry inline styles): allowed up to this size instead.
MAX_LONG_FIELD_BYTES = 256 * 1024
LONG_FIELDS = frozenset({"description", "creator_notes", "creator_notes_multilingual"})

# How many items a card's lists and free-form objects may hold. Sized from real cards:
# SillyTavern's default cards have 0-3 alternate greetings and a handful of tags; the largest
# community cards seen have a few dozen greetings and lorebooks of several hundred entries.
MAX_LIST_ITEMS = 100  # alternate_greetings, group_only_greetings, tags, source
MAX_TAG_CHARS = 100  # one tag
MAX_EXTENSION_KEYS = 200  # top-level keys of `extensions`
MAX_EXTENSIONS_BYTES = 1024 * 1024  # `extensions`, serialised as UTF-8 JSON
MAX_LORE_ENTRIES = 2000  # character_book.entries

# Nesting depth of the card JSON (extensions and lorebooks are kept verbatim, so
# this bounds the recursion needed to copy and re-serialise them).
MAX_JSON_DEPTH = 64

# CHARX (zip) archives.
MAX_CHARX_TOTAL_BYTES = 50 * 1024 * 1024  # sum of declared uncompressed sizes
MAX_CHARX_MEMBERS = 1000
MAX_CHARX_RATIO = 100  # uncompressed / compressed, per member ...
CHARX_RATIO_MIN_BYTES = 1024 * 1024  # ... checked for members at least this large

# Avatar images decoded with Pillow when exporting (width * height).
MAX_IMAGE_PIXELS = 25_000_000


def field_limit(key: str) -> int:
    """Return the maximum UTF-8 size in bytes allowed for the text field ``key``."""
    return MAX_LONG_FIELD_BYTES if key in LONG_FIELDS else MAX_FIELD_BYTES
