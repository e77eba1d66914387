"""Events routes (docs/events.md), thin: parse, call the service, shape the JSON.

    GET    /api/events                              anyone: {events} running and upcoming
    GET    /api/events/<id>                         anyone: {event}
    POST   /api/events/<id>/entries {character_id}  a creator: 201 {entry}
    DELETE /api/events/<id>/entries/<character_id>  its creator, before the end: 204
    GET    /api/admin/events                        admins: {events} every event, newest first
    POST   /api/admin/events {...}                  admins: 201 {event}
    PATCH  /api/admin/events/<id> {...}             admins: {event}
    POST   /api/admin/events/<id>/judge             admins: {event} (judged once, paid once)
    GET    /admin/events                            admins: the page
Admin routes: 401 without a login, 403 below the admin role. An event created or moved so that
it runs now is announced at once (the scheduler announces the others when they start)."""
from flask import Blueprint, current_app, has_request_context, jsonify, render_template
from flask_login import current_user, login_required

from core.auth.csrf import login_then_csrf
from core.auth.guards import role_required
from core.db import utcnow
from core.web.db import db_session
from core.web.pages import page_login_required
from core.web.request_body import json_body
from events import entries, judging, service
from events.payloads import entry_json, event_json

bp = Blueprint("events", __name__)


bp.before_request(login_then_csrf("/api/admin/"))  # 401 without a login, then CSRF


@bp.app_context_processor
def inject_current_event():
    """`current_event` for the event strip on the home page and the feed."""
    if not has_request_context():
        return {}
    session = db_session()
    event = service.current_event(session)
    return {"current_event": None if event is None else {
        "id": event.id, "name": event.name, "theme": event.theme,
        "ends_at": event.ends_at.isoformat(), "post_id": event.announcement_post_id,
        "topic_today": service.topic_of_day(event, utcnow().date())}}


@bp.get("/api/events")
def list_events():
    session = db_session()
    return jsonify({"events": [event_json(session, e) for e in service.public_events(session)]})


@bp.get("/api/events/<int:event_id>")
def get_event(event_id: int):
    session = db_session()
    return jsonify({"event": event_json(session, service.get_event(session, event_id))})


@bp.post("/api/events/<int:event_id>/entries")
@login_required
def enter(event_id: int):
    session = db_session()
    entry = entries.enter(session, event_id, current_user.id, json_body())
    return jsonify({"entry": entry_json(session, entry)}), 201


@bp.delete("/api/events/<int:event_id>/entries/<int:character_id>")
@login_required
def withdraw(event_id: int, character_id: int):
    entries.withdraw(db_session(), event_id, current_user.id, character_id)
    return "", 204


@bp.get("/api/admin/events")
@role_required("admin")
def list_all_events():
    session = db_session()
    return jsonify({"events": [event_json(session, e) for e in service.all_events(session)]})


@bp.post("/api/admin/events")
@role_required("admin")
def create_event():
    session = db_session()
    event = service.create_event(session, json_body(), current_user.id, current_app.config)
    _announcer().started(event.id)
    session.refresh(event)
    return jsonify({"event": event_json(session, event)}), 201


@bp.patch("/api/admin/events/<int:event_id>")
@role_required("admin")
def patch_event(event_id: int):
    session = db_session()
    event = service.update_event(session, event_id, json_body(), current_app.config)
    _announcer().started(event.id)
    session.refresh(event)
    return jsonify({"event": event_json(session, event)})


@bp.post("/api/admin/events/<int:event_id>/judge")
@role_required("admin")
def judge_event(event_id: int):
    session = db_session()
    event = judging.judge(session, event_id)
    _announcer().winners(event.id)
    session.refresh(event)
    return jsonify({"event": event_json(session, event)})


@bp.get("/admin/events")
@page_login_required
@role_required("admin")
def events_page():
    return render_template("admin_events.html")


def _announcer():
    return current_app.extensions["kindred.event_announcer"]
