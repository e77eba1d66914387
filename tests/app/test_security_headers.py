"""Security headers on every kind of response, and `next=` after log-in staying on this site."""
import re

import pytest

from core.web.redirects import safe_next

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
          "frame-ancestors 'none'")


def assert_hardened(response, framed_by_self=False):
    headers = response.headers
    expected = (POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
                if framed_by_self else POLICY)
    assert headers["Content-Security-Policy"] == expected
    assert headers["X-Frame-Options"] == ("SAMEORIGIN" if framed_by_self else "DENY")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_a_page_cannot_be_framed_or_run_inline_script(client):
    response = client.get("/login")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert_hardened(response)


def test_pages_behind_login_are_hardened_too(client, auth):
    auth.signup()
    for path in ("/", "/discover", "/gacha", "/studio", "/memories", "/search"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_hardened(response)


def test_the_chat_page_may_be_framed_by_this_site_only(client, auth):
    auth.signup()
    conversation = auth.start_conversation()
    response = client.get(f"/chat/{conversation['id']}")
    assert response.status_code == 200
    assert_hardened(response, framed_by_self=True)


def test_api_json_responses_carry_the_headers(client):
    response = client.get("/api/characters")
    assert response.status_code == 200 and response.is_json
    assert_hardened(response)


def test_a_404_page_and_a_404_api_error_carry_the_headers(client):
    page = client.get("/no-such-page")
    api = client.get("/api/no-such-thing")
    assert page.status_code == 404 and api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"
    assert_hardened(page)
    assert_hardened(api)


def test_4xx_errors_carry_the_headers(client):
    unauthorised = client.get("/api/auth/me")
    bad_request = client.post("/api/auth/signup", data="not json",
                              content_type="application/json")
    assert unauthorised.status_code == 401
    assert bad_request.status_code == 400
    assert_hardened(unauthorised)
    assert_hardened(bad_request)


def test_a_500_from_a_crashing_view_carries_the_headers(app):
    def crash():
        raise RuntimeError("boom")

    app.add_url_rule("/api/test-crash", "test_crash", crash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/api/test-crash")
    assert response.status_code == 500
    assert_hardened(response)


def test_a_page_redirect_to_login_carries_the_headers(client):
    response = client.get("/studio")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/studio"
    assert_hardened(response)


def test_static_files_are_not_sniffed_into_another_type(client):
    response = client.get("/static/js/api.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert_hardened(response)
    response.close()


def test_the_socket_io_transport_carries_the_headers_too(client):
    response = client.get("/socket.io/?EIO=4&transport=polling")
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("0{")
    assert_hardened(response)


def test_hsts_is_sent_over_https_with_the_configured_max_age(app):
    client = app.test_client()
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == f"max-age={app.config['HSTS_SECONDS']}"
    assert_hardened(response)


def test_hsts_follows_the_setting(app):
    app.config["HSTS_SECONDS"] = 600
    response = app.test_client().get("/api/characters", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=600"


def test_hsts_is_not_sent_over_plain_http(client):
    for path in ("/login", "/api/characters", "/no-such-page"):
        assert "Strict-Transport-Security" not in client.get(path).headers


# next= after log-in

ATTACKS = [
    "/\\127.0.0.1:5001/x",       # the reported one: /%5C127.0.0.1:5001/x
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "/\t/evil.com",              # /%09/evil.com: browsers drop tabs
    "/\n/evil.com",
    "/\r\n/evil.com",
    " //evil.com",               # leading spaces are stripped by browsers
    "\x00//evil.com",
    "\x01/\\evil.com",
    "https://evil.com",
    "http:evil.com",
    "HTTPS://evil.com/",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.com",
    "evil.com/path",
    "@evil.com",
    "",
    None,
    "/ok\x00/then",              # control characters inside: not a path anyone types
]


@pytest.mark.parametrize("value", ATTACKS)
def test_next_that_leaves_the_site_becomes_home(value):
    assert safe_next(value) == "/"


@pytest.mark.parametrize("value", [
    "/", "/discover", "/chat/12", "/search?q=cats&page=2", "/tags/sci-fi#top",
    "/studio/3", "/a:b", "/%2F%2Fevil.com",  # percent-encoded slashes stay in the path
    "/%5Cevil.com", "/%09/x",                # encoded backslash/tab: browsers keep them encoded
    "/ /evil.com",                           # a space inside a path is part of the path
])
def test_next_that_stays_on_the_site_is_kept(value):
    assert safe_next(value) == value


def test_next_is_normalised_the_way_the_browser_will_read_it():
    assert safe_next("/disc\tover") == "/discover"
    assert safe_next("  /discover  ") == "/discover"
    assert safe_next("/a\\b") == "/a/b"


def _data_next(html: str) -> str:
    found = re.search(r'id="auth-form"[^>]*data-next="([^"]*)"', html)
    assert found, html
    return found.group(1).replace("&amp;", "&")


@pytest.mark.parametrize("query, expected", [
    ("next=/%5C127.0.0.1:5001/x", "/"),
    ("next=//evil.com", "/"),
    ("next=/%09/evil.com", "/"),
    ("next=https://evil.com", "/"),
    ("next=javascript:alert(1)", "/"),
    ("next=%5C%5Cevil.com", "/"),
    ("next=/discover", "/discover"),
    ("next=/search%3Fq%3Dcats%26page%3D2", "/search?q=cats&page=2"),
    ("", "/"),
])
def test_the_login_and_signup_pages_hand_the_script_a_checked_next(client, query, expected):
    for page in ("/login", "/signup"):
        response = client.get(f"{page}?{query}")
        assert response.status_code == 200
        assert _data_next(response.get_data(as_text=True)) == expected


def test_the_login_script_never_reads_next_from_the_address():
    from tests.support.live_server import REPO
    script = (REPO / "app" / "static" / "js" / "auth.js").read_text()
    assert "location.search" not in script and "URLSearchParams" not in script
    assert "dataset.next" in script
