"""Moderation actions: hide, restore, dismiss, warn, suspend for N days, ban, and their undoing
(unsuspend, unban). Each is one transaction: the effect, the audit log row, the queue item and
its reports, and the notice to the user affected are committed together or not at all. What
cannot be rolled back (ending the banned user's live sockets) runs after the commit.
No Flask here."""
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable, Optional

from sqlmodel import Session, select

from characters.models import Character
from core.auth import logins
from core.auth.logins import Login
from core.auth.roles import ROLES
from core.db import utcnow
from core.errors import KindredError, not_found
from core.users import User
from moderation import targets
from moderation.models import ModerationAction, QueueItem, Report
from moderation.notices import notify
from moderation.queue import find_item, item_for
from moderation.rules import check_rule

ACTIONS = ("hide", "restore", "dismiss", "warn", "suspend", "ban", "unsuspend", "unban")
APPEAL_DECISIONS = ("appeal_granted", "appeal_denied")  # logged for appeals with no reversal
CITING = ("hide", "warn", "suspend", "ban")  # must cite a rule
ON_CONTENT = ("hide", "restore")  # messages, characters and hideable provided targets
ON_PEOPLE = ("warn", "suspend", "ban", "unsuspend", "unban")  # the rank rule applies
MAX_REASON_CHARS = 500
MAX_SUSPEND_DAYS = 365

EndSockets = Callable[[int, list, dict], None]


@dataclass
class Request:
    action: str
    target_type: str
    target_id: int
    reason: str
    rule: Optional[str] = None
    days: Optional[int] = None
    appeal_id: Optional[int] = None
    hooks: list = field(default_factory=list)  # tests: called mid-transaction


def act(session: Session, moderator_id: int, action, target_type, target_id, reason,
        rule=None, days=None, *, end_sockets: Optional[EndSockets] = None,
        appeal_id: Optional[int] = None, hooks=()) -> ModerationAction:
    """Take one action (validated first; nothing is stored on any error). Commits."""
    request = _checked(session, action, target_type, target_id, reason, rule, days)
    request.appeal_id, request.hooks = appeal_id, list(hooks)
    try:
        logged, ended = _apply(session, moderator_id, request)
        session.commit()
    except Exception:
        session.rollback()
        raise
    if ended is not None and end_sockets is not None:
        end_sockets(*ended)
    return logged


def _checked(session, action, target_type, target_id, reason, rule, days) -> Request:
    if action not in ACTIONS:
        raise KindredError("bad_action", f"'action' must be one of {', '.join(ACTIONS)}.")
    target_type, target_id = targets.check_target(target_type, target_id)
    if not isinstance(reason, str) or not reason.strip():
        raise KindredError("missing_reason", "Every action needs a 'reason' (what and why).")
    if len(reason) > MAX_REASON_CHARS:
        raise KindredError("reason_too_long", f"'reason' is at most {MAX_REASON_CHARS} "
                                              f"characters; this one has {len(reason)}.")
    if action in ON_CONTENT and not targets.hideable(target_type):
        raise KindredError("bad_action_for_target", f"'{action}' applies to messages, "
                                                    "characters and posted content; act on the "
                                                    "user instead.")
    if action == "suspend":
        if not isinstance(days, int) or isinstance(days, bool) or \
                not 1 <= days <= MAX_SUSPEND_DAYS:
            raise KindredError("bad_days", f"'days' must be a whole number from 1 to "
                                           f"{MAX_SUSPEND_DAYS} for a suspension.")
    else:
        days = None
    item = find_item(session, target_type, target_id)
    rule = rule if rule is not None else (item.rule if item and action in CITING else None)
    if rule is not None or action in CITING:
        if rule is None:
            raise KindredError("missing_rule", "This action must cite the rule it enforces: "
                                               "'rule', e.g. \"R1\" (see /rules).")
        check_rule(rule)
    return Request(action, target_type, target_id, reason.strip(), rule, days)


def _apply(session: Session, moderator_id: int, r: Request):
    moderator = session.get(User, moderator_id)
    affected_id = targets.author_of(session, r.target_type, r.target_id)  # 404 if gone
    affected = session.get(User, affected_id) if affected_id else None
    _check_may_act(moderator, affected, r)
    item = find_item(session, r.target_type, r.target_id)
    if r.action == "dismiss" and item is None:
        raise not_found("queue item for that target")
    if r.action in ON_CONTENT and item is None:
        item = item_for(session, r.target_type, r.target_id, source="reported",
                        author_id=affected_id)
    logged = ModerationAction(moderator_id=moderator_id, action=r.action,
                              target_type=r.target_type, target_id=r.target_id,
                              user_id=affected_id, reason=r.reason, rule=r.rule, days=r.days,
                              appeal_id=r.appeal_id)
    session.add(logged)
    session.flush()
    ended = _effect(session, r, item, affected)
    for hook in r.hooks:
        hook(session)
    if item is not None:
        _resolve(session, item, dismissed=r.action == "dismiss")
    if affected is not None and r.action != "dismiss":
        notify(session, affected.id, r.action, _notice_text(r, affected), rule=r.rule,
               action_id=logged.id)
    return logged, ended


