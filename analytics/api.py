"""Analytics routes (admins only), thin: parse, call the service, shape the answer.

    GET /api/admin/analytics/retention?period=day|week&mode=on|on_or_after&from=&to=
        from/to: YYYY-MM-DD, cohort days (weeks containing them) included; default the last 30
        days (12 weeks) up to today
    GET /api/admin/analytics/events.jsonl?since=&until=
        since/until: ISO 8601 times or dates (UTC when no offset is given), since included"""
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional

from flask import Blueprint, Response, current_app, jsonify, request

from core.auth.guards import role_required
from core.db import utcnow
from core.errors import KindredError
from core.web.db import db_session
from analytics import export, retention

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
    return jsonify(retention.retention(db_session(), period, mode, first, last, today))


@bp.get("/api/admin/analytics/events.jsonl")
@role_required("admin")
def export_events():
    since, until = _time_arg("since"), _time_arg("until")
    if since and until and since > until:
        raise KindredError("bad_request", "'since' must not be after 'until'.")
    lines = export.export_lines(current_app.extensions["kindred.db"], since, until)
    return Response(lines, mimetype="application/x-ndjson",
                    headers={"Content-Disposition": 'attachment; filename="events.jsonl"'})


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
