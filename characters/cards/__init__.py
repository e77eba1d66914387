"""Import/export of SillyTavern-ecosystem character cards (V1, V2, V3; JSON, PNG, CHARX).

Pure Python: no web framework, no database. Pillow is only used to re-encode
non-PNG avatar images on export.
"""

from .errors import CardError
from .io import export_card, parse_card_file
from .model import V3_COMPAT_EXTENSION, Card, from_dict

__all__ = [
    "Card",
    "CardError",
    "V3_COMPAT_EXTENSION",
    "export_card",
    "from_dict",
    "parse_card_file",
]
