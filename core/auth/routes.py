from flask import current_app, jsonify, request
from flask_login import current_user, login_required, login_user, logout_user

from core.auth import bp
from core.auth.csrf import check_csrf, csrf_token, rotate_csrf_token
from core.auth.service import authenticate, sign_up
from core.event_types import SessionStarted
from core.web.db import db_session
from core.web.request_body import json_body
from core.extensions import limiter, login_manager
from core.users import User

bp.before_request(check_csrf)


@login_manager.user_loader
def load_user(user_id: str):
    return db_session().get(User, int(user_id))


@login_manager.unauthorized_handler
def unauthorized():
    return jsonify({"error": {"code": "login_required",
                              "message": "Log in first (POST /api/auth/login)."}}), 401


@bp.post("/signup")
@limiter.limit(lambda: current_app.config["SIGNUP_RATE_LIMIT"])
def signup():
    body = json_body()
    user = sign_up(db_session(), body.get("username"), body.get("password"))
    _log_in(user, remember=True)
    return jsonify(_session_body(user)), 201


@bp.post("/login")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"],
               deduct_when=lambda response: response.status_code == 401)
def login():
    body = json_body()
    user = authenticate(db_session(), body.get("username"), body.get("password"))
    _log_in(user, remember=bool(body.get("remember", True)))
    return jsonify(_session_body(user))


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    rotate_csrf_token()
    return jsonify({"ok": True})


@bp.get("/me")
@login_required
def me():
    return jsonify({"user": {"id": current_user.id, "username": current_user.username},
                    "csrf_token": csrf_token()})


def _log_in(user: User, remember: bool) -> None:
    login_user(user, remember=remember)
    current_app.extensions["kindred.events"].publish(SessionStarted(user.id, remember))


def _session_body(user: User) -> dict:
    return {"user": {"id": user.id, "username": user.username}, "csrf_token": rotate_csrf_token()}

