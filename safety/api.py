"""The rules stage's admin routes: the page /admin/moderation/rules and its JSON API. Admins
only (401 without a login, 403 below admin). Every change takes effect at once in this process
(the app's Moderator recompiles its rules) and within SAFETY_RULES_REFRESH_SECONDS elsewhere."""
from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user

from core.auth.csrf import login_then_csrf
from core.auth.guards import role_required
from core.web.db import db_session
from core.web.pages import page_login_required
from core.web.request_body import json_body
from safety import rules
from safety.models import MAX_PATTERN_CHARS, RULE_KINDS
from safety.taxonomy import CATEGORIES

bp = Blueprint("safety", __name__)


bp.before_request(login_then_csrf("/api/"))  # 401 without a login, then CSRF


@bp.get("/admin/moderation/rules")
@page_login_required
@role_required("admin")
def rules_page():
    return render_template("admin_rules.html", categories=CATEGORIES, kinds=RULE_KINDS,
                           max_pattern_chars=MAX_PATTERN_CHARS)


@bp.get("/api/admin/moderation/rules")
@role_required("admin")
def list_rules():
    return jsonify({"rules": [rules.rule_payload(r) for r in rules.list_rules(db_session())],
                    "categories": list(CATEGORIES), "kinds": list(RULE_KINDS),
                    "max_pattern_chars": MAX_PATTERN_CHARS})


@bp.post("/api/admin/moderation/rules")
@role_required("admin")
def add_rule():
    """{category, kind: word|pattern, pattern} -> 201 {rule}; 400 bad_pattern for a regex that
    does not compile, is too long or matches everything."""
    body = json_body()
    rule = rules.add_rule(db_session(), body.get("category"), body.get("kind"),
                          body.get("pattern"), current_user.id)
    _changed()
    return jsonify({"rule": rules.rule_payload(rule)}), 201


@bp.patch("/api/admin/moderation/rules/<int:rule_id>")
@role_required("admin")
def set_enabled(rule_id: int):
    """{enabled: true|false} -> {rule}"""
    rule = rules.set_enabled(db_session(), rule_id, json_body().get("enabled"))
    _changed()
    return jsonify({"rule": rules.rule_payload(rule)})


@bp.delete("/api/admin/moderation/rules/<int:rule_id>")
@role_required("admin")
def delete_rule(rule_id: int):
    rules.delete_rule(db_session(), rule_id)
    _changed()
    return "", 204


def _changed() -> None:
    moderator = current_app.extensions.get("kindred.moderator")
    if moderator is not None:
        moderator.rules.invalidate()
