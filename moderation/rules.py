"""The community rules: the ids every action cites, the reasons a report can give, and the
operator-editable Markdown page shown at /rules and at sign-up. No Flask here.

Rule ids are fixed in code (actions and the safety pipeline cite them); the page's text is the
operator's to edit (PUT /api/admin/rules), stored in `rules_pages`, with a version that goes up
on every edit so an acceptance says which text was accepted."""
from typing import Optional

from markdown_it import MarkdownIt
from sqlmodel import Session

from core.db import utcnow
from core.errors import KindredError
from moderation.models import RulesAcceptance, RulesPage
from safety.rules_text import RULES as SAFETY_RULES

# The pipeline's rules (safety.rules_text, one per category) and moderation's own R9.
RULES = {**{rule.id: rule.title for rule in SAFETY_RULES},
         "R9": "Follow the moderators' instructions and these rules' spirit."}
_EXPLAINED = {rule.id: rule.markdown for rule in SAFETY_RULES}

# Report reasons, each with the rule it points to.
REASONS = {
    "sexual_minors": "R1", "self_harm": "R2", "sexual": "R3", "hate": "R4", "harassment": "R5",
    "violent_crime": "R6", "privacy": "R7", "spam": "R8", "other": "R9",
}

MAX_RULES_CHARS = 20_000

DEFAULT_MARKDOWN = (
    "# Community rules\n\nEveryone here agrees to these rules when they sign up. Moderators "
    "cite them when they act, and you can appeal any action once.\n\n"
    + "\n".join(f"- **{rule_id}. {title}** {_EXPLAINED.get(rule_id, '')}".rstrip()
                for rule_id, title in RULES.items())
    + "\n\nBreaking them can get content hidden, a warning, a suspension of some days, "
      "or a ban.\n")

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})  # raw HTML is escaped


def rule_for_category(category: Optional[str]) -> Optional[str]:
    return REASONS.get(category or "")


def check_rule(rule) -> str:
    if rule not in RULES:
        raise KindredError("bad_rule", f"'rule' must be one of {', '.join(RULES)} "
                                       "(the community rules at /rules).")
    return rule


def current_rules(session: Session) -> dict:
    page = session.get(RulesPage, 1)
    markdown = page.markdown if page else DEFAULT_MARKDOWN
    return {"markdown": markdown, "html": render(markdown), "version": page.version if page else 1,
            "rules": [{"id": k, "text": v} for k, v in RULES.items()],
            "updated_at": page.updated_at.isoformat() if page else None}


def render(markdown: str) -> str:
    """HTML for the page: CommonMark with raw HTML escaped, so the operator's text cannot
    carry a script."""
    return _markdown.render(markdown)


def edit_rules(session: Session, admin_id: int, markdown) -> dict:
    """Replace the page's text (admins). Commits."""
    if not isinstance(markdown, str) or not markdown.strip():
        raise KindredError("bad_rules", "'markdown' must be non-empty text.")
    if len(markdown) > MAX_RULES_CHARS:
        raise KindredError("rules_too_long", f"The rules are at most {MAX_RULES_CHARS} "
                                             f"characters; this text has {len(markdown)}.")
    page = session.get(RulesPage, 1)
    if page is None:
        page = RulesPage(id=1, markdown=markdown, version=2, updated_by=admin_id)
    else:
        page.markdown, page.version = markdown, page.version + 1
        page.updated_by, page.updated_at = admin_id, utcnow()
    session.add(page)
    session.commit()
    return current_rules(session)


def accept_rules(session: Session, user_id: int, version) -> RulesAcceptance:
    """Record that the user accepted the rules of `version` (the current one). Commits."""
    current = current_rules(session)["version"]
    if version != current:
        raise KindredError("stale_rules", f"The rules changed; read version {current} at /rules "
                                          "and accept that one.", 409)
    accepted = session.get(RulesAcceptance, user_id) or RulesAcceptance(user_id=user_id,
                                                                         version=version)
    accepted.version, accepted.accepted_at = version, utcnow()
    session.add(accepted)
    session.commit()
    return accepted


def accepted_version(session: Session, user_id: int) -> Optional[int]:
    accepted = session.get(RulesAcceptance, user_id)
    return accepted.version if accepted else None
