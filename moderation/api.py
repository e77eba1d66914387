"""Moderation routes (the moderation blueprint), thin: parse, call the service, shape JSON.

    POST /api/reports {target_type, target_id, reason, note?}   any user: 201 new, 200 the same
    GET  /api/me/notices?unread=1 | POST /api/me/notices/read {ids?}   the user's notices
    POST /api/appeals {action_id, text}                        the user affected, once: 201
    POST /api/appeals/ban {username, password, text}           a banned user (no session)
    GET  /api/rules | POST /api/rules/accept {version}         the rules; accepting them
    PUT  /api/admin/rules {markdown}                           admins: edit the rules page
    GET  /api/moderation/queue?state=open|resolved&limit=      moderators
    POST /api/moderation/actions {action, target_type, target_id, reason, rule?, days?}
    GET  /api/moderation/audit?before=&limit=&user_id=         the append-only log
    POST /api/moderation/appeals/<id> {decision, reason}       granted | denied
Pages: /moderation (moderators), /rules (anyone)."""
from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_login import current_user, login_required

from core.auth.csrf import check_csrf
from core.auth.guards import role_required
from core.auth.roles import has_role
from core.errors import KindredError
from core.extensions import limiter, socketio
from core.web.db import db_session
from core.web.pages import page_login_required
from core.web.request_body import json_body
from moderation import actions, appeals, audit, notices, queue, reports, rules
from moderation.sockets import end_user_sockets

bp = Blueprint("moderation", __name__)
# A banned user has no session, so no CSRF token; their appeal carries the password instead.
NO_SESSION_ENDPOINTS = {"moderation.appeal_ban"}


@bp.before_request
def _csrf():
    if request.endpoint not in NO_SESSION_ENDPOINTS:
        check_csrf()


@bp.post("/api/reports")
@login_required
def create_report():
    body = json_body()
    made, new = reports.report(db_session(), current_user.id, body.get("target_type"),
                               body.get("target_id"), body.get("reason"), body.get("note", ""))
    return jsonify({"report": queue.report_payload(made)}), 201 if new else 200


@bp.get("/api/me/notices")
@login_required
def my_notices():
    unread = request.args.get("unread") in ("1", "true")
    return jsonify({"notices": notices.list_notices(db_session(), current_user.id, unread)})


@bp.post("/api/me/notices/read")
@login_required
def read_notices():
    ids = json_body(optional=True).get("ids")
    if ids is not None and (not isinstance(ids, list) or
                            not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)):
        raise KindredError("bad_request", "'ids' must be a list of notice ids (or left out).")
    return jsonify({"marked": notices.mark_read(db_session(), current_user.id, ids)})


@bp.post("/api/appeals")
@login_required
def create_appeal():
    body = json_body()
    made = appeals.appeal(db_session(), current_user.id, body.get("action_id"), body.get("text"))
    return jsonify({"appeal": queue.appeal_payload(made)}), 201


@bp.post("/api/appeals/ban")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"],
               deduct_when=lambda response: response.status_code == 401, scope="appeal-ban")
def appeal_ban():
    body = json_body()
    made = appeals.appeal_ban(db_session(), body.get("username"), body.get("password"),
                              body.get("text"))
    return jsonify({"appeal": queue.appeal_payload(made)}), 201


@bp.get("/api/rules")
def get_rules():
    session = db_session()
    payload = rules.current_rules(session)
    if current_user.is_authenticated:
        payload["accepted_version"] = rules.accepted_version(session, current_user.id)
    return jsonify({"rules": payload})


@bp.post("/api/rules/accept")
@login_required
def accept_rules():
    version = json_body(optional=True).get("version")
    session = db_session()
    accepted = rules.accept_rules(session, current_user.id,
                                  rules.current_rules(session)["version"] if version is None
                                  else version)
    return jsonify({"accepted": {"version": accepted.version,
                                 "accepted_at": accepted.accepted_at.isoformat()}})


@bp.put("/api/admin/rules")
@role_required("admin")
def edit_rules():
    return jsonify({"rules": rules.edit_rules(db_session(), current_user.id,
                                              json_body().get("markdown"))})


@bp.get("/api/moderation/queue")
@role_required("moderator")
def get_queue():
    state = request.args.get("state", "open")
    if state not in ("open", "resolved"):
        raise KindredError("bad_state", "'state' must be 'open' or 'resolved'.")
    return jsonify({"items": queue.list_queue(db_session(), state, _int_arg("limit", 50, 200))})


@bp.post("/api/moderation/actions")
@role_required("moderator")
def take_action():
    body = json_body()
    logged = actions.act(db_session(), current_user.id, body.get("action"),
                         body.get("target_type"), body.get("target_id"), body.get("reason"),
                         body.get("rule"), body.get("days"), end_sockets=_end_sockets)
    return jsonify({"action": queue.action_payload(logged)}), 201


@bp.get("/api/moderation/audit")
@role_required("moderator")
def get_audit():
    before = _int_arg("before", None, 2**31 - 1)
    user_id = _int_arg("user_id", None, 2**31 - 1)
    return jsonify({"actions": audit.list_actions(db_session(), before,
                                                  _int_arg("limit", 50, audit.MAX_PAGE),
                                                  user_id)})


@bp.post("/api/moderation/appeals/<int:appeal_id>")
@role_required("moderator")
def decide_appeal(appeal_id: int):
    body = json_body()
    decided, logged = appeals.decide(db_session(), current_user.id, appeal_id,
                                     body.get("decision"), body.get("reason"),
                                     end_sockets=_end_sockets)
    return jsonify({"appeal": queue.appeal_payload(decided),
                    "action": queue.action_payload(logged)})


@bp.get("/moderation")
@page_login_required
def moderation_page():
    if not has_role(current_user.role, "moderator"):
        abort(403)
    return render_template("moderation.html", rules=rules.RULES, actions=actions.ACTIONS)


@bp.get("/rules")
def rules_page():
    return render_template("rules.html", rules=rules.current_rules(db_session()))


def _end_sockets(user_id: int, login_ids: list, payload: dict) -> None:
    end_user_sockets(socketio.server, user_id, login_ids, payload)


def _int_arg(name: str, default, largest: int):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 0 < int(raw) <= largest:
        raise KindredError("bad_request", f"'{name}' must be a whole number from 1 to {largest}.")
    return int(raw)
