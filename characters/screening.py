"""Screening a card with the safety pipeline before it is shown to others: on publish, and on
edits and restores of a character that is already public or unlisted.

The card's text is checked in pieces (the classifier reads a few hundred words at most): every
field others will read, greetings and tags included, joined in reading order and cut into pieces
of PIECE_CHARS, at most MAX_PIECES. The first piece the pipeline refuses decides. A mature-rated card may hold adult content (age-gated to
adults); nothing may hold what the pipeline blocks outright."""
from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session

from characters.models import Character
from core import events
from core.errors import BlockedContent
from core.event_types import ContentFlagged

PIECE_CHARS = 1000
MAX_PIECES = 24
SCREENED_FIELDS = ("name", "tagline", "description", "personality", "scenario", "first_mes",
                   "mes_example", "creator_notes", "system_prompt", "post_history_instructions")
ALLOWED = ("allow", "support")  # dark themes and self-harm themes in fiction are allowed


@dataclass(frozen=True)
class Refusal:
    decision: object  # safety.Decision
    field: str


def card_pieces(values) -> list[tuple[str, str]]:
    """(field, text) pieces of a character (or a dict of its fields) in reading order."""
    get = values.get if isinstance(values, dict) else lambda key, default=None: getattr(
        values, key, default)
    texts = [(f, get(f) or "") for f in SCREENED_FIELDS]
    texts += [("alternate_greetings", g) for g in get("alternate_greetings") or []]
    texts.append(("tags", ", ".join(get("tags") or [])))
    # Short fields read together: a tagline alone ("A talking pen") misleads the classifier.
    pieces, current, fields = [], "", []
    for field, text in texts:
        for start in range(0, max(len(text), 1), PIECE_CHARS):
            part = text[start:start + PIECE_CHARS].strip()
            if not part:
                continue
            if len(current) + len(part) > PIECE_CHARS and current:
                pieces.append((fields[0], current))
                current, fields = "", []
            current, fields = (current + "\n" + part).strip(), fields + [field]
            if len(pieces) == MAX_PIECES:
                return pieces
    if current and len(pieces) < MAX_PIECES:
        pieces.append((fields[0], current))
    return pieces


def screen_card(moderator, character: Character, values: Optional[dict] = None,
                creator_is_adult: bool = True) -> Optional[Refusal]:
    """None if the card (with `values` applied over it, for an edit) may be shown; otherwise
    the first refusal. `moderator` None (no pipeline configured) screens nothing."""
    if moderator is None:
        return None
    merged = {f: getattr(character, f) for f in (*SCREENED_FIELDS, "alternate_greetings",
                                                  "tags", "content_rating")}
    merged.update(values or {})
    context = {"mature_allowed": merged.get("content_rating") == "mature" and creator_is_adult,
               "under_18": not creator_is_adult, "user_id": character.creator_id,
               "character_id": character.id}
    for field, text in card_pieces(merged):
        if not text.strip():
            continue
        decision = moderator.moderate(text, "character", context)
        if decision.action in ALLOWED:
            continue
        if decision.sure():  # not on a borderline score of the classifier alone
            return Refusal(decision, field)
    return None


def refuse_blocked_card(session: Session, moderator, character: Character, actor_id: int,
                        values: Optional[dict] = None, creator_is_adult: bool = True) -> None:
    """Raise 422 blocked_content, changing nothing, when the pipeline refuses the card (with
    `values` over it); what it holds for review also goes to the moderation queue
    (ContentFlagged, committed on its own so the refusal does not roll it back)."""
    refusal = screen_card(moderator, character, values, creator_is_adult)
    if refusal is None:
        return
    decision = refusal.decision
    if decision.review:
        events.record(session, ContentFlagged(
            "character", "character", character.id, actor_id, "hold", decision.category,
            dict(decision.categories), decision.stage, decision.rule))
        session.commit()
    raise BlockedContent(decision.category, decision.rule,
                         f"The card's {refusal.field.replace('_', ' ')} breaks the community "
                         f"rules ({decision.rule}: {decision.category}); nothing was changed.")
