"""Analytics routes (admins only: 401 without a login, 403 below admin), thin: parse, call the
service, shape the answer. Every endpoint takes ?dataset=live|demo (default live).

    GET /admin/analytics                                the operator dashboard (page)
    GET /api/admin/analytics/retention?period=day|week&mode=on|on_or_after&from=&to=
        from/to: YYYY-MM-DD, cohort days (weeks containing them) included; default the last 30
        days (12 weeks) up to today
    GET /api/admin/analytics/activity?from=&to=         DAU, WAU, MAU, DAU/MAU per day
    GET /api/admin/analytics/engagement?from=&to=       session length, messages per session
    GET /api/admin/analytics/funnels?from=&to=          sign-up, swipe and post funnels
    GET /api/admin/analytics/community-effect?from=&to= D7 retention with and without community
        from/to: YYYY-MM-DD, both included; default the last 30 days up to today
    GET /api/admin/experiments/<name>                   retention and messages per user by arm
    GET /api/me/experiments                             (any signed-in user) my arm in each
    GET /api/admin/analytics/events.jsonl?since=&until=
        since/until: ISO 8601 times or dates (UTC when no offset is given), since included"""
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_login import current_user, login_required

from core.auth.guards import role_required
from core.db import utcnow
from core.errors import KindredError
from core.web.db import db_session
from core.web.pages import page_login_required
from analytics import activity, effects, engagement, experiments, export, funnels, retention
from analytics.datasets import DATASETS, DEMO, LIVE, check_dataset
from analytics.simulate import DEMO_EXPERIMENTS

bp = Blueprint("analytics", __name__)


@bp.get("/api/admin/analytics/retention")
@role_required("admin")
def retention_report():
    period = request.args.get("period", "day")
    mode = request.args.get("mode", "on")
    today = _clock()().date()
    last = _date_arg("to") or today
    default_span = timedelta(days=29) if period == "day" else timedelta(weeks=11)
    first = _date_arg("from") or last - default_span
    return jsonify(retention.retention(db_session(), period, mode, first, last, today,
                                       _dataset()))


@bp.get("/admin/analytics")
@page_login_required
@role_required("admin")
def dashboard_page():
    return render_template("admin_analytics.html", dataset=_dataset(), datasets=DATASETS,
                           experiments=sorted(_experiments(_dataset())))


@bp.get("/api/admin/analytics/activity")
@role_required("admin")
def activity_report():
    first, last, today = _day_range()
    return jsonify(activity.activity(db_session(), first, last, today, _dataset()))


@bp.get("/api/admin/analytics/engagement")
@role_required("admin")
def engagement_report():
    first, last, _ = _day_range()
    return jsonify(engagement.engagement(db_session(), first, last, _dataset()))


@bp.get("/api/admin/analytics/funnels")
@role_required("admin")
def funnels_report():
    first, last, today = _day_range()
    return jsonify(funnels.funnels(db_session(), first, last, today, _dataset()))


@bp.get("/api/admin/analytics/community-effect")
@role_required("admin")
def community_effect_report():
    first, last, today = _day_range()
    return jsonify(effects.community_effect(db_session(), first, last, today, _dataset()))


@bp.get("/api/admin/experiments/<name>")
@role_required("admin")
def experiment_report(name: str):
    dataset = _dataset()
    return jsonify(experiments.experiment_report(db_session(), name, _experiments(dataset),
                                                 _clock()().date(), dataset))


@bp.get("/api/me/experiments")
@login_required
def my_experiments():
    """The signed-in user's arm in each configured experiment (the flags a page may act on)."""
    return jsonify({"experiments": experiments.flags_for(
        current_user.id, current_app.config.get("ANALYTICS_EXPERIMENTS", {}))})


@bp.get("/api/admin/analytics/events.jsonl")
@role_required("admin")
def export_events():
    since, until = _time_arg("since"), _time_arg("until")
    if since and until and since > until:
        raise KindredError("bad_request", "'since' must not be after 'until'.")
    lines = export.export_lines(current_app.extensions["kindred.db"], since, until,
                                dataset=_dataset())
    return Response(lines, mimetype="application/x-ndjson",
                    headers={"Content-Disposition": 'attachment; filename="events.jsonl"'})


def _dataset() -> str:
    return check_dataset(request.args.get("dataset", LIVE))


def _experiments(dataset: str) -> dict:
    """The configured experiments; the demo data set holds the simulation's own."""
    return DEMO_EXPERIMENTS if dataset == DEMO else current_app.config.get(
        "ANALYTICS_EXPERIMENTS", {})


def _day_range():
    """(from, to, today): from/to default to the 30 days up to today."""
    today = _clock()().date()
    last = _date_arg("to") or today
    return _date_arg("from") or last - timedelta(days=29), last, today


def _clock():
    """The event log's clock (tests move it), so 'today' agrees with the events' times."""
    writer = current_app.extensions.get("kindred.analytics")
    return writer.clock if writer is not None else utcnow


def _date_arg(name: str) -> Optional[date]:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise KindredError("bad_request", f"'{name}' must be a date, YYYY-MM-DD.") from None


def _time_arg(name: str) -> Optional[datetime]:
    value = request.args.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise KindredError("bad_request", f"'{name}' must be an ISO 8601 time or date, e.g. "
                                          "2026-12-01 or 2026-12-01T08:00:00Z.") from None
    if len(value) == 10:  # a date: its start
        parsed = datetime.combine(parsed.date(), time())
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed
