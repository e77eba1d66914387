"""The sign-up fingerprint: a keyed hash of where a sign-up came from, stored on the user, so
creator rewards can tell a creator's alt accounts (the same fingerprint) from their audience.
No Flask here.

    signup_fingerprint(mode, secret, ip, user_agent) -> 64 hex characters | None

`mode` (REWARDS_ALT_FINGERPRINT) is what it is made of: `ip_ua` (the address and the
User-Agent), `ip` (the address only) or `off` (nothing is recorded: nobody is anyone's alt).
It is an HMAC-SHA256 keyed with the app's secret, never the address itself: equal inputs give
equal fingerprints, which is all rewards compare, and without the key a leaked database cannot
be turned back into addresses by hashing every IPv4 address (docs/security.md)."""
import hashlib
import hmac
from typing import Optional

from core.errors import KindredError

MODES = ("ip_ua", "ip", "off")


def signup_fingerprint(mode: str, secret: str, ip: Optional[str],
                       user_agent: Optional[str]) -> Optional[str]:
    check_mode(mode)
    if mode == "off" or not ip:
        return None
    parts = [mode, ip.strip()] + ([(user_agent or "").strip()] if mode == "ip_ua" else [])
    return hmac.new(secret.encode(), "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def check_mode(mode) -> str:
    if mode not in MODES:
        raise KindredError("bad_fingerprint_mode", f"REWARDS_ALT_FINGERPRINT must be one of "
                                                   f"{', '.join(MODES)}, not {mode!r}.", 500)
    return mode
