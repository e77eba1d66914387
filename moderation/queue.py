"""The review queue: one item per target, filled by reports, by the safety pipeline's flags
(held and blocked content) and by conversation-level escalation; and the queue as moderators
read it, grouped by target with context, scores, reports, flags, actions and appeals.
No Flask here."""
from datetime import timedelta
from typing import Optional

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from core.db import utcnow
from core.event_types import ContentFlagged
from moderation import targets
from moderation.models import Appeal, Flag, ModerationAction, QueueItem, Report
from moderation.rules import rule_for_category

QUEUED_ACTIONS = ("hold", "block")  # flags that put their target in the queue
HIDING_ACTIONS = ("hold",)  # held content stays hidden until a moderator restores it


def item_for(session: Session, target_type: str, target_id: int, *, source: str,
             author_id: Optional[int]) -> QueueItem:
    """The target's queue item, made if there is none, and (re)opened. Flushes, no commit."""
    item = find_item(session, target_type, target_id)
    if item is None:
        item = QueueItem(target_type=target_type, target_id=target_id, author_id=author_id,
                         source=source)
    elif item.state != "open":
        item.state, item.source = "open", source
    item.updated_at = utcnow()
    session.add(item)
    session.flush()
    return item


def find_item(session: Session, target_type: str, target_id: int) -> Optional[QueueItem]:
    return session.exec(select(QueueItem).where(QueueItem.target_type == target_type,
                                                QueueItem.target_id == target_id)).first()


def is_hidden(session: Session, target_type: str, target_id: int) -> bool:
    """Whether a moderator (or a hold) hid the target: the chat shows a hidden message as
    hidden, and the API leaves its text out."""
    item = find_item(session, target_type, target_id)
    return bool(item and item.hidden)


def hidden_ids(session: Session, target_type: str, ids) -> set[int]:
    """The hidden ones among `ids` (one query, for a page of messages)."""
    ids = list(ids)
    if not ids:
        return set()
    return set(session.exec(hidden_targets(target_type).where(QueueItem.target_id.in_(ids))))


def hidden_targets(target_type: str):
    """The ids of the hidden targets of a kind, as a subquery: a domain that pages its own rows
    leaves them out in SQL (`Row.id.not_in(hidden_targets("room_message"))`), so a page keeps
    its length."""
    return select(QueueItem.target_id).where(QueueItem.target_type == target_type,
                                             QueueItem.hidden.is_(True))


class FlagSubscriber:
    """ContentFlagged -> a stored flag; held or blocked content -> its queue item; and a
    conversation whose blocks (or below-threshold sexual_minors scores) add up within the
    window -> an `escalated` item for the conversation, though no single message crossed."""

    def __init__(self, db, settings):
        self.db = db
        self.blocks = settings.get("MODERATION_ESCALATE_BLOCKS", 3)
        self.minor_score = settings.get("MODERATION_ESCALATE_MINOR_SCORE", 1.5)
        self.window = timedelta(minutes=settings.get("MODERATION_ESCALATE_MINUTES", 60))

    def __call__(self, event: ContentFlagged) -> None:
        for attempt in range(2):  # a second flag of the same target racing to make its item
            try:
                with Session(self.db, expire_on_commit=False) as session:
                    record_flag(session, event, self.blocks, self.minor_score, self.window)
                return
            except IntegrityError:
                if attempt:
                    raise


def record_flag(session: Session, event: ContentFlagged, blocks: int, minor_score: float,
                window: timedelta) -> Flag:
    """Store one flag and what follows from it, in one transaction. Commits."""
    scores = event.scores if isinstance(event.scores, dict) else {}
    rule = event.rule or rule_for_category(event.category)
    conversation_id = targets.conversation_of(session, event.target_type, event.target_id)
    flag = Flag(surface=event.surface, target_type=event.target_type, target_id=event.target_id,
                user_id=event.user_id, conversation_id=conversation_id, action=event.action,
                category=event.category, scores=scores, stage=event.stage, rule=rule)
    if event.action in QUEUED_ACTIONS:
        item = item_for(session, event.target_type, event.target_id, source="flagged",
                        author_id=event.user_id)
        _merge_scores(item, scores, event.category, rule)
        item.hidden = item.hidden or event.action in HIDING_ACTIONS
        flag.item_id = item.id
    session.add(flag)
    session.flush()
    if conversation_id is not None:
        _escalate_if_due(session, conversation_id, event.user_id, blocks, minor_score, window)
    session.commit()
    return flag


