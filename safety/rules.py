"""Stage 1, the operator's rules: word and pattern lists per category, in `moderation_rules`.

    RuleStore(engine).match(text)  -> the rules that fire, compiled once per table version
    add_rule / set_enabled / delete_rule / list_rules   the admin API's service (take a Session)
    seed_default_rules(session)    the shipped lists, added once (python -m app.setup seed)

A word matches whole (not inside another word), case-insensitive, and may be a phrase; a
pattern is a Python regular expression, case-insensitive, of at most MAX_PATTERN_CHARS, checked
when it is saved. The store recompiles when the admin API tells it the table changed, and at the
latest every `refresh_seconds` (other processes' edits)."""
import re
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from core.errors import KindredError, not_found
from safety.models import MAX_PATTERN_CHARS, RULE_KINDS, ModerationRule
from safety.taxonomy import CATEGORIES

MAX_TEXT_CHARS = 20_000  # what the rules read of one text


@dataclass(frozen=True)
class RuleHit:
    rule_id: int | None
    category: str
    kind: str
    pattern: str
    span: tuple[int, int]


class RuleStore:
    def __init__(self, engine: sa.Engine, refresh_seconds: float = 30.0):
        self.engine, self.refresh_seconds = engine, refresh_seconds
        self._compiled: list[tuple[str, list]] | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def match(self, text: str) -> list[RuleHit]:
        """Every category with a rule that fires, with the first rule that fired."""
        text = (text or "")[:MAX_TEXT_CHARS]
        hits = []
        for category, rules in self._current():
            for rule, regex in rules:
                found = regex.search(text)
                if found is not None:
                    hits.append(RuleHit(rule.id, category, rule.kind, rule.pattern, found.span()))
                    break
        return hits

    def invalidate(self) -> None:
        with self._lock:
            self._compiled = None

    def _current(self):
        with self._lock:
            if self._compiled is None or time.monotonic() - self._loaded_at > self.refresh_seconds:
                self._compiled = _compile(self._load())
                self._loaded_at = time.monotonic()
            return self._compiled

    def _load(self) -> list[ModerationRule]:
        with Session(self.engine) as session:
            try:
                return list(session.exec(select(ModerationRule).where(ModerationRule.enabled)
                                         .order_by(ModerationRule.id)))
            except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # not migrated: no rules
                return []


def list_rules(session: Session, category: str | None = None) -> list[ModerationRule]:
    query = select(ModerationRule).order_by(ModerationRule.category, ModerationRule.id)
    if category is not None:
        query = query.where(ModerationRule.category == check_category(category))
    return list(session.exec(query))


def add_rule(session: Session, category, kind, pattern, created_by: int | None) -> ModerationRule:
    """Validate and store one rule. Commits. Raises KindredError (400) on a bad category, kind or
    pattern; nothing is stored then."""
    category, kind, pattern = check_category(category), check_kind(kind), check_pattern(kind,
                                                                                        pattern)
    rule = ModerationRule(category=category, kind=kind, pattern=pattern, created_by=created_by)
    session.add(rule)
    session.commit()
    return rule


def set_enabled(session: Session, rule_id: int, enabled) -> ModerationRule:
    if not isinstance(enabled, bool):
        raise KindredError("bad_request", "'enabled' must be true or false.")
    rule = _rule(session, rule_id)
    rule.enabled = enabled
    session.add(rule)
    session.commit()
    return rule


def delete_rule(session: Session, rule_id: int) -> None:
    session.delete(_rule(session, rule_id))
    session.commit()


def rule_payload(rule: ModerationRule) -> dict:
    return {"id": rule.id, "category": rule.category, "kind": rule.kind, "pattern": rule.pattern,
            "enabled": rule.enabled, "created_at": rule.created_at.isoformat(),
            "created_by": rule.created_by}


def seed_default_rules(session: Session) -> int:
    """Add the shipped lists (safety/default_rules.py) that are not in the table yet, keyed by
    (category, kind, pattern); a rule an operator disabled or deleted stays as it is only while
    it exists, so deleting a seeded rule and seeding again brings it back. Commits. Returns how
    many were added."""
    from safety.default_rules import DEFAULT_RULES
    existing = {(r.category, r.kind, r.pattern) for r in session.exec(select(ModerationRule))}
    added = 0
    for category, kind, pattern in DEFAULT_RULES:
        if (category, kind, pattern) not in existing:
            session.add(ModerationRule(category=category, kind=kind,
                                       pattern=check_pattern(kind, pattern)))
            existing.add((category, kind, pattern))
            added += 1
    session.commit()
    return added


def default_rules_matcher():
    """text -> the categories the shipped lists (and private-detail masking) flag, without a
    database: what training tunes the classifier's thresholds against."""
    from safety.default_rules import DEFAULT_RULES
    from safety.privacy import mask
    compiled = _compile([ModerationRule(id=i, category=c, kind=k, pattern=p)
                         for i, (c, k, p) in enumerate(DEFAULT_RULES)])

    def match(text: str) -> set[str]:
        masked = mask(text)
        found = {"privacy"} if masked.kinds else set()
        for category, rules in compiled:
            if any(regex.search(masked.text) for _, regex in rules):
                found.add(category)
        return found
    return match


def check_category(category) -> str:
    if category not in CATEGORIES:
        raise KindredError("bad_category", f"'category' must be one of {', '.join(CATEGORIES)}.")
    return category


def check_kind(kind) -> str:
    if kind not in RULE_KINDS:
        raise KindredError("bad_kind", "'kind' must be 'word' or 'pattern'.")
    return kind


def check_pattern(kind: str, pattern) -> str:
    if not isinstance(pattern, str) or not pattern.strip():
        raise KindredError("bad_pattern", "'pattern' must be a non-empty string.")
    pattern = pattern.strip()
    if len(pattern) > MAX_PATTERN_CHARS:
        raise KindredError("bad_pattern", f"'pattern' may have at most {MAX_PATTERN_CHARS} "
                                          f"characters; this one has {len(pattern)}.")
    if kind == "pattern":
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise KindredError("bad_pattern", f"'pattern' is not a valid regular expression: "
                                              f"{exc}.") from None
        if compiled.search("") is not None:
            raise KindredError("bad_pattern", "'pattern' matches the empty text, so it would "
                                              "flag everything.")
    return pattern


def _rule(session: Session, rule_id: int) -> ModerationRule:
    rule = session.get(ModerationRule, rule_id)
    if rule is None:
        raise not_found("moderation rule")
    return rule


def _compile(rules: list[ModerationRule]):
    """Each rule compiled once, grouped by category. A stored pattern that no longer compiles is
    skipped (saved ones are checked)."""
    by_category: dict[str, list] = {}
    for rule in rules:
        if rule.category not in CATEGORIES:
            continue
        try:
            regex = re.compile(_source(rule), re.IGNORECASE)
        except re.error:
            continue
        by_category.setdefault(rule.category, []).append((rule, regex))
    return [(c, by_category[c]) for c in CATEGORIES if c in by_category]


def _source(rule: ModerationRule) -> str:
    if rule.kind == "word":
        words = r"\s+".join(re.escape(w) for w in rule.pattern.split())
        return rf"(?<!\w){words}(?!\w)"
    return f"(?:{rule.pattern})"
