"""Paid content routes (the paid blueprint), thin: parse, call billing.paid / billing.purchases,
shape JSON. docs/billing.md ("Paid content") and docs/api.md have the contracts.

    PUT    /api/paid/<kind>/<id>/price {gems}       creator or admin -> {price}
    DELETE /api/paid/<kind>/<id>/price              creator or admin -> {price: null}
    POST   /api/purchases {kind, id, idempotency_key}  -> 201 {purchase, balance} (200 replayed)
    GET    /api/me/purchases                        -> {purchases}
    GET    /api/admin/purchases?buyer=<username>    moderators -> {purchases}
    POST   /api/admin/purchases/<id>/refund {reason}   moderators -> {purchase, buyer_balance}
"""
from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from billing import paid, purchases
from core.auth.csrf import check_csrf
from core.auth.guards import role_required
from core.auth.roles import has_role
from core.errors import check_known_fields
from core.web.db import db_session
from core.web.request_body import json_body
from gacha import ledger

bp = Blueprint("paid", __name__)
bp.before_request(check_csrf)


@bp.put("/api/paid/<kind>/<int:item_id>/price")
@login_required
def set_price(kind: str, item_id: int):
    body = json_body()
    check_known_fields(body, {"gems"}, "send {gems}.")
    price = paid.set_price(db_session(), current_user, kind, item_id, body.get("gems"),
                           current_app.config["PAID_CONTENT_MAX_GEMS"], _is_admin())
    return jsonify({"price": {"kind": price.kind, "item_id": price.item_id, "gems": price.gems}})


@bp.delete("/api/paid/<kind>/<int:item_id>/price")
@login_required
def clear_price(kind: str, item_id: int):
    paid.clear_price(db_session(), current_user, kind, item_id, _is_admin())
    return jsonify({"price": None, "kind": kind, "item_id": item_id})


@bp.post("/api/purchases")
@login_required
def buy():
    body = json_body()
    check_known_fields(body, {"kind", "id", "idempotency_key"}, "send {kind, id, idempotency_key}.")
    session = db_session()
    bought = purchases.buy(session, current_user.id, body.get("kind"), body.get("id"),
                           body.get("idempotency_key"),
                           current_app.config["PAID_CONTENT_FEE_PERCENT"])
    result = {"purchase": purchases.purchase_payload(bought.purchase),
              "balance": ledger.balance(session, current_user.id, "gems"),
              "replayed": bought.replayed}
    return jsonify(result), 200 if bought.replayed else 201


@bp.get("/api/me/purchases")
@login_required
def my_purchases():
    return jsonify({"purchases": purchases.purchases_of(db_session(), current_user.id)})


@bp.get("/api/admin/purchases")
@role_required("moderator")
def all_purchases():
    session = db_session()
    buyer = request.args.get("buyer")
    buyer_id = ledger.user_id_by_name(session, buyer) if buyer else None
    return jsonify({"purchases": purchases.purchases_for_moderators(session, buyer_id)})


@bp.post("/api/admin/purchases/<int:purchase_id>/refund")
@role_required("moderator")
def refund(purchase_id: int):
    body = json_body()
    check_known_fields(body, {"reason"}, "send {reason}.")
    session = db_session()
    purchase = purchases.refund(session, current_user.id, purchase_id, body.get("reason"))
    return jsonify({"purchase": purchases.purchase_payload(purchase),
                    "buyer_balance": ledger.balance(session, purchase.buyer_id, "gems")})


def _is_admin() -> bool:
    return has_role(current_user.role, "admin") or ledger.is_admin(
        current_user.username, current_app.config["KINDRED_ADMINS"])