def list_queue(session: Session, state: str = "open", limit: int = 50) -> list[dict]:
    """Items in `state` (open: also any with an open appeal), most recently touched first."""
    query = select(QueueItem)
    if state == "open":
        appealed = select(ModerationAction.target_type, ModerationAction.target_id).join(
            Appeal, Appeal.action_id == ModerationAction.id).where(Appeal.status == "open")
        pairs = {(t, i) for t, i in session.exec(appealed)}
        query = query.where(QueueItem.state == "open")
        items = list(session.exec(query.order_by(QueueItem.updated_at.desc()).limit(limit)))
        seen = {(i.target_type, i.target_id) for i in items}
        items += [i for pair in pairs - seen
                  if (i := find_item(session, *pair)) is not None]
    else:
        items = list(session.exec(query.where(QueueItem.state == state)
                                  .order_by(QueueItem.updated_at.desc()).limit(limit)))
    return [item_payload(session, item) for item in items]


def item_payload(session: Session, item: QueueItem) -> dict:
    match = (lambda model: (model.target_type == item.target_type)
             & (model.target_id == item.target_id))
    reports = session.exec(select(Report).where(match(Report)).order_by(Report.id))
    mine = Flag.item_id == item.id
    if item.target_type == "conversation":  # an escalation: every flag of the conversation
        mine = mine | (Flag.conversation_id == item.target_id)
    flags = session.exec(select(Flag).where(mine).order_by(Flag.id.desc()).limit(50))
    actions = list(session.exec(select(ModerationAction).where(match(ModerationAction))
                                .order_by(ModerationAction.id)))
    appeals = session.exec(select(Appeal).where(Appeal.action_id.in_([a.id for a in actions]))
                           .order_by(Appeal.id)) if actions else []
    return {"id": item.id, "target_type": item.target_type, "target_id": item.target_id,
            "state": item.state, "source": item.source, "category": item.category,
            "rule": item.rule, "scores": item.scores or {}, "hidden": item.hidden,
            "hideable": targets.hideable(item.target_type),
            "author": targets.person(session, item.author_id),
            "created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat(),
            "reports": [report_payload(r) for r in reports],
            "flags": [flag_payload(f) for f in flags],
            "actions": [action_payload(a) for a in actions],
            "appeals": [appeal_payload(a) for a in appeals],
            "context": targets.context(session, item.target_type, item.target_id)}


def report_payload(report: Report) -> dict:
    return {"id": report.id, "reporter_id": report.reporter_id,
            "target_type": report.target_type, "target_id": report.target_id,
            "reason": report.reason, "note": report.note, "status": report.status,
            "created_at": report.created_at.isoformat()}


def flag_payload(flag: Flag) -> dict:
    return {"id": flag.id, "surface": flag.surface, "target_type": flag.target_type,
            "target_id": flag.target_id, "action": flag.action, "category": flag.category,
            "scores": flag.scores or {}, "stage": flag.stage, "rule": flag.rule,
            "created_at": flag.created_at.isoformat()}


def action_payload(action: ModerationAction) -> dict:
    return {"id": action.id, "moderator_id": action.moderator_id, "action": action.action,
            "target_type": action.target_type, "target_id": action.target_id,
            "user_id": action.user_id, "reason": action.reason, "rule": action.rule,
            "days": action.days, "appeal_id": action.appeal_id,
            "created_at": action.created_at.isoformat()}


def appeal_payload(appeal: Appeal) -> dict:
    return {"id": appeal.id, "action_id": appeal.action_id, "user_id": appeal.user_id,
            "text": appeal.text, "status": appeal.status,
            "decision_reason": appeal.decision_reason,
            "created_at": appeal.created_at.isoformat(),
            "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None}


def _merge_scores(item: QueueItem, scores: dict, category: Optional[str], rule: Optional[str]):
    merged = dict(item.scores or {})
    for name, value in scores.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[name] = max(float(value), float(merged.get(name, 0.0)))
    item.scores = merged  # a new dict, so the JSON column sees the change
    item.category = item.category or category
    item.rule = item.rule or rule


def _escalate_if_due(session: Session, conversation_id: int, user_id: Optional[int],
                     blocks: int, minor_score: float, window) -> None:
    since = utcnow() - window
    recent = select(Flag).where(Flag.conversation_id == conversation_id, Flag.created_at >= since)
    blocked = session.exec(select(func.count()).select_from(recent.where(
        Flag.action == "block").subquery())).one()
    minor = sum(float(f.scores.get("sexual_minors", 0.0) or 0.0)
                for f in session.exec(recent) if isinstance(f.scores, dict))
    if blocked < blocks and minor < minor_score:
        return
    item = find_item(session, "conversation", conversation_id)
    if item is not None and item.state == "open":
        return
    item = item_for(session, "conversation", conversation_id, source="escalated",
                    author_id=user_id)
    category = "sexual_minors" if minor >= minor_score else None
    item.category, item.rule = category or item.category, rule_for_category(category) or item.rule
    item.scores = {**(item.scores or {}), "blocked_attempts": blocked,
                   "sexual_minors_sum": round(minor, 3)}
    session.add(item)
