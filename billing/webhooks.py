"""Signed billing webhooks: the generic `Kindred-Signature` scheme and Stripe's, each turned into
one membership grant (billing/grants.py). No Flask here.

    handle_generic(session, tiers, secret, raw_body, signature_header, now=None) -> Grant
    handle_stripe(session, tiers, secret, raw_body, signature_header) -> Grant | None

Generic: `Kindred-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
accepted within TOLERANCE seconds of now; the body is
`{id, type: "membership.granted", data: {user_id | username, tier, days}}`.
Stripe: `stripe.Webhook.construct_event` checks `Stripe-Signature`; `checkout.session.completed`
with metadata {user_id, tier, days} grants, any other type is acknowledged and ignored (None).
Every refusal is a KindredError (4xx) raised before anything is written."""
import hashlib
import hmac
import json
import time
from typing import Mapping, Optional

from sqlmodel import Session

from billing.grants import Grant, check_grant, grant
from billing.models import BillingEvent
from core.db import is_id
from core.errors import KindredError
from core.users import User
from gacha.ledger import user_id_by_name

TOLERANCE = 300  # seconds between the signature's timestamp and now
MAX_EVENT_ID = 120
GENERIC_TYPE = "membership.granted"
STRIPE_TYPE = "checkout.session.completed"


class BadSignature(KindredError):
    status = 400


class NotConfigured(KindredError):
    status = 404  # no such webhook here yet (a 4xx: providers retry any non-2xx)


def handle_generic(session: Session, tiers: Mapping[str, Mapping], secret: str,
                   raw_body: bytes, signature_header: Optional[str],
                   now: Optional[float] = None) -> Grant:
    verify_signature(secret, raw_body, signature_header, now)
    body = _json_object(raw_body)
    event_id, kind, data = body.get("id"), body.get("type"), body.get("data")
    _check_event_id(event_id)
    if kind != GENERIC_TYPE:
        raise KindredError("unknown_event_type", f"'type' must be {GENERIC_TYPE!r}.")
    if not isinstance(data, dict):
        raise KindredError("invalid_body", "'data' must be an object {user_id | username, "
                                           "tier, days}.")
    user_id = _user(session, data)
    return _grant(session, tiers, "webhook", event_id, kind, user_id, data.get("tier"),
                  data.get("days"))


def handle_stripe(session: Session, tiers: Mapping[str, Mapping], secret: str,
                  raw_body: bytes, signature_header: Optional[str]) -> Optional[Grant]:
    import stripe  # only the Stripe adapter needs the package

    if not secret:
        raise NotConfigured("not_configured", "Stripe webhooks are not set up on this "
                                              "instance (STRIPE_WEBHOOK_SECRET).")
    try:
        stripe.Webhook.construct_event(raw_body,
                                               signature_header or "", secret, TOLERANCE)
    except stripe.SignatureVerificationError as error:
        raise BadSignature("bad_signature", f"Stripe-Signature does not verify: {error}")
    except ValueError:
        raise KindredError("invalid_body", "The body is not a JSON Stripe event.")
    event = _json_object(raw_body)  # verified: read as plain JSON, not as a StripeObject
    if event.get("type") != STRIPE_TYPE:
        return None
    event_id = event.get("id")
    _check_event_id(event_id)
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    obj = data.get("object") if isinstance(data.get("object"), dict) else {}
    metadata = dict(obj.get("metadata") or {}) if isinstance(obj.get("metadata"), dict) else {}
    days = metadata.get("days")
    days = int(days) if isinstance(days, str) and days.isdigit() else days
    user_id = metadata.get("user_id")
    metadata["user_id"] = int(user_id) if isinstance(user_id, str) and user_id.isdigit() \
        else user_id
    return _grant(session, tiers, "stripe", event_id, STRIPE_TYPE, _user(session, metadata),
                  metadata.get("tier"), days)


def verify_signature(secret: str, raw_body: bytes, header: Optional[str],
                     now: Optional[float] = None) -> None:
    """The generic scheme's check (400 bad_signature / stale_signature; 404 not_configured when unset)."""
    if not secret:
        raise NotConfigured("not_configured", "The billing webhook is not set up on this "
                                              "instance (BILLING_WEBHOOK_SECRET).")
    parts = dict(item.split("=", 1) for item in (header or "").split(",") if "=" in item)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or not given:
        raise BadSignature("bad_signature", "Kindred-Signature must be 't=<unix seconds>,"
                                            "v1=<hex HMAC-SHA256 of \"<t>.<body>\">'.")
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE:
        raise BadSignature("stale_signature", f"The signature's timestamp is more than "
                                              f"{TOLERANCE} seconds from now.")
    if not hmac.compare_digest(sign(secret, timestamp, raw_body), given):
        raise BadSignature("bad_signature", "Kindred-Signature does not match the body.")


def sign(secret: str, timestamp, raw_body: bytes) -> str:
    message = str(timestamp).encode() + b"." + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# --- helpers ----------------------------------------------------------------------------------

def _grant(session, tiers, provider, event_id, kind, user_id, tier, days) -> Grant:
    check_grant(tiers, tier, days)
    event = BillingEvent(provider=provider, event_id=event_id, type=kind, tier=tier, days=days)
    return grant(session, tiers, user_id, tier, days, provider, f"billing:{provider}:{event_id}",
                 {"provider": provider, "event_id": event_id}, event=event)


def _json_object(raw_body: bytes) -> dict:
    try:
        body = json.loads(raw_body)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise KindredError("invalid_body", "The body must be a JSON object {id, type, data}.")
    return body


def _check_event_id(event_id) -> None:
    if (not isinstance(event_id, str) or not event_id or len(event_id) > MAX_EVENT_ID
            or not event_id.isprintable()):
        raise KindredError("invalid_event_id", f"'id' must be a printable string of 1-"
                                               f"{MAX_EVENT_ID} characters.")


def _user(session: Session, data: dict) -> int:
    if "user_id" in data and data["user_id"] is not None:
        user_id = data["user_id"]
        if not is_id(user_id) or session.get(User, user_id) is None:
            raise KindredError("unknown_user", "No user with that 'user_id' exists.", 404)
        return user_id
    if "username" in data:
        try:
            return user_id_by_name(session, data["username"])
        except KindredError:
            raise KindredError("unknown_user", "No user with that 'username' exists.", 404)
    raise KindredError("invalid_body", "'data' names the user with 'user_id' or 'username'.")
