"""Sign-up, log-in, log-out and the CSRF token that guards every other state change."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
account_bp = Blueprint("account", __name__, url_prefix="/api/me")  # the signed-in user's own

from core.auth import routes  # noqa: E402,F401
