"""Where to send a user after logging in: only to a path on this site (docs/security.md).

A `next=` value is checked the way a browser will read it, because the browser is what follows
it: browsers drop tabs and newlines anywhere in a URL, strip leading and trailing spaces and
control characters, and read a backslash as a slash, so `/\\evil.com` and `/\\t/evil.com` mean
`//evil.com`, another host. The value is normalised like that first, then must be a path with a
single leading slash that `urllib.parse.urlsplit` finds no scheme and no host in."""
import re
from urllib.parse import urlsplit

HOME = "/"
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))  # what browsers strip from both ends
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(value: str | None) -> str:
    """`value` as a same-origin path (normalised as a browser would read it), or "/"."""
    if not value:
        return HOME
    path = _TAB_OR_NEWLINE.sub("", value).strip(_C0_OR_SPACE).replace("\\", "/")
    if not path.startswith("/") or path.startswith("//") or _CONTROL.search(path):
        return HOME
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return HOME
    return path
