"""The gacha JSON API with the Flask test client, on SQLite and PostgreSQL."""
import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

import gacha.banners
import gacha.ledger
from gacha.models import LedgerEntry, Pull

pytestmark = pytest.mark.both_databases


@pytest.fixture
def banner_id(app):
    with Session(app.extensions["kindred.db"]) as session:
        return gacha.banners.seed_gacha(session).id


@pytest.fixture
def user(auth):
    return auth.signup().get_json()["user"]["id"]


def _grant(app, user_id, amount, currency="gems", key="grant"):
    with Session(app.extensions["kindred.db"]) as session:
        gacha.ledger.admin_grant(session, user_id, currency, amount, key)


def _ledger(app):
    with Session(app.extensions["kindred.db"]) as session:
        return (session.exec(select(sa.func.count()).select_from(LedgerEntry)).one(),
                session.exec(select(sa.func.count()).select_from(Pull)).one())


def _draw(auth, banner_id, count=10, key="k", **extra):
    return auth.call("POST", f"/api/banners/{banner_id}/draw",
                     json={"count": count, "idempotency_key": key, **extra})


def test_gacha_endpoints_need_a_login(client, banner_id):
    assert client.get("/api/wallet").status_code == 401
    assert client.get("/api/gacha/history.csv").status_code == 401
    assert client.get("/api/banners").status_code == 200  # public, without pity
    assert "pity" not in client.get("/api/banners").get_json()["banners"][0]


def test_checkin_once_a_day_and_the_wallet_shows_it(auth, user):
    first = auth.call("POST", "/api/checkin")
    again = auth.call("POST", "/api/checkin")
    assert first.status_code == 200 and first.get_json()["granted"] is True
    assert again.get_json()["granted"] is False
    assert again.get_json()["transaction_id"] == first.get_json()["transaction_id"]
    wallet = auth.call("GET", "/api/wallet").get_json()
    assert wallet["wallet"] == {"gems": gacha.ledger.CHECKIN_REWARD, "premium": 0, "shards": 0}
    assert wallet["checked_in_today"] is True
    assert [(e["kind"], e["amount"]) for e in wallet["entries"]] == [("checkin", 100)]


def test_state_changes_need_the_csrf_token(app, auth, user, banner_id):
    _grant(app, user, 1000)
    response = auth.client.post(f"/api/banners/{banner_id}/draw",
                                json={"count": 10, "idempotency_key": "k"})
    assert response.status_code == 403
    assert auth.client.post("/api/checkin").status_code == 403
    assert _ledger(app) == (2, 0)


def test_ten_pull_returns_pulls_wallet_and_pity(app, auth, user, banner_id):
    _grant(app, user, 1000)
    response = _draw(auth, banner_id, 10, "first", client_seed="my-seed")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(body["pulls"]) == 10
    pull = body["pulls"][0]
    assert {"id", "card", "rarity", "pity_before", "nonce"} <= set(pull)
    assert pull["card"]["rarity"] == pull["rarity"] and pull["client_seed"] == "my-seed"
    assert [p["nonce"] for p in body["pulls"]] == list(range(10))
    assert body["wallet"]["gems"] == 0
    assert body["pity"]["hard_pity"] == 90
    rarities = [p["rarity"] for p in body["pulls"]]
    since_ssr = rarities[::-1].index("SSR") if "SSR" in rarities else 10
    assert body["pity"]["pulls_since_ssr"] == since_ssr
    banners = auth.call("GET", "/api/banners").get_json()["banners"]
    assert banners[0]["pity"] == body["pity"]


def test_replayed_draw_is_a_409_with_the_original_and_charges_nothing(app, auth, user, banner_id):
    _grant(app, user, 2000)
    first = _draw(auth, banner_id, 10, "once").get_json()
    before = _ledger(app)
    replay = _draw(auth, banner_id, 10, "once")
    assert replay.status_code == 409
    body = replay.get_json()
    assert body["error"]["code"] == "idempotency_key_replayed" and body["error"]["message"]
    assert [p["id"] for p in body["original"]["pulls"]] == [p["id"] for p in first["pulls"]]
    assert _ledger(app) == before
    different = _draw(auth, banner_id, 1, "once")
    assert different.status_code == 409
    assert different.get_json()["error"]["code"] == "idempotency_key_reused"
    assert _ledger(app) == before
    assert auth.call("GET", "/api/wallet").get_json()["wallet"]["gems"] == 1000


def test_too_little_currency_is_a_402_and_changes_nothing(app, auth, user, banner_id):
    _grant(app, user, 950)
    before = _ledger(app)
    response = _draw(auth, banner_id, 10, "poor")
    assert response.status_code == 402
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_funds" and "1000" in error["message"]
    assert _ledger(app) == before
    premium = _draw(auth, banner_id, 1, "premium", currency="premium")
    assert premium.status_code == 402 and _ledger(app) == before


def test_an_ended_banner_refuses_draws(app, auth, user, banner_id):
    _grant(app, user, 1000)
    now = datetime.now(timezone.utc)
    with Session(app.extensions["kindred.db"]) as session:
        ended = gacha.banners.create_banner(session, "Old", [1], [1, 2, 3], starts_at=now - timedelta(days=9),
                                            ends_at=now - timedelta(seconds=1)).id
        session.commit()
    before = _ledger(app)
    response = _draw(auth, ended, 1, "late")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "banner_ended"
    assert _draw(auth, 999, 1, "nowhere").status_code == 404
    assert _ledger(app) == before


