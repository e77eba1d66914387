"""Notices: what the user affected by an action is told, with the rule cited. A later issue
builds full notifications; this is the minimal inbox (GET /api/me/notices). No Flask here."""
from sqlmodel import Session, select

from core.db import utcnow
from moderation.models import Notice

MAX_NOTICES = 100


def notify(session: Session, user_id: int, kind: str, text: str, *, rule=None,
           action_id=None) -> Notice:
    """Add a notice in the caller's transaction (no commit)."""
    notice = Notice(user_id=user_id, kind=kind, text=text[:1000], rule=rule, action_id=action_id)
    session.add(notice)
    return notice


def list_notices(session: Session, user_id: int, unread_only: bool = False) -> list[dict]:
    query = select(Notice).where(Notice.user_id == user_id)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    return [notice_payload(n) for n in session.exec(query.order_by(Notice.id.desc())
                                                    .limit(MAX_NOTICES))]


def mark_read(session: Session, user_id: int, ids=None) -> int:
    """Mark the user's notices read (all of them, or those in `ids`). Commits."""
    query = select(Notice).where(Notice.user_id == user_id, Notice.read_at.is_(None))
    if ids is not None:
        query = query.where(Notice.id.in_(list(ids)))
    marked = 0
    for notice in session.exec(query):
        notice.read_at = utcnow()
        session.add(notice)
        marked += 1
    session.commit()
    return marked


def notice_payload(notice: Notice) -> dict:
    return {"id": notice.id, "kind": notice.kind, "text": notice.text, "rule": notice.rule,
            "action_id": notice.action_id, "created_at": notice.created_at.isoformat(),
            "read_at": notice.read_at.isoformat() if notice.read_at else None}
