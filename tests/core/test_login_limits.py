"""Failed log-ins are limited without locking out the innocent (hardening, row 11): per address
and account, per account, per address; every 429 says when to retry; behind a configured
proxy the client's own address counts."""
import pytest

from app import create_app
from tests.conftest import AuthActions

ABUSER, NEIGHBOUR = "198.51.100.7", "198.51.100.8"


def _login(client, username, password, address, **headers):
    return client.post("/api/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def _sign_up(app, username):
    AuthActions(app.test_client()).signup(username, password="right password")


def test_guessing_one_account_from_one_address_does_not_lock_out_anyone_else(app):
    for name in ("victim", "bystander"):
        _sign_up(app, name)
    client = app.test_client()
    statuses = [_login(client, "victim", f"guess {i}", ABUSER).status_code for i in range(7)]
    assert statuses == [401] * 5 + [429] * 2  # TestConfig: 5 failures a minute per pair

    limited = _login(client, "victim", "right password", ABUSER)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert 0 < int(limited.headers["Retry-After"]) <= 60

    # Another account from the same address, and the right password from another address.
    assert _login(client, "bystander", "right password", ABUSER).status_code == 200
    assert _login(client, "victim", "right password", NEIGHBOUR).status_code == 200


def test_guesses_spread_over_many_addresses_are_limited_per_account(app_config, inference, app):
    config = type("Tight", (app_config,), {"LOGIN_ACCOUNT_RATE_LIMIT": "8 per minute"})
    tight = create_app(config, inference=inference)
    _sign_up(tight, "target")
    client = tight.test_client()
    statuses = [_login(client, "target", "guess", f"203.0.113.{i}").status_code
                for i in range(10)]
    assert statuses == [401] * 8 + [429] * 2
    assert "Retry-After" in _login(client, "target", "guess", "203.0.113.99").headers


def test_one_address_trying_many_accounts_is_limited_per_address(app_config, inference, app):
    config = type("Tight", (app_config,), {"LOGIN_ADDRESS_RATE_LIMIT": "6 per minute"})
    tight = create_app(config, inference=inference)
    client = tight.test_client()
    statuses = [_login(client, f"nobody{i}", "guess", ABUSER).status_code for i in range(8)]
    assert statuses == [401] * 6 + [429] * 2
    _sign_up(tight, "elsewhere")
    assert _login(client, "elsewhere", "right password", NEIGHBOUR).status_code == 200


@pytest.mark.parametrize("hops, separate", [(1, True), (0, False)])
def test_the_client_address_comes_from_the_proxy_only_when_configured(app_config, inference,
                                                                      app, hops, separate):
    config = type("Proxied", (app_config,), {"PROXY_FIX_HOPS": hops})
    proxied = create_app(config, inference=inference)
    _sign_up(proxied, "behind")
    client = proxied.test_client()
    for _ in range(5):  # all through the one proxy address, from one client
        _login(client, "behind", "guess", "10.0.0.1", **{"X-Forwarded-For": ABUSER})
    other_client = _login(client, "behind", "right password", "10.0.0.1",
                          **{"X-Forwarded-For": NEIGHBOUR})
    assert other_client.status_code == (200 if separate else 429)