@pytest.mark.parametrize("body", [
    {"count": -1, "idempotency_key": "a"}, {"count": 0, "idempotency_key": "a"},
    {"count": 10**30, "idempotency_key": "a"}, {"count": 2**63, "idempotency_key": "a"},
    {"count": 1.5, "idempotency_key": "a"}, {"count": 10.0, "idempotency_key": "a"},
    {"count": "10", "idempotency_key": "a"}, {"count": True, "idempotency_key": "a"},
    {"count": None, "idempotency_key": "a"}, {"idempotency_key": "a"},
    {"count": 1}, {"count": 1, "idempotency_key": ""}, {"count": 1, "idempotency_key": 7},
    {"count": 1, "idempotency_key": "x" * 101},
    {"count": 1, "idempotency_key": "a", "client_seed": "has:colon"},
    {"count": 1, "idempotency_key": "a", "client_seed": 5},
    {"count": 1, "idempotency_key": "a", "currency": "shards"},
])
def test_malformed_draws_are_a_clear_400_and_change_nothing(app, auth, user, banner_id, body):
    _grant(app, user, 10**6)
    before = _ledger(app)
    response = auth.call("POST", f"/api/banners/{banner_id}/draw", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"].startswith("invalid_") and error["message"]
    assert _ledger(app) == before


def test_non_json_draw_body_is_a_400(app, auth, user, banner_id):
    response = auth.call("POST", f"/api/banners/{banner_id}/draw", data="count=10")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_rates_are_the_disclosure_of_the_banner_rules(client, banner_id):
    rates = client.get(f"/api/banners/{banner_id}/rates").get_json()
    assert rates["banner"]["id"] == banner_id
    assert rates["rarities"]["SSR"]["base_rate"] == 0.015
    assert rates["ssr"]["hard_pity"] == 90 and rates["rules"] == rates["banner"]["rules"]
    assert abs(sum(i["consolidated_probability"] for i in rates["items"]) - 1) < 1e-9
    assert all(i["card"]["rarity"] == i["rarity"] for i in rates["items"])
    assert client.get("/api/banners/999/rates").status_code == 404


def test_seed_commitment_rotation_and_verification(app, auth, user, banner_id):
    _grant(app, user, 1000)
    committed = auth.call("GET", "/api/gacha/seed").get_json()["seed"]
    assert "server_seed" not in committed and len(committed["seed_hash"]) == 64
    pulls = _draw(auth, banner_id, 10, "v").get_json()["pulls"]
    early = auth.call("GET", f"/api/gacha/pulls/{pulls[0]['id']}/verify")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "seed_not_revealed"
    rotated = auth.call("POST", "/api/gacha/seed/rotate", json={"client_seed": "fresh"}).get_json()
    assert rotated["revealed"]["seed_hash"] == committed["seed_hash"]
    assert rotated["revealed"]["next_nonce"] == 10 and len(rotated["revealed"]["server_seed"]) == 64
    assert rotated["seed"]["client_seed"] == "fresh" and "server_seed" not in rotated["seed"]
    for pull in pulls:
        report = auth.call("GET", f"/api/gacha/pulls/{pull['id']}/verify").get_json()
        assert report["verified"] is True
        assert report["recomputed"]["card_id"] == str(pull["card"]["id"])
        assert report["server_seed"] == rotated["revealed"]["server_seed"]
    assert auth.call("GET", "/api/gacha/pulls/99999/verify").status_code == 404


def test_history_exports_as_csv(app, auth, user, banner_id):
    _grant(app, user, 1100)
    _draw(auth, banner_id, 10, "h1")
    _draw(auth, banner_id, 1, "h2")
    response = auth.call("GET", "/api/gacha/history.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 11 and rows[0]["seed_hash"] and rows[0]["server_seed"] == ""
    assert [int(r["nonce"]) for r in rows] == list(range(11))


def test_collection_and_shard_shop(app, auth, user, banner_id):
    cards = auth.call("GET", "/api/gacha/collection").get_json()["cards"]
    assert len(cards) >= 24 and all(c["count"] == 0 for c in cards)
    n_card = next(c for c in cards if c["rarity"] == "N")
    refused = auth.call("POST", f"/api/gacha/shop/{n_card['id']}", json={"idempotency_key": "s"})
    assert refused.status_code == 402
    assert auth.call("POST", "/api/gacha/shop/99999", json={"idempotency_key": "s"}).status_code == 404


def test_the_cli_recomputes_a_pull_from_its_verify_report(app, auth, user, banner_id, tmp_path,
                                                          capsys):
    from gacha import cli
    _grant(app, user, 100)
    pull = _draw(auth, banner_id, 1, "cli").get_json()["pulls"][0]
    auth.call("POST", "/api/gacha/seed/rotate", json={})
    report = auth.call("GET", f"/api/gacha/pulls/{pull['id']}/verify").get_json()
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    assert cli.main(["verify", str(path)]) == 0
    assert capsys.readouterr().out.count("ok  ") == 3
    other = next(c for c in report["pool"][report["recorded"]["rarity"]]
                 if c["id"] != str(report["recorded"]["card_id"]))
    path.write_text(json.dumps({**report, "recorded": {**report["recorded"], "card_id": other["id"]}}))
    assert cli.main(["verify", str(path)]) == 1
    path.write_text(json.dumps({**report, "server_seed": "0" * 64}))
    assert cli.main(["verify", str(path)]) == 1
    path.write_text("{}")
    assert cli.main(["verify", str(path)]) == 2


def test_history_export_window_is_checked(auth, user):
    assert auth.call("GET", "/api/gacha/history.csv?days=365").status_code == 200
    for days in ("0", "-5", "99999", "soon"):
        response = auth.call("GET", f"/api/gacha/history.csv?days={days}")
        assert response.status_code == 400, days
        assert response.get_json()["error"]["code"] == "invalid_days"
