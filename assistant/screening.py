"""What people type to the help desk (questions, tickets) goes through the safety pipeline on the
`help` surface: refused text is a 422 and nothing is stored, private details are masked, and a
self-harm signal asks the page to show support. No Flask here."""
import logging

from core.errors import BlockedContent, KindredError
from core.users import User, is_adult

log = logging.getLogger(__name__)

SURFACE = "help"


def screen(moderator, user: User, text: str, label: str):
    """(the text as it may be used, support needed?)"""
    if moderator is None or not text:
        return text, False
    try:
        decision = moderator.moderate(text, SURFACE, {"mature_allowed": False,
                                                      "under_18": not is_adult(user),
                                                      "user_id": user.id})
    except Exception:
        log.exception("moderation failed for a help desk %s of user %s", label, user.id)
        raise KindredError("moderation_unavailable", "The help desk cannot check text right "
                                                     "now, so nothing was sent; try again in a "
                                                     "moment.", 503) from None
    if not decision.allowed:
        raise BlockedContent(decision.category, decision.rule,
                             f"Your {label} breaks the community rules ({decision.rule}: "
                             f"{decision.category}); nothing was sent.")
    return decision.text, bool(decision.support)
