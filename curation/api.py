"""Curation routes (docs/curation.md), thin: parse, call the service, shape the JSON.

    GET    /api/instance                      anyone: {instance}
    PATCH  /api/admin/instance {field: value|null, ...}   admins: {instance}
    GET    /api/picks                         anyone: {picks} the public may see, newest first
    GET    /api/admin/picks                   admins: {picks} every pick, with `visible`
    POST   /api/admin/picks {kind, id, note?} admins: 201 {pick}
    DELETE /api/admin/picks/<id>              admins: 204
Admin routes: 401 without a login, 403 below the admin role (`users grant-role NAME admin`).
Every template gets `instance` (the settings as shown) from this blueprint's context processor."""
from flask import Blueprint, current_app, has_request_context, jsonify
from flask_login import current_user

from core.auth.csrf import login_then_csrf
from core.auth.guards import role_required
from core.web.db import db_session
from core.web.request_body import json_body
from curation import picks, settings

bp = Blueprint("curation", __name__)


bp.before_request(login_then_csrf("/api/admin/"))  # 401 without a login, then CSRF


@bp.app_context_processor
def inject_instance():
    if not has_request_context():
        return {}
    return {"instance": settings.instance(db_session(), current_app.config)}


@bp.get("/api/instance")
def get_instance():
    return jsonify({"instance": settings.instance(db_session(), current_app.config)})


@bp.patch("/api/admin/instance")
@role_required("admin")
def patch_instance():
    shown = settings.update_instance(db_session(), current_app.config, json_body(),
                                     current_user.id)
    return jsonify({"instance": shown})


@bp.get("/api/picks")
def list_picks():
    return jsonify({"picks": picks.public_picks(db_session(), _limit())})


@bp.get("/api/admin/picks")
@role_required("admin")
def list_all_picks():
    return jsonify({"picks": picks.all_picks(db_session())})


@bp.post("/api/admin/picks")
@role_required("admin")
def add_pick():
    session = db_session()
    pick = picks.add_pick(session, json_body(), current_user.id)
    return jsonify({"pick": picks.pick_payload(session, pick)}), 201


@bp.delete("/api/admin/picks/<int:pick_id>")
@role_required("admin")
def delete_pick(pick_id: int):
    picks.remove_pick(db_session(), pick_id)
    return "", 204


def _limit() -> int:
    return current_app.config.get("PICKS_LIMIT", 12)
