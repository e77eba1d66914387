"""The community's check point of the safety pipeline, shared by posts and comments (surfaces
`post` and `comment`). No Flask here.

    screen(moderator, text, surface, rating, author, character) -> Decision | None
    refuse_if_sure(session, surface, decision, author, character)  422, a flag on the author
    flag_if_due(session, surface, decision, target_type, target_id, user_id)

Refused, when sure (`Decision.sure()`): block and age_gate. Held: hold. Flagged for moderators:
hold, and mask or support when sure. A borderline classifier refusal is stored as written and
not flagged, as profiles do; so is spam that only the classifier saw, at any score: measured on
the shipped head, "Welcome!" scored 0.90 spam, "Thanks for the follow!" 0.90 and "You're
welcome" over the threshold too, the friendliest comments there are, while real spam (links,
"free gems", the same text again and again) is what the operator's rules and the repeat check
catch, and reports catch the rest. If the pipeline fails nothing is stored (503)."""
import dataclasses
import logging
from typing import Optional

from sqlmodel import Session

from characters.models import Character
from core import events
from core.errors import BlockedContent, KindredError
from core.event_types import ContentFlagged
from core.users import User, is_adult

log = logging.getLogger(__name__)

REFUSED = ("block", "age_gate")
WHAT = {"post": "post", "comment": "comment"}


def screen(moderator, text: str, surface: str, rating: str, author: Optional[User],
           character: Optional[Character], recent: tuple[str, ...] = ()):
    """The pipeline's decision on `text` (None without a pipeline or text). Mature content is
    allowed where the rating is mature and the writer an adult (a character counts as one);
    `recent`: the writer's last texts here, for the repeat check."""
    if moderator is None or not text.strip():
        return None
    adult = character is not None or (author is not None and is_adult(author))
    context = {"mature_allowed": rating == "mature" and adult, "under_18": not adult,
               "user_id": author.id if author is not None else None, "recent": list(recent)}
    try:
        decision = moderator.moderate(text, surface, context)
    except Exception:
        log.exception("moderation failed for a %s", surface)
        raise KindredError("moderation_unavailable", f"{WHAT[surface].capitalize()}s cannot be "
                                                     "checked right now, so nothing was "
                                                     "posted; try again in a moment.",
                           503) from None
    if decision.category == "spam" and decision.stage == "classifier" and \
            set(decision.flagged) <= {"spam", "privacy"}:
        return dataclasses.replace(decision, action="mask" if decision.masked else "allow",
                                   category="privacy" if decision.masked else None,
                                   rule=None, review=False)
    return decision


def refuse_if_sure(session: Session, surface: str, decision, author: Optional[User],
                   character: Optional[Character]) -> None:
    """Raise 422 `blocked_content` for a sure refusal, after committing its flag alone (on the
    author's account, or the character writing)."""
    if decision is None or decision.action not in REFUSED or not decision.sure():
        return
    if character is not None:
        flag = _flag(surface, decision, "character", character.id, character.creator_id)
    else:
        flag = _flag(surface, decision, "user", author.id, author.id)
    events.record(session, flag)
    session.commit()
    raise BlockedContent(flag.category, flag.rule,
                         f"This {WHAT[surface]} breaks the community rules ({decision.rule}: "
                         f"{decision.category}); nothing was posted.")


def held(decision) -> bool:
    return decision is not None and decision.action == "hold"


def flag_if_due(session: Session, surface: str, decision, target_type: str, target_id: int,
                user_id: Optional[int]) -> None:
    """Record ContentFlagged for what was stored, when moderators should see it."""
    if decision is None or decision.action == "allow":
        return
    if decision.action == "hold" or decision.allowed and decision.sure():
        events.record(session, _flag(surface, decision, target_type, target_id, user_id))


def _flag(surface: str, decision, target_type: str, target_id: int, user_id: Optional[int]
          ) -> ContentFlagged:
    return ContentFlagged(surface=surface, target_type=target_type, target_id=target_id,
                          user_id=user_id, action=decision.action, category=decision.category,
                          scores=dict(decision.categories), stage=decision.stage,
                          rule=decision.rule)
