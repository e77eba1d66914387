"""CSRF: a per-session token that every state-changing API call sends as X-CSRF-Token."""
import hmac
import secrets

from flask import current_app, request, session
from flask_login import current_user

from core.errors import KindredError

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
EXEMPT_ENDPOINTS = {"auth.signup", "auth.login"}


def csrf_token() -> str:
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def rotate_csrf_token() -> str:
    session.pop("csrf_token", None)
    return csrf_token()


def check_csrf() -> None:
    """before_request hook for the API blueprints."""
    if request.method in SAFE_METHODS or request.endpoint in EXEMPT_ENDPOINTS:
        return
    sent = request.headers.get("X-CSRF-Token", "")
    expected = session.get("csrf_token")
    if not expected or not hmac.compare_digest(sent, expected):
        raise KindredError("csrf_failed", "Missing or wrong X-CSRF-Token header; use the "
                                          "csrf_token returned at log-in.", 403)


def login_then_csrf(prefix: str):
    """A before_request hook for blueprints with login-only endpoints under `prefix`: without a
    login such a call is a 401 (log in first) rather than a CSRF failure; then the CSRF check."""
    def hook():
        if request.path.startswith(prefix) and not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return check_csrf()
    return hook
