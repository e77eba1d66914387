"""Gacha routes: wallet, ledger history and check-in, admin grants, banners and their published
rates, draws, seeds and verification, collection and shard shop, history export, card art and
the pages. (Gifts and level claims move cards too; their routes are in relationships/api.py.)
Thin: parse, call gacha.ledger, gacha.pulls, gacha.collection and gacha.banners, shape."""
from flask import (Blueprint, Response, current_app, jsonify, render_template, request,
                   send_file)
from flask_login import current_user, login_required

from core.web.request_body import json_body
from core.auth.csrf import check_csrf
from core.web.db import db_session
from core.errors import KindredError
from core.web.errors import replayed_response
from core.web.pages import page_login_required
import gacha.banners
import gacha.collection
import gacha.ledger
import gacha.pulls

bp = Blueprint("gacha", __name__)
bp.before_request(check_csrf)


@bp.get("/gacha")
@page_login_required
def banner_page():
    return render_template("gacha.html")


@bp.get("/gacha/collection")
@page_login_required
def collection_page():
    return render_template("gacha_collection.html")


@bp.get("/gacha/ledger")
@page_login_required
def ledger_page():
    return render_template("gacha_ledger.html")


@bp.get("/gacha/banners/<int:banner_id>/rates")
def rates_page(banner_id: int):
    banner = gacha.banners.get_banner(db_session(), banner_id)  # 404 for unknown banners
    return render_template("gacha_rates.html", banner=banner)


@bp.get("/gacha/cards/<int:card_id>.png")
def card_image(card_id: int):
    instance = current_app.config["INSTANCE_DIR"]
    path = gacha.banners.card_art_file(db_session(), card_id, instance / "gacha-cards",
                                       instance / "avatars")
    return send_file(path, mimetype="image/png", max_age=3600)


@bp.get("/api/wallet")
@login_required
def wallet():
    session = db_session()
    return jsonify({"wallet": gacha.ledger.balances(session, current_user.id),
                    "entries": gacha.ledger.recent_entries(session, current_user.id),
                    "checked_in_today": gacha.ledger.checked_in_today(session, current_user.id),
                    "is_admin": _is_admin()})


@bp.get("/api/wallet/ledger")
@login_required
def ledger():
    """?currency=gems|premium|shards&limit=1..200&before=<entry id> -> entries, newest first,
    each with the balance right after it; `next_before` pages further back."""
    limit = _int_arg("limit", gacha.ledger.LEDGER_PAGE)
    before = _int_arg("before", None)
    return jsonify(gacha.ledger.ledger_history(db_session(), current_user.id,
                                               currency=request.args.get("currency") or None,
                                               limit=limit, before_id=before))


@bp.post("/api/admin/grant")
@login_required
def admin_grant():
    """{username, currency: gems|premium, amount, idempotency_key, reason?}; admins only
    (KINDRED_ADMINS). The same key for the same user returns the first grant unchanged."""
    if not _is_admin():
        raise KindredError("admin_only", "Only admins (KINDRED_ADMINS) may grant currency.",
                           status=403)
    body = json_body()
    session = db_session()
    user_id = gacha.ledger.user_id_by_name(session, body.get("username"))
    tx = gacha.ledger.admin_grant(
        session, user_id, body.get("currency"), body.get("amount"), body.get("idempotency_key"),
        reason=f"{body.get('reason') or ''} (by {current_user.username})".strip())
    return jsonify({"transaction_id": tx.id, "user_id": user_id,
                    "currency": tx.details["currency"], "amount": tx.details["amount"],
                    "wallet": gacha.ledger.balances(session, user_id)})


@bp.post("/api/checkin")
@login_required
def checkin():
    session = db_session()
    outcome = gacha.ledger.daily_checkin(session, current_user.id)
    return jsonify({"granted": outcome.granted, "amount": outcome.amount, "day": outcome.day,
                    "transaction_id": outcome.transaction.id,
                    "wallet": gacha.ledger.balances(session, current_user.id)})


