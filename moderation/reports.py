"""Reports: any user reports what they can see, once per target (reporting again returns the
same report). Each report opens the target's queue item. No Flask here."""
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.errors import KindredError
from moderation import targets
from moderation.models import Report
from moderation.queue import item_for
from moderation.rules import REASONS

MAX_NOTE_CHARS = 1000
MAX_REASON_CHARS = 20
ATTEMPTS = 3  # a report racing others of the same target


def report(session: Session, reporter_id: int, target_type, target_id, reason, note=""
           ) -> tuple[Report, bool]:
    """The reporter's report of the target, and whether it is new. Validates everything before
    storing anything; one transaction (report and queue item together). Commits."""
    target_type, target_id = targets.check_target(target_type, target_id)
    reason, note = _checked(reason, note)
    author_id = targets.visible_author(session, reporter_id, target_type, target_id)
    if target_type == "user" and target_id == reporter_id:
        raise KindredError("cannot_report_self", "You cannot report yourself.")
    for _attempt in range(ATTEMPTS):
        existing = _existing(session, reporter_id, target_type, target_id)
        if existing is not None:
            return existing, False
        try:
            created = Report(reporter_id=reporter_id, target_type=target_type,
                             target_id=target_id, reason=reason, note=note)
            session.add(created)
            item = item_for(session, target_type, target_id, source="reported",
                            author_id=author_id)
            item.category = item.category or reason
            item.rule = item.rule or REASONS[reason]
            session.commit()
            return created, True
        except IntegrityError as exc:
            # The same report sent twice at once (the first one stands), or another user's
            # report of the same target made its queue item first: look again.
            session.rollback()
            conflict = exc
    existing = _existing(session, reporter_id, target_type, target_id)
    if existing is None:
        raise conflict
    return existing, False


def _existing(session: Session, reporter_id: int, target_type: str, target_id: int):
    return session.exec(select(Report).where(Report.reporter_id == reporter_id,
                                             Report.target_type == target_type,
                                             Report.target_id == target_id)).first()


def _checked(reason, note) -> tuple[str, str]:
    if not isinstance(reason, str) or not reason.strip():
        raise KindredError("missing_reason", f"'reason' is required: one of {', '.join(REASONS)}.")
    if len(reason) > MAX_REASON_CHARS:
        raise KindredError("reason_too_long", f"'reason' is a code of at most {MAX_REASON_CHARS} "
                                              f"characters: one of {', '.join(REASONS)}.")
    if reason not in REASONS:
        raise KindredError("bad_reason", f"'reason' must be one of {', '.join(REASONS)}.")
    note = "" if note is None else note
    if not isinstance(note, str):
        raise KindredError("bad_note", "'note' must be text.")
    if len(note) > MAX_NOTE_CHARS:
        raise KindredError("note_too_long", f"'note' is at most {MAX_NOTE_CHARS} characters; "
                                            f"this one has {len(note)}.")
    return reason, note.strip()
