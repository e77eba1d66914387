"""The sign-up fingerprint (docs/security.md): a keyed hash of the sign-up's address and
User-Agent stored on the user, equal for sign-ups from the same place, never the address."""
import secrets

import pytest
from sqlmodel import Session

from core.auth.fingerprint import check_mode, signup_fingerprint
from core.errors import KindredError
from core.users import User


def sign_up(app, ip, agent) -> User:
    client = app.test_client()
    response = client.post("/api/auth/signup", json={
        "username": f"fp_{secrets.token_hex(4)}", "password": "correct horse"},
        environ_base={"REMOTE_ADDR": ip}, headers={"User-Agent": agent})
    assert response.status_code == 201, response.get_json()
    with Session(app.extensions["kindred.db"]) as session:
        return session.get(User, response.get_json()["user"]["id"])


def test_sign_ups_from_one_place_share_a_fingerprint_that_is_not_the_address(app):
    first = sign_up(app, "203.0.113.7", "Firefox/130")
    again = sign_up(app, "203.0.113.7", "Firefox/130")
    other_browser = sign_up(app, "203.0.113.7", "Chrome/128")
    elsewhere = sign_up(app, "198.51.100.2", "Firefox/130")
    assert first.signup_fingerprint == again.signup_fingerprint
    assert len({first.signup_fingerprint, other_browser.signup_fingerprint,
                elsewhere.signup_fingerprint}) == 3
    assert len(first.signup_fingerprint) == 64 and "203" not in first.signup_fingerprint


@pytest.fixture
def app_config(app_config, request):
    mode = getattr(request, "param", "ip_ua")
    return type("FingerprintConfig", (app_config,), {"REWARDS_ALT_FINGERPRINT": mode})


@pytest.mark.parametrize("app_config", ["ip"], indirect=True)
def test_the_ip_mode_ignores_the_browser(app):
    assert sign_up(app, "203.0.113.7", "Firefox/130").signup_fingerprint == \
        sign_up(app, "203.0.113.7", "Chrome/128").signup_fingerprint


@pytest.mark.parametrize("app_config", ["off"], indirect=True)
def test_the_off_mode_records_nothing(app):
    assert sign_up(app, "203.0.113.7", "Firefox/130").signup_fingerprint is None


def test_the_fingerprint_is_keyed_by_the_secret():
    one = signup_fingerprint("ip_ua", "secret-one", "203.0.113.7", "Firefox/130")
    assert one == signup_fingerprint("ip_ua", "secret-one", "203.0.113.7", "Firefox/130")
    assert one != signup_fingerprint("ip_ua", "secret-two", "203.0.113.7", "Firefox/130")
    assert signup_fingerprint("ip", "secret-one", None, "Firefox/130") is None


@pytest.mark.parametrize("mode", ["", "IP", "ua", None])
def test_an_unknown_mode_is_refused(mode):
    with pytest.raises(KindredError) as refused:
        check_mode(mode)
    assert "REWARDS_ALT_FINGERPRINT" in refused.value.message
