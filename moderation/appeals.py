"""Appeals: the user affected by an action appeals it once; a moderator grants it (the action
is undone where it can be: hide -> restore, suspend -> unsuspend, ban -> unban) or denies it.
Either way the decision is an action in the audit log and the user gets a notice.
No Flask here."""
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.security import check_password_hash

from core.db import utcnow
from core.errors import Conflict, KindredError, not_found
from core.users import User
from moderation import actions
from moderation.models import Appeal, ModerationAction
from moderation.notices import notify
from moderation.queue import item_for

MAX_APPEAL_CHARS = 2000
REVERSAL = {"hide": "restore", "suspend": "unsuspend", "ban": "unban"}
DECISIONS = ("granted", "denied")


def appeal(session: Session, user_id: int, action_id, text) -> Appeal:
    """The affected user's one appeal of an action (404 for anyone else, 409 the second
    time). Reopens the target's queue item. Commits."""
    action = session.get(ModerationAction, action_id) if isinstance(action_id, int) else None
    if action is None or action.user_id != user_id or action.action in APPEALABLE_NOT:
        raise not_found("moderation action you can appeal")
    if not isinstance(text, str) or not text.strip():
        raise KindredError("missing_text", "Say why the action was wrong in 'text'.")
    if len(text) > MAX_APPEAL_CHARS:
        raise KindredError("text_too_long", f"'text' is at most {MAX_APPEAL_CHARS} characters; "
                                            f"this one has {len(text)}.")
    if _appeal_of(session, action.id) is not None:
        raise Conflict("already_appealed", "This action was appealed already; each action can "
                                           "be appealed once.")
    try:
        made = Appeal(action_id=action.id, user_id=user_id, text=text.strip())
        session.add(made)
        item_for(session, action.target_type, action.target_id, source="reported",
                 author_id=user_id)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("already_appealed", "This action was appealed already; each action can "
                                           "be appealed once.") from None
    return made


def appeal_ban(session: Session, username, password, text) -> Appeal:
    """A banned user cannot log in, so they appeal their ban with their credentials instead
    of a session: the newest ban of that account, once. Commits."""
    failed = KindredError("bad_credentials", "Wrong username or password.", 401)
    if not isinstance(username, str) or not isinstance(password, str):
        raise failed
    user = session.exec(select(User).where(User.username_key == username.strip().lower())).first()
    if user is None or not check_password_hash(user.password_hash, password):
        raise failed
    ban = session.exec(select(ModerationAction).where(
        ModerationAction.user_id == user.id, ModerationAction.action == "ban")
        .order_by(ModerationAction.id.desc())).first()
    if user.banned_at is None or ban is None:
        raise KindredError("not_banned", "This account is not banned; log in and appeal from "
                                         "your notices (POST /api/appeals).", 409)
    return appeal(session, user.id, ban.id, text)


# Undoing actions and appeal decisions are not appealed again.
APPEALABLE_NOT = ("restore", "dismiss", "unsuspend", "unban") + actions.APPEAL_DECISIONS


def decide(session: Session, moderator_id: int, appeal_id: int, decision, reason, *,
           end_sockets=None) -> tuple[Appeal, ModerationAction]:
    """Grant or deny an open appeal: one transaction with the action that records it."""
    if decision not in DECISIONS:
        raise KindredError("bad_decision", "'decision' must be 'granted' or 'denied'.")
    found = session.get(Appeal, appeal_id)
    if found is None:
        raise not_found("appeal")
    if found.status != "open":
        raise Conflict("appeal_decided", f"This appeal was {found.status} already.")
    if found.user_id == moderator_id:
        raise KindredError("cannot_moderate_self", "You cannot decide your own appeal.", 403)
    original = session.get(ModerationAction, found.action_id)
    reversal = REVERSAL.get(original.action) if decision == "granted" else None

    def close_appeal(s: Session) -> None:
        found.status, found.decided_by, found.decided_at = decision, moderator_id, utcnow()
        found.decision_reason = reason.strip()
        s.add(found)
        notify(s, found.user_id, f"appeal_{decision}",
               f"Your appeal of action {original.id} was {decision}. Reason: {reason.strip()}",
               rule=original.rule, action_id=original.id)

    if reversal is not None:
        logged = actions.act(session, moderator_id, reversal, original.target_type,
                             original.target_id, reason, original.rule, appeal_id=found.id,
                             end_sockets=end_sockets, hooks=[close_appeal])
        return found, logged
    logged = _log_decision(session, moderator_id, found, original, decision, reason,
                           close_appeal)
    return found, logged


def _log_decision(session, moderator_id, found, original, decision, reason, close_appeal):
    if not isinstance(reason, str) or not reason.strip():
        raise KindredError("missing_reason", "Every decision needs a 'reason'.")
    if len(reason) > actions.MAX_REASON_CHARS:
        raise KindredError("reason_too_long",
                           f"'reason' is at most {actions.MAX_REASON_CHARS} characters.")
    try:
        logged = ModerationAction(moderator_id=moderator_id, action=f"appeal_{decision}",
                                  target_type=original.target_type,
                                  target_id=original.target_id, user_id=original.user_id,
                                  reason=reason.strip(), rule=original.rule,
                                  appeal_id=found.id)
        session.add(logged)
        close_appeal(session)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return logged


def _appeal_of(session: Session, action_id: int):
    return session.exec(select(Appeal).where(Appeal.action_id == action_id)).first()
