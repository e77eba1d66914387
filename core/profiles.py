"""User profiles: the display name and bio others read on a creator's page, and the one way they
change, through the safety pipeline on surface `profile` (docs/api.md, "Profiles").

    profile_payload(user)                               {username, display_name, bio}
    update_profile(session, moderator, user_id, body)   validate, check standing, screen, store

Decisions written down here:
- A field the body leaves out stays as it is; "" (or only spaces) or null clears it. Text is
  trimmed, then held to its length (DISPLAY_NAME_CHARS, BIO_CHARS). A display name is one line.
- Each given text is screened on its own with the user's context (profiles are public, so
  never mature). Refused, as the card screening refuses: block, hold and age_gate when the
  decision is sure (`Decision.sure()`: the operator's rules at any score, the classifier only
  when sure). One refusal changes nothing (422 `blocked_content`).
- Stored: allow, mask and support, and a borderline classifier refusal (with no flag, as chat
  does). What is stored is always the pipeline's text, in which private details are masked
  whatever category decided; the answer says what was masked.
- Every outcome but allow is recorded as ContentFlagged (target_type `user`), so moderators
  see it; a refusal's flag is committed on its own before the 422. Not flagged, as not sure:
  a borderline refusal stored as written, and support on a borderline self_harm score (the
  head's self_harm threshold is set for recall: "I bake." scored 0.55).
- `moderator` None (no pipeline configured) screens nothing. If the pipeline fails, nothing is
  stored (503 `moderation_unavailable`), as in chat.
No Flask here."""
import logging
import unicodedata
from dataclasses import dataclass, field
from typing import Optional

from sqlmodel import Session

from core import events
from core.errors import BlockedContent, KindredError, check_known_fields
from core.event_types import ContentFlagged
from core.text import check_text
from core.users import User, check_standing, is_adult

log = logging.getLogger(__name__)

DISPLAY_NAME_CHARS = 40
BIO_CHARS = 500
LIMITS = {"display_name": DISPLAY_NAME_CHARS, "bio": BIO_CHARS}
LABELS = {"display_name": "display name", "bio": "bio"}
SURFACE = "profile"
REFUSED = ("block", "hold", "age_gate")  # age_gate: a profile is never mature


@dataclass
class ProfileUpdate:
    user: User
    masked: dict[str, list[str]] = field(default_factory=dict)  # field -> kinds ("email", ...)


def profile_payload(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "bio": user.bio}


def update_profile(session: Session, moderator, user_id: int, body: dict) -> ProfileUpdate:
    """Apply `body` ({display_name?, bio?}) to the user's profile after the checks above.
    Commits; on any error nothing of the profile changed."""
    values = validated_changes(body)
    user = session.get(User, user_id)
    check_standing(user, "edit your profile")
    session.commit()  # nothing written yet: the Moderator may use a connection of its own
    decisions = {name: _moderate(moderator, text, user) for name, text in values.items() if text}
    for name, decision in decisions.items():
        if decision is None or decision.action == "allow":
            continue
        if decision.action in REFUSED and decision.sure():
            _refuse(session, user, name, decision)
    update = ProfileUpdate(user)
    for name, text in values.items():
        decision = decisions.get(name)
        if decision is not None:  # refusals raised above: this text is stored
            text = _fit(decision.text, LIMITS[name])
        setattr(user, name, text)
        if decision is None or decision.action == "allow":
            continue
        if decision.masked:
            update.masked[name] = list(decision.masked)
        if decision.allowed and (decision.action != "support" or decision.sure()):
            events.record(session, _flag(user, decision, decision.action))
    session.add(user)
    session.commit()
    return update


def validated_changes(body: dict) -> dict[str, Optional[str]]:
    """{field: trimmed text, or None to clear} for the fields `body` gives; 400 otherwise."""
    check_known_fields(body, LIMITS, f"a profile has: {', '.join(LIMITS)}.")
    if not body:
        raise KindredError("no_fields", f"Send at least one of: {', '.join(LIMITS)}.")
    values = {}
    for name, value in body.items():
        if value is not None and not isinstance(value, str):
            raise KindredError("bad_field", f"'{name}' must be a string (\"\" or null clears "
                                            f"it).")
        text = check_text(value, LABELS[name]).strip() if value else ""
        if len(text) > LIMITS[name]:
            raise KindredError("field_too_long", f"'{name}' is at most {LIMITS[name]} "
                                                 f"characters; this one has {len(text)}.")
        if name == "display_name" and any(unicodedata.category(ch) == "Cc" for ch in text):
            raise KindredError("bad_field", "'display_name' is one line, without line breaks "
                                            "or control characters.")
        values[name] = text or None
    return values


def _moderate(moderator, text: str, user: User):
    if moderator is None:
        return None
    context = {"mature_allowed": False, "under_18": not is_adult(user), "user_id": user.id}
    try:
        return moderator.moderate(text, SURFACE, context)
    except Exception:
        log.exception("moderation failed for the profile of user %s", user.id)
        raise KindredError("moderation_unavailable", "Profiles cannot be checked right now, so "
                                                     "nothing was changed; try again in a "
                                                     "moment.", 503) from None


def _fit(text: str, limit: int) -> str:
    """A masked text cut to the column's limit (a mask's label, "[email hidden]", can make it
    longer than what was sent), never in the middle of a label."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if cut.rfind("[") > cut.rfind("]"):
        cut = cut[:cut.rfind("[")]
    return cut.rstrip()


def _refuse(session: Session, user: User, name: str, decision):
    """Record the refusal for moderators (nothing else is written) and raise the 422."""
    flag = _flag(user, decision, decision.action)
    events.record(session, flag)
    session.commit()
    raise BlockedContent(flag.category, flag.rule,
                         f"Your {LABELS[name]} breaks the community rules ({decision.rule}: "
                         f"{decision.category}); nothing was changed.")


def _flag(user: User, decision, action: str) -> ContentFlagged:
    """The decision as moderators see it."""
    return ContentFlagged(
        surface=SURFACE, target_type="user", target_id=user.id, user_id=user.id, action=action,
        category=decision.category, scores=dict(decision.categories), stage=decision.stage,
        rule=decision.rule)
