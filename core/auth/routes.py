from flask import current_app, jsonify, request
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_limiter.util import get_remote_address

from core.auth import account_bp, bp, logins
from core.auth.csrf import check_csrf, csrf_token, rotate_csrf_token
from core.auth.fingerprint import signup_fingerprint
from core.auth.service import authenticate, change_password, set_birth_year, sign_up
from core.db import session_scope
from core.errors import BlockedContent
from core.event_types import SessionStarted
from core.profiles import profile_payload, update_profile
from core.web.db import db_engine, db_session
from core.web.request_body import json_body
from core.extensions import limiter, login_manager, socketio
from core.web.sockets import end_sockets, login_room, user_room
from core.users import User, is_adult

bp.before_request(check_csrf)
account_bp.before_request(check_csrf)


class CurrentUser(UserMixin):
    """`current_user`: the signed-in user's id and name, and the login the cookies carry."""

    def __init__(self, signed_in: logins.SignedIn, credential: str):
        self.id, self.username, self.login_id, self.role = (
            signed_in.id, signed_in.username, signed_in.login_id, signed_in.role)
        self._credential = credential

    def get_id(self) -> str:
        return self._credential


@login_manager.user_loader
def load_user(credential: str):
    # A session of its own, closed at once: Socket.IO handlers load the user on every event and
    # must not hold a connection while they open theirs.
    with session_scope(db_engine()) as session:
        signed_in = logins.resolve(session, credential)
    return None if signed_in is None else CurrentUser(signed_in, credential)


@login_manager.unauthorized_handler
def unauthorized():
    return jsonify({"error": {"code": "login_required",
                              "message": "Log in first (POST /api/auth/login)."}}), 401


def _login_failed(response) -> bool:
    return response.status_code == 401


def _account() -> str:
    """The account a login attempt names (lower-cased), for the per-account limits."""
    username = json_body().get("username")
    return username.strip().lower()[:64] or "-" if isinstance(username, str) else "-"


@bp.post("/signup")
@limiter.limit(lambda: current_app.config["SIGNUP_RATE_LIMIT"])
def signup():
    body = json_body()
    _screen_username(body.get("username"))
    user = sign_up(db_session(), body.get("username"), body.get("password"),
                   body.get("birth_year"), _signup_fingerprint())
    _log_in(user, remember=True)
    return jsonify(_session_body(user)), 201


# Failed log-ins are limited per address and account together (one address guessing one
# account), per account (guesses spread over many addresses) and per address (one address
# trying many accounts), so one abuser does not lock out the others behind the same address.
@bp.post("/login")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], deduct_when=_login_failed,
               key_func=lambda: f"{get_remote_address()}|{_account()}", scope="login-pair")
@limiter.limit(lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], deduct_when=_login_failed,
               key_func=_account, scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], deduct_when=_login_failed,
               scope="login-address")
def login():
    body = json_body()
    user = authenticate(db_session(), body.get("username"), body.get("password"))
    _log_in(user, remember=bool(body.get("remember", True)))
    return jsonify(_session_body(user))


@bp.post("/logout")
@login_required
def logout():
    logins.revoke(db_session(), current_user.login_id)
    _end_sockets([login_room(current_user.login_id)], "logged_out", "You logged out.")
    logout_user()
    rotate_csrf_token()
    return jsonify({"ok": True})


@bp.post("/logout-all")
@login_required
def logout_everywhere():
    """End every login of this user, this one included."""
    ended = logins.revoke_all(db_session(), current_user.id)
    _end_sockets([user_room(current_user.id)], "logged_out", "You logged out everywhere.")
    logout_user()
    rotate_csrf_token()
    return jsonify({"ok": True, "ended": len(ended)})


@bp.post("/password")
@login_required
def password():
    """{current_password, new_password}: the other logins end; this one stays."""
    body = json_body()
    ended = change_password(db_session(), current_user.id, body.get("current_password"),
                            body.get("new_password"), keep_login=current_user.login_id)
    _end_sockets([login_room(login) for login in ended], "password_changed",
                 "The password was changed; log in again.")
    return jsonify({"ok": True, "ended": len(ended), "csrf_token": rotate_csrf_token()})


@bp.get("/me")
@login_required
def me():
    return jsonify({"user": _me(), "csrf_token": csrf_token()})


@account_bp.post("/age")
@login_required
def age():
    """{birth_year}: given once, for accounts made without one (they count as under 18)."""
    set_birth_year(db_session(), current_user.id, json_body().get("birth_year"))
    return jsonify({"user": _me()})


@account_bp.get("/profile")
@login_required
def profile():
    return jsonify({"profile": profile_payload(db_session().get(User, current_user.id))})


@account_bp.patch("/profile")
@login_required
def edit_profile():
    """{display_name?, bio?}: each change goes through the safety pipeline (core/profiles.py)."""
    update = update_profile(db_session(), current_app.extensions.get("kindred.moderator"),
                            current_user.id, json_body())
    return jsonify({"profile": profile_payload(update.user), "masked": update.masked})


def _me() -> dict:
    user = db_session().get(User, current_user.id)
    return {"id": user.id, "username": user.username, "role": user.role,
            "birth_year": user.birth_year, "adult": is_adult(user),
            "display_name": user.display_name, "bio": user.bio}


def _signup_fingerprint():
    """The keyed hash of this sign-up's address (as ProxyFix resolved it) and User-Agent, made of
    what REWARDS_ALT_FINGERPRINT says (docs/security.md)."""
    return signup_fingerprint(current_app.config.get("REWARDS_ALT_FINGERPRINT", "ip_ua"),
                              current_app.config["SECRET_KEY"], request.remote_addr,
                              request.headers.get("User-Agent"))


def _screen_username(username) -> None:
    """The safety pipeline (when the app has one) checks the name others will see."""
    moderator = current_app.extensions.get("kindred.moderator")
    if moderator is None or not isinstance(username, str) or not username.strip():
        return
    decision = moderator.moderate(username.strip(), "username")
    if decision.action != "allow":
        raise BlockedContent(decision.category, decision.rule,
                             f"This username breaks the community rules ({decision.rule}: "
                             f"{decision.category}); pick another.")


def _end_sockets(rooms: list[str], code: str, message: str) -> None:
    """Live sockets of logins that just ended are told why and disconnected."""
    end_sockets(socketio.server, rooms, {"code": code, "message": message})


def _log_in(user: User, remember: bool) -> None:
    credential = logins.open_login(db_session(), user, remember=remember,
                                   days=current_app.config["REMEMBER_DAYS"])
    signed_in = logins.SignedIn(user.id, user.username, int(credential.split(":", 1)[0]),
                                user.role)
    login_user(CurrentUser(signed_in, credential), remember=remember)
    current_app.extensions["kindred.events"].publish(SessionStarted(user.id, remember))


def _session_body(user: User) -> dict:
    return {"user": {"id": user.id, "username": user.username}, "csrf_token": rotate_csrf_token()}
