"""Cookies are Secure when the app is served over HTTPS, directly or behind a trusted proxy
(hardening, row 1)."""
import pytest

from app import create_app


def _set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def _signup(client, **kwargs):
    response = client.post("/api/auth/signup", json={"username": "secure_me",
                                                     "password": "password1"}, **kwargs)
    assert response.status_code == 201, response.get_json()
    return _set_cookies(response)


def test_cookies_over_plain_http_are_not_secure(client):
    cookies = _signup(client)
    assert cookies and not any("Secure" in c for c in cookies)


def test_cookies_over_https_are_secure(app):
    cookies = _signup(app.test_client(), base_url="https://localhost")
    assert {c.split("=")[0] for c in cookies} >= {"session", "remember_token"}
    assert all("; Secure" in c for c in cookies)


@pytest.fixture
def proxied_app(app_config, inference, app):
    config = type("Proxied", (app_config,), {"PROXY_FIX_HOPS": 1})
    return create_app(config, inference=inference)


def test_behind_a_trusted_proxy_the_forwarded_scheme_and_address_count(proxied_app):
    client = proxied_app.test_client()
    cookies = _signup(client, headers={"X-Forwarded-Proto": "https",
                                       "X-Forwarded-For": "203.0.113.9"})
    assert all("; Secure" in c for c in cookies)


def test_without_a_proxy_configured_forwarded_headers_are_ignored(client):
    cookies = _signup(client, headers={"X-Forwarded-Proto": "https"})
    assert not any("Secure" in c for c in cookies)
