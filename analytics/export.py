"""events.jsonl: the log's rows, one JSON object a line, in id order, read in pages of
`page_size` with a session per page, so a long export holds no connection between pages.
Retention and every other figure are computed from exactly these rows (docs/analytics.md)."""
import json
from datetime import datetime
from typing import Iterator, Optional

from sqlmodel import select

from core.db import session_scope
from analytics.datasets import LIVE
from analytics.models import AnalyticsEvent


def export_lines(db, since: Optional[datetime] = None, until: Optional[datetime] = None,
                 page_size: int = 1000, dataset: str = LIVE) -> Iterator[str]:
    """The rows of `dataset` with since <= occurred_at < until (either bound may be left out)."""
    after = 0
    while True:
        with session_scope(db) as session:
            query = select(AnalyticsEvent).where(AnalyticsEvent.id > after,
                                                 AnalyticsEvent.dataset == dataset)
            if since is not None:
                query = query.where(AnalyticsEvent.occurred_at >= since)
            if until is not None:
                query = query.where(AnalyticsEvent.occurred_at < until)
            rows = session.exec(query.order_by(AnalyticsEvent.id).limit(page_size)).all()
        if not rows:
            return
        for row in rows:
            yield json.dumps(row_payload(row), separators=(",", ":")) + "\n"
        after = rows[-1].id


def row_payload(row: AnalyticsEvent) -> dict:
    return {"id": row.id, "user_id": row.user_id, "name": row.name,
            "occurred_at": row.occurred_at.isoformat(), "session_id": row.session_id,
            "properties": row.properties, "dataset": row.dataset}