@bp.get("/api/banners")
def banners():
    session = db_session()
    payloads = []
    for banner in gacha.banners.list_banners(session):
        payload = gacha.banners.banner_payload(banner)
        if current_user.is_authenticated:
            payload["pity"] = _pity(session, banner)
        payloads.append(payload)
    return jsonify({"banners": payloads})


@bp.get("/api/banners/<int:banner_id>/rates")
def rates(banner_id: int):
    return jsonify(gacha.banners.banner_disclosure(db_session(), banner_id))


@bp.post("/api/banners/<int:banner_id>/draw")
@login_required
def draw(banner_id: int):
    body = json_body()
    session = db_session()
    outcome = gacha.pulls.draw(session, current_user.id, banner_id, body.get("count"),
                               body.get("idempotency_key"), client_seed=body.get("client_seed"),
                               currency=body.get("currency", "gems"))
    result = {"pulls": gacha.pulls.pulls_payload(session, outcome.pulls),
              "transaction_id": outcome.transaction.id,
              "wallet": gacha.ledger.balances(session, current_user.id),
              "pity": _pity(session, gacha.banners.get_banner(session, banner_id))}
    if outcome.replayed:
        return replayed_response("draw", "charged", result)
    return jsonify(result)


@bp.get("/api/gacha/seed")
@login_required
def seed():
    seed = gacha.pulls.current_seed(db_session(), current_user.id)
    return jsonify({"seed": gacha.pulls.seed_payload(seed)})


@bp.post("/api/gacha/seed/rotate")
@login_required
def rotate_seed():
    body = json_body()
    revealed, new = gacha.pulls.rotate_seed(db_session(), current_user.id, body.get("client_seed"))
    return jsonify({"revealed": gacha.pulls.seed_payload(revealed, reveal=True),
                    "seed": gacha.pulls.seed_payload(new)})


@bp.get("/api/gacha/pulls/<int:pull_id>/verify")
@login_required
def verify(pull_id: int):
    return jsonify(gacha.pulls.verify_pull(db_session(), current_user.id, pull_id))


@bp.get("/api/gacha/history.csv")
@login_required
def history():
    days = request.args.get("days", str(gacha.banners.HISTORY_DAYS))
    days = int(days) if days.isdecimal() and len(days) <= 5 else 0
    if not 1 <= days <= gacha.banners.MAX_HISTORY_DAYS:
        raise KindredError("invalid_days", f"'days' must be a whole number from 1 to "
                                           f"{gacha.banners.MAX_HISTORY_DAYS}.")
    text = gacha.banners.history_csv(db_session(), current_user.id, days=days)
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=gacha-history.csv"})


@bp.get("/api/gacha/collection")
@login_required
def collection():
    session = db_session()
    cards = gacha.collection.collection(session, current_user.id)
    # Paid content (billing, through app/wiring.py): a card's price in gems (None: not sold)
    # and whether the user bought it.
    tags_for = current_app.extensions.get("kindred.price_tags")
    tags = tags_for(session, current_user.id, "card", [c["id"] for c in cards]) if tags_for else {}
    for card in cards:
        card.update(tags.get(card["id"], {"price": None, "purchased": False}))
    return jsonify({"cards": cards, "wallet": gacha.ledger.balances(session, current_user.id)})


@bp.post("/api/gacha/shop/<int:card_id>")
@login_required
def buy_with_shards(card_id: int):
    body = json_body()
    session = db_session()
    tx = gacha.collection.exchange_shards(session, current_user.id, card_id,
                                          body.get("idempotency_key"))
    return jsonify({"transaction_id": tx.id, "card_id": card_id,
                    "wallet": gacha.ledger.balances(session, current_user.id)})


def _is_admin() -> bool:
    return gacha.ledger.is_admin(current_user.username, current_app.config["KINDRED_ADMINS"])


def _int_arg(name: str, default):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdecimal() or len(raw) > 10:
        raise KindredError(f"invalid_{name}", f"'{name}' must be a positive whole number.")
    return int(raw)


def _pity(session, banner) -> dict:
    state = gacha.pulls.pity_of(session, current_user.id, banner.id)
    return gacha.pulls.pity_payload(state, banner)