def _check_may_act(moderator: Optional[User], affected: Optional[User], r: Request) -> None:
    if moderator is None:
        raise KindredError("forbidden", "Only a moderator may do this.", 403)
    if affected is not None and affected.id == moderator.id:
        raise KindredError("cannot_moderate_self", "You cannot act on yourself or your own "
                                                   "content; ask another moderator.", 403)
    if r.action in ON_PEOPLE:
        if affected is None:
            raise KindredError("no_user_affected", "No user is behind this target (a seeded "
                                                   "character, say); hide it instead.")
        if affected.role == "admin" or _rank(affected.role) >= _rank(moderator.role):
            raise KindredError("cannot_moderate_admin", f"A {moderator.role} cannot {r.action} "
                                                        f"a {affected.role}.", 403)


def _effect(session: Session, r: Request, item: Optional[QueueItem], affected: Optional[User]):
    """The action's change; returns (user id, login ids, payload) when sockets must end."""
    now = utcnow()
    if r.action in ("hide", "restore"):
        item.hidden = r.action == "hide"
        session.add(item)
        if r.target_type == "character":
            character = session.get(Character, r.target_id)
            refresh_character(session, character, item_hidden=item.hidden)
        elif (provider := targets.provider_of(r.target_type)) is not None:
            provider.set_hidden(session, r.target_id, item.hidden)
        return None
    if r.action == "suspend":
        affected.suspended_until = now + timedelta(days=r.days)
    elif r.action == "unsuspend":
        affected.suspended_until = None
    elif r.action in ("ban", "unban"):
        affected.banned_at = now if r.action == "ban" else None
        for character in session.exec(select(Character)
                                      .where(Character.creator_id == affected.id)):
            refresh_character(session, character)
    session.add(affected)
    if r.action != "ban":
        return None
    login_ids = list(session.exec(select(Login.id).where(Login.user_id == affected.id)))
    logins.revoke_all(session, affected.id, commit=False)
    return affected.id, login_ids, {"reason": r.reason, "rule": r.rule,
                                    "code": "banned", "message": _notice_text(r, affected)}


def refresh_character(session: Session, character: Character,
                      item_hidden: Optional[bool] = None) -> None:
    """A character is hidden while a moderator hid it or while its creator is banned."""
    if item_hidden is None:
        item = find_item(session, "character", character.id)
        item_hidden = bool(item and item.hidden)
    creator = session.get(User, character.creator_id) if character.creator_id else None
    character.moderation_hidden = item_hidden or bool(creator and creator.banned_at)
    session.add(character)


def _resolve(session: Session, item: QueueItem, dismissed: bool) -> None:
    item.state, item.updated_at = "resolved", utcnow()
    session.add(item)
    for report in session.exec(select(Report).where(Report.target_type == item.target_type,
                                                    Report.target_id == item.target_id,
                                                    Report.status == "open")):
        report.status = "dismissed" if dismissed else "resolved"
        session.add(report)


def _rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else -1


def _notice_text(r: Request, user: User) -> str:
    what = {"message": "A message of yours", "character": "Your character",
            "conversation": "A conversation of yours", "user": "Your account"}.get(
        r.target_type) or f"A {targets.provider_of(r.target_type).noun} of yours"
    rule = f" under rule {r.rule}" if r.rule else ""
    if r.action == "hide":
        text = f"{what} (#{r.target_id}) was hidden by a moderator{rule}."
    elif r.action == "restore":
        text = f"{what} (#{r.target_id}) is visible again."
    elif r.action == "warn":
        text = f"A moderator warned you{rule}."
    elif r.action == "suspend":
        until = user.suspended_until.strftime("%Y-%m-%d %H:%M UTC")
        text = (f"Your account is suspended for {r.days} day(s){rule}, until {until}: "
                "you cannot chat or post until then.")
    elif r.action == "ban":
        text = f"Your account is banned{rule}."
    elif r.action == "unsuspend":
        text = "Your suspension was lifted."
    else:
        text = "Your ban was lifted; you can log in again."
    return f"{text} Reason: {r.reason} You can appeal this once."
