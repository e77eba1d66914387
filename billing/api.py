"""Billing routes (the billing blueprint), thin: parse, call billing, shape JSON.

    GET  /api/me/membership                 -> {membership: {tier, expires_at, source, entitlements}}
    GET  /api/house-ad                      -> {ad: {id, title, text, url, label} | null}
    POST /api/billing/redeem {code}         -> {membership, granted: {tier, days_added?, gems}}
    POST /api/billing/webhook               Kindred-Signature; no login, no CSRF token
    POST /api/billing/stripe/webhook        Stripe-Signature; no login, no CSRF token
docs/billing.md has the contracts."""
from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from billing import codes, webhooks
from billing.ads import house_ad_for
from billing.grants import membership_payload
from core.auth.csrf import check_csrf
from core.db import utcnow
from core.errors import check_known_fields
from core.web.db import db_session
from core.web.request_body import json_body

bp = Blueprint("billing", __name__)
WEBHOOKS = ("billing.webhook", "billing.stripe_webhook")  # signed, so no CSRF token


@bp.before_request
def _csrf_unless_webhook():
    if request.endpoint not in WEBHOOKS:
        check_csrf()


@bp.get("/api/me/membership")
@login_required
def my_membership():
    return jsonify({"membership": membership_payload(db_session(), current_user.id, _tiers())})


@bp.get("/api/house-ad")
def my_house_ad():
    """The house ad for whoever asks (null when ads are off, for members, minors and visitors)."""
    user = current_user if current_user.is_authenticated else None
    return jsonify({"ad": house_ad_for(db_session(), user, current_app.config, utcnow().date())})


@bp.post("/api/billing/redeem")
@login_required
def redeem():
    session = db_session()
    body = json_body()
    check_known_fields(body, {"code"}, "send {code}.")
    granted = codes.redeem(session, _tiers(), current_user.id, body.get("code"))
    return jsonify({"membership": membership_payload(session, current_user.id, _tiers()),
                    "granted": _grant_payload(granted)})


@bp.post("/api/billing/webhook")
def webhook():
    granted = webhooks.handle_generic(db_session(), _tiers(),
                                      current_app.config["BILLING_WEBHOOK_SECRET"],
                                      request.get_data(), request.headers.get("Kindred-Signature"))
    return jsonify(_grant_payload(granted))


@bp.post("/api/billing/stripe/webhook")
def stripe_webhook():
    granted = webhooks.handle_stripe(db_session(), _tiers(),
                                     current_app.config["STRIPE_WEBHOOK_SECRET"],
                                     request.get_data(), request.headers.get("Stripe-Signature"))
    if granted is None:
        return jsonify({"ok": True, "ignored": True})
    return jsonify(_grant_payload(granted))


def _grant_payload(granted) -> dict:
    return {"ok": True, "duplicate": granted.duplicate, "user_id": granted.user_id,
            "tier": granted.tier, "gems": granted.gems,
            "expires_at": granted.expires_at.isoformat() if granted.expires_at else None}


def _tiers() -> dict:
    return current_app.config["MEMBERSHIP_TIERS"]
