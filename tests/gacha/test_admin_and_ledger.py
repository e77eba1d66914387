"""Admin grants (API and CLI), and the ledger history (API and page)."""
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

import gacha.ledger
from gacha import cli
from gacha.models import LedgerEntry

pytestmark = pytest.mark.both_databases


def _entries(app):
    with Session(app.extensions["kindred.db"]) as session:
        return session.exec(select(sa.func.count()).select_from(LedgerEntry)).one()


@pytest.fixture
def admin(app, auth):
    auth.signup("boss")
    app.config["KINDRED_ADMINS"] = ["boss"]
    return auth


@pytest.fixture
def player(app):
    other = app.test_client()
    response = other.post("/api/auth/signup", json={"username": "Player1", "password": "password1"})
    return {"client": other, "csrf": response.get_json()["csrf_token"],
            "id": response.get_json()["user"]["id"]}


def _grant(auth, **body):
    payload = {"username": "player1", "currency": "premium", "amount": 50,
               "idempotency_key": "ticket-1", **body}
    return auth.call("POST", "/api/admin/grant", json=payload)


def test_an_admin_grants_premium_once_per_key(app, admin, player):
    first = _grant(admin)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["wallet"]["premium"] == 50 and first.get_json()["user_id"] == player["id"]
    again = _grant(admin)
    assert again.status_code == 200
    assert again.get_json()["transaction_id"] == first.get_json()["transaction_id"]
    assert again.get_json()["wallet"]["premium"] == 50
    reused = _grant(admin, amount=60)
    assert reused.status_code == 409 and reused.get_json()["error"]["code"] == "idempotency_key_reused"
    wallet = player["client"].get("/api/wallet").get_json()
    assert wallet["wallet"]["premium"] == 50 and wallet["is_admin"] is False


def test_non_admins_and_strangers_cannot_grant(app, auth, player):
    auth.signup("nobody")
    app.config["KINDRED_ADMINS"] = ["boss"]
    refused = _grant(auth)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "admin_only"
    assert app.test_client().post("/api/admin/grant", json={}).status_code in (401, 403)
    assert _entries(app) == 0


@pytest.mark.parametrize("body, status, code", [
    ({"username": "ghost"}, 404, "not_found"),
    ({"username": None}, 400, "invalid_username"),
    ({"currency": "shards"}, 400, "invalid_currency"),
    ({"amount": 0}, 400, "invalid_amount"),
    ({"amount": -5}, 400, "invalid_amount"),
    ({"amount": "50"}, 400, "invalid_amount"),
    ({"amount": 10**12}, 400, "invalid_amount"),
    ({"idempotency_key": ""}, 400, "invalid_idempotency_key"),
])
def test_bad_grants_are_refused_and_post_nothing(app, admin, player, body, status, code):
    response = _grant(admin, **body)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert _entries(app) == 0


def test_the_grant_cli_is_idempotent_by_key(app, app_config, player, capsys):
    url = app_config.DATABASE_URL
    args = ["grant", "player1", "70", "--currency", "premium", "--key", "cli-1", "--database-url", url]
    assert cli.main(args) == 0
    assert cli.main(args) == 0
    assert "balance now 70 premium" in capsys.readouterr().out
    assert cli.main(["grant", "ghost", "5", "--database-url", url]) == 2
    assert cli.main(["grant", "player1", "-5", "--database-url", url]) == 2
    assert "not granted" in capsys.readouterr().err
    with Session(app.extensions["kindred.db"]) as session:
        assert gacha.ledger.balances(session, player["id"])["premium"] == 70


def test_the_ledger_api_lists_entries_with_running_balances(app, admin, player):
    _grant(admin, currency="gems", amount=300, idempotency_key="a")
    _grant(admin, currency="gems", amount=5, idempotency_key="b")
    player["client"].post("/api/checkin", headers={"X-CSRF-Token": player["csrf"]})
    body = player["client"].get("/api/wallet/ledger").get_json()
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in body["entries"]] == [
        ("checkin", 100, 405), ("admin_grant", 5, 305), ("admin_grant", 300, 300)]
    assert body["balances"]["gems"] == 405 and body["next_before"] is None
    page = player["client"].get("/api/wallet/ledger?currency=gems&limit=1").get_json()
    older = player["client"].get(f"/api/wallet/ledger?limit=5&before={page['next_before']}").get_json()
    assert [e["amount"] for e in older["entries"]] == [5, 300]
    for query in ("limit=abc", "limit=0", "currency=gold", "before=-1"):
        assert player["client"].get(f"/api/wallet/ledger?{query}").status_code == 400, query
    assert app.test_client().get("/api/wallet/ledger").status_code == 401


def test_the_ledger_page_links_the_draw_history(app, auth):
    assert app.test_client().get("/gacha/ledger").status_code == 302
    auth.signup()
    page = auth.call("GET", "/gacha/ledger")
    assert page.status_code == 200
    assert b"/api/gacha/history.csv" in page.data and b"gacha_ledger.js" in page.data
    for path in ("/gacha", "/gacha/collection"):
        assert b'href="/gacha/ledger"' in auth.call("GET", path).data
