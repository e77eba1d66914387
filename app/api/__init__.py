"""The JSON API for conversations and messages."""
from flask import Blueprint

from app.auth.csrf import check_csrf

bp = Blueprint("api", __name__, url_prefix="/api")
bp.before_request(check_csrf)

from app.api import conversations  # noqa: E402,F401
