"""Sessions are revocable on the server: logout, password change and "log out everywhere" end
them, whatever cookies are replayed afterwards (hardening, row 1)."""
from datetime import timedelta

import pytest
from sqlmodel import select

from core.auth.logins import Login
from core.db import session_scope, utcnow
from tests.conftest import AuthActions

pytestmark = pytest.mark.both_databases


def _cookies(client) -> dict:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")
            if client.get_cookie(name) is not None}


def _client_with(app, cookies: dict):
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def test_replayed_cookies_after_logout_sign_nobody_in(app, client, auth):
    auth.signup("replay")
    stolen, csrf = _cookies(client), auth.csrf
    assert set(stolen) == {"session", "remember_token"}
    assert auth.call("POST", "/api/auth/logout").status_code == 200

    replayed = _client_with(app, stolen)
    assert replayed.get("/api/auth/me").status_code == 401
    change = replayed.post("/api/conversations", json={"character_id": 1},
                           headers={"X-CSRF-Token": csrf})
    assert change.status_code == 401
    # The remember-me cookie alone (a browser restarted) does not bring the session back either.
    assert _client_with(app, {"remember_token": stolen["remember_token"]}) \
        .get("/api/auth/me").status_code == 401


def test_remember_me_tokens_are_random_per_login_and_stored_hashed(app, client, auth):
    auth.signup("remembered")
    first = _cookies(client)["remember_token"]
    again = AuthActions(app.test_client())
    assert again.login("remembered").status_code == 200
    second = _cookies(again.client)["remember_token"]
    assert first != second

    restarted = _client_with(app, {"remember_token": second})
    assert restarted.get("/api/auth/me").get_json()["user"]["username"] == "remembered"
    with session_scope(app.extensions["kindred.db"]) as session:
        hashes = [login.token_hash for login in session.exec(select(Login))]
    assert len(hashes) == 2
    assert not any(h in first or h in second for h in hashes)
    assert not any(first.split("|")[0].split(":")[-1] in h for h in hashes)


def test_a_password_change_ends_every_other_session(app, client, auth):
    auth.signup("changer", password="old password")
    laptop = AuthActions(app.test_client())
    assert laptop.login("changer", "old password").status_code == 200

    changed = auth.call("POST", "/api/auth/password",
                        json={"current_password": "old password", "new_password": "new password"})
    assert changed.status_code == 200 and changed.get_json()["ended"] == 1
    auth.csrf = changed.get_json()["csrf_token"]
    assert client.get("/api/auth/me").status_code == 200  # the one that changed it stays
    assert laptop.client.get("/api/auth/me").status_code == 401
    assert laptop.login("changer", "old password").status_code == 401
    assert laptop.login("changer", "new password").status_code == 200


def test_a_wrong_current_password_changes_nothing(app, client, auth):
    auth.signup("careful", password="old password")
    laptop = AuthActions(app.test_client())
    laptop.login("careful", "old password")
    for body in ({"current_password": "guess", "new_password": "new password"},
                 {"current_password": "old password", "new_password": "short"},
                 {"new_password": "new password"}):
        refused = auth.call("POST", "/api/auth/password", json=body)
        assert refused.status_code in (400, 403), body
        assert refused.get_json()["error"]["code"] in ("bad_credentials", "invalid_password")
    assert laptop.client.get("/api/auth/me").status_code == 200
    assert AuthActions(app.test_client()).login("careful", "old password").status_code == 200


def test_log_out_everywhere_ends_every_session_this_one_included(app, client, auth):
    auth.signup("everywhere")
    phone = AuthActions(app.test_client())
    phone.login("everywhere")
    phone_cookies = _cookies(phone.client)
    response = auth.call("POST", "/api/auth/logout-all")
    assert response.status_code == 200 and response.get_json()["ended"] == 2
    assert client.get("/api/auth/me").status_code == 401
    assert phone.client.get("/api/auth/me").status_code == 401
    assert _client_with(app, phone_cookies).get("/api/auth/me").status_code == 401


def test_an_expired_login_signs_nobody_in(app, client, auth):
    auth.signup("expired")
    with session_scope(app.extensions["kindred.db"]) as session:
        login = session.exec(select(Login)).one()
        login.expires_at = utcnow() - timedelta(seconds=1)
        session.add(login)
        session.commit()
    assert client.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize("forged", ["1", "1:", "x:y", "99999999999999999999:t", "1:wrong-token",
                                    "\ud800:t"])
def test_forged_login_ids_in_the_session_are_refused(app, auth, client, forged):
    auth.signup("victim")
    client.delete_cookie("remember_token")
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = forged
    assert client.get("/api/auth/me").status_code == 401
