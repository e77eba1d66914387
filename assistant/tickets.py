"""Support tickets: a question the help desk could not answer (or any question), sent to admins
through the moderation queue as a `ticket` target (source `ticket`). Moderators and admins read
it in /moderation with its question and details, and close it with `dismiss`. No Flask here.

    check_ticket(question, details) -> (question, details)
    open_ticket(session, user_id, question, details) -> HelpTicket   (commits)
    provider() -> the moderation TargetProvider app/wiring.py registers for `ticket`
"""
from sqlmodel import Session

from assistant.helpdesk import check_question
from assistant.models import MAX_DETAILS_CHARS, HelpTicket
from core.errors import KindredError, not_found
from core.text import check_text
from moderation.queue import item_for
from moderation.targets import TargetProvider

TARGET = "ticket"


def check_ticket(question, details) -> tuple[str, str]:
    question = check_question(question)
    details = "" if details is None else details
    if not isinstance(details, str):
        raise KindredError("bad_details", "'details' must be text.")
    details = check_text(details, "details").strip()
    if len(details) > MAX_DETAILS_CHARS:
        raise KindredError("details_too_long", f"'details' is at most {MAX_DETAILS_CHARS} "
                                               f"characters; this one has {len(details)}.")
    return question, details


def open_ticket(session: Session, user_id: int, question: str, details: str) -> HelpTicket:
    """The ticket and its queue item, in one transaction. The texts are checked already."""
    ticket = HelpTicket(user_id=user_id, question=question, details=details)
    session.add(ticket)
    session.flush()
    item = item_for(session, TARGET, ticket.id, source="ticket", author_id=user_id)
    item.category = "support"
    session.commit()
    session.refresh(ticket)
    return ticket


def ticket_payload(ticket: HelpTicket) -> dict:
    return {"id": ticket.id, "question": ticket.question, "details": ticket.details,
            "created_at": ticket.created_at.isoformat()}


def provider() -> TargetProvider:
    return TargetProvider(author_of=_author_of, context=_context, noun="support ticket")


def _author_of(session: Session, ticket_id: int) -> int:
    ticket = session.get(HelpTicket, ticket_id)
    if ticket is None:
        raise not_found("support ticket")
    return ticket.user_id


def _context(session: Session, ticket_id: int) -> list[dict]:
    ticket = session.get(HelpTicket, ticket_id)
    if ticket is None:
        return []
    return [{"field": "question", "text": ticket.question},
            {"field": "details", "text": ticket.details},
            {"field": "asked_at", "text": ticket.created_at.isoformat()}]
