"""Sign-up, log-in, sessions, CSRF and the login rate limit."""
import os
import uuid

import pytest
import redis
from sqlmodel import select

from app import create_app
from core.db import session_scope
from core.users import User
from tests.support import require


def test_signup_logs_the_user_in_and_returns_a_csrf_token(client, auth):
    response = auth.signup("Alice")
    body = response.get_json()
    assert body["user"]["username"] == "Alice" and body["csrf_token"]
    me = client.get("/api/auth/me")
    assert me.status_code == 200 and me.get_json()["user"]["username"] == "Alice"


def test_session_cookie_is_httponly_and_samesite_lax(client):
    response = client.post("/api/auth/signup", json={"username": "bob", "password": "password1"})
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cookies and "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]


def test_password_is_stored_hashed(app, auth):
    auth.signup("carol", password="my secret words")
    with session_scope(app.extensions["kindred.db"]) as session:
        user = session.exec(select(User).where(User.username_key == "carol")).one()
    assert "my secret words" not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_usernames_are_unique_regardless_of_case(client, auth):
    auth.signup("Dana")
    response = client.post("/api/auth/signup", json={"username": "dana", "password": "password1"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "username_taken"


@pytest.mark.parametrize("username", ["ab", "x" * 33, "has space", "<script>", "", None, 42,
                                      ".dot-first"])
def test_invalid_usernames_are_rejected_with_the_rule(client, username):
    response = client.post("/api/auth/signup", json={"username": username, "password": "password1"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_username" and "3-32 characters" in error["message"]


@pytest.mark.parametrize("password", ["short", "x" * 129, None])
def test_weak_or_absurd_passwords_are_rejected(client, password):
    response = client.post("/api/auth/signup", json={"username": "erin", "password": password})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_password"


def test_signup_without_a_json_body_is_a_clear_400(client):
    response = client.post("/api/auth/signup", data="username=x", content_type="text/plain")
    assert response.status_code == 400
    assert "JSON" in response.get_json()["error"]["message"]


def test_login_with_the_right_password_and_not_the_wrong_one(client, auth):
    auth.signup("frank", password="password1")
    client.post("/api/auth/logout", headers={"X-CSRF-Token": auth.csrf})
    assert auth.login("frank", "wrong-password").status_code == 401
    assert client.get("/api/auth/me").status_code == 401
    assert auth.login("FRANK", "password1").status_code == 200
    assert client.get("/api/auth/me").status_code == 200


def test_logout_ends_the_session(client, auth):
    auth.signup()
    assert auth.call("POST", "/api/auth/logout").status_code == 200
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/conversations").status_code == 401


def test_state_changes_without_the_csrf_token_are_refused_and_change_nothing(client, auth):
    auth.signup()
    response = client.post("/api/conversations", json={"character_id": 1})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/api/conversations", json={"character_id": 1},
                        headers={"X-CSRF-Token": "not-the-token"})
    assert wrong.status_code == 403
    assert auth.call("GET", "/api/conversations").get_json()["conversations"] == []


def test_repeated_failed_logins_are_rate_limited(client, auth):
    auth.signup("grace", password="password1")
    statuses = [auth.login("grace", f"wrong-{i}").status_code for i in range(7)]
    assert statuses[:5] == [401] * 5  # TestConfig allows 5 failures a minute
    assert statuses[5:] == [429, 429]
    limited = auth.login("grace", "password1")
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"


def test_login_limits_are_shared_through_redis_across_app_instances(app_config, inference):
    url = os.environ.get("KINDRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as exc:
        require(False, f"Redis is not reachable at {url}: {exc}")
    redis.Redis.from_url(url).flushdb()
    from core.migrate import upgrade_database
    upgrade_database(app_config.DATABASE_URL)
    config = type("RedisConfig", (app_config,), {"REDIS_URL": url})
    first, second = create_app(config, inference=inference), create_app(config, inference=inference)
    name = f"u{uuid.uuid4().hex[:8]}"
    first.test_client().post("/api/auth/signup", json={"username": name, "password": "password1"})
    for _ in range(5):
        first.test_client().post("/api/auth/login", json={"username": name, "password": "bad-pass"})
    response = second.test_client().post("/api/auth/login",
                                         json={"username": name, "password": "bad-pass"})
    assert response.status_code == 429
    assert any(b"LIMITER" in key for key in redis.Redis.from_url(url).keys())
