"""Creator-rewards routes (the billing_rewards blueprint), thin: parse, call billing.rewards.

    GET /api/me/rewards                  (login) my reward in each month run, newest first
    GET /api/admin/rewards/<YYYY-MM>     (admin) the month's run: pool, payouts, exclusions
docs/billing.md ("Creator rewards") has the contracts; runs are made by the CLI only."""
from flask import Blueprint, jsonify
from flask_login import current_user, login_required

from billing import rewards
from core.auth.csrf import check_csrf
from core.auth.guards import role_required
from core.web.db import db_session

bp = Blueprint("billing_rewards", __name__)
bp.before_request(check_csrf)


@bp.get("/api/me/rewards")
@login_required
def my_rewards():
    return jsonify(rewards.creator_rewards(db_session(), current_user.id))


@bp.get("/api/admin/rewards/<month>")
@role_required("admin")
def month_run(month: str):
    return jsonify(rewards.run_payload(db_session(), month))
