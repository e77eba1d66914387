"""JSON errors for the API: {"error": {"code", "message"}} with a fitting status."""
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from core.errors import KindredError


def register(app: Flask) -> None:
    app.register_error_handler(KindredError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)


def error_response(code: str, message: str, status: int):
    return jsonify({"error": {"code": code, "message": message}}), status


def replayed_response(action: str, undone_verb: str, original: dict):
    """409 for a request whose idempotency_key was already used: nothing was done again, and the
    first result comes back under 'original'."""
    message = (f"This idempotency_key was already used for this {action}; nothing was "
               f"{undone_verb} again. The original result is in 'original'.")
    return jsonify({"error": {"code": "idempotency_key_replayed", "message": message},
                    "original": original}), 409


def _domain_error(exc: KindredError):
    if not request.path.startswith("/api/"):
        return exc.message, exc.status
    return jsonify({"error": exc.payload()}), exc.status


def _http_error(exc: HTTPException):
    if not request.path.startswith("/api/"):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(code, exc.description or exc.name, exc.code or 500)
