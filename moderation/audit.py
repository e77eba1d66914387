"""The audit log: every moderation action, appended once and never changed. There is no
function, route or CLI that updates or deletes a row, and the ORM refuses to flush either
(a bulk UPDATE/DELETE statement is not used anywhere for this table). No Flask here."""
from typing import Optional

from sqlalchemy import event as sa_event
from sqlmodel import Session, select

from core.errors import KindredError
from moderation.models import ModerationAction
from moderation.queue import action_payload

MAX_PAGE = 100


class AppendOnly(KindredError):
    status = 500


@sa_event.listens_for(ModerationAction, "before_update")
def _no_update(_mapper, _connection, target):
    raise AppendOnly("audit_append_only", f"Moderation action {target.id} cannot be changed: "
                                          "the audit log is append-only.")


@sa_event.listens_for(ModerationAction, "before_delete")
def _no_delete(_mapper, _connection, target):
    raise AppendOnly("audit_append_only", f"Moderation action {target.id} cannot be deleted: "
                                          "the audit log is append-only.")


def list_actions(session: Session, before: Optional[int] = None, limit: int = 50,
                 user_id: Optional[int] = None) -> list[dict]:
    """Newest first; `before` an action id for the next page."""
    query = select(ModerationAction)
    if before is not None:
        query = query.where(ModerationAction.id < before)
    if user_id is not None:
        query = query.where(ModerationAction.user_id == user_id)
    query = query.order_by(ModerationAction.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    return [action_payload(a) for a in session.exec(query)]
