"""Card placeholders: {{char}} and {{user}} (any case), and the legacy <BOT>/<USER>."""
import re

_CHAR = re.compile(r"\{\{char\}\}|<BOT>", re.IGNORECASE)
_USER = re.compile(r"\{\{user\}\}|<USER>", re.IGNORECASE)


def fill_placeholders(text: str, char_name: str, user_name: str) -> str:
    return _USER.sub(lambda _: user_name, _CHAR.sub(lambda _: char_name, text or ""))
