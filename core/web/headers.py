"""Security headers on every response (filled in by the hardening work)."""
from flask import Flask


def register(app: Flask) -> None:
    """Install the after_request hook that sets the security headers."""
