"""The chat's check point of the safety pipeline (issue 13, docs/moderation.md "In chat").

`ChatGuard` (built in app/wiring.py with the app's Moderator and settings, kept on the
ReplyStreamer as `.guard`) decides, for the chat handlers and the reply streamer:
    check_standing(user)        a suspended or banned user cannot chat (`suspended` / `banned`)
    check_message(...)          a user's text before it is stored: a Verdict (block, mask, support)
    check_reply(text, ctx)      a model's reply while it streams and once it is done (no judge)
    record(...)                 ContentFlagged for what was stored, on the caller's session, plus
                                the low-score `signal` moderation adds up for escalation
    support_notice / wellbeing_notice   the `chat:notice` payloads
    hidden(session, ids)        the messages moderation hid (the app hands in that lookup)
`SupportSection` is the prompt section that makes the character answer a self-harm message
supportively, stepping out of its role as far as needed.

Support comes in two levels (`Verdict.support_level`), because the classifier's self-harm
threshold is set for recall (0.95): on its own, near the threshold, it also flags venting such as
"this exam is killing me". `urgent` (the operator's rules or the judge flagged it, or the head
scored it SURE_SCORE or more): the character steps out of the role-play (SUPPORT_INSTRUCTION).
`check_in` (a borderline classifier score): the character stays in role and checks in gently
(CHECK_IN_INSTRUCTION). Both get the helplines notice: never silent.

Decisions written down here:
- mature_allowed = the user is an adult (core.users.is_adult) and the character is rated
  mature. discovery's show_mature preference sits above conversations and is not consulted: the
  chat is a private 1:1 the adult chose to open with a mature character.
- age_gate and hold count as blocked in chat (age_gate only happens where mature is not allowed).
- If the Moderator fails, a user's message is refused (`moderation_unavailable`, nothing
  stored): safety first. A reply is let through (the failure is logged), since the user's
  message that asked for it was checked.
No Flask here."""
import copy
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Optional

from sqlmodel import Session, select

from characters.models import Character
from conversations import service
from conversations.models import Conversation, Message
from conversations.placeholders import fill_placeholders
from conversations.sections import Contribution, PromptContext
from core import events
from core.db import utcnow
from core.errors import KindredError
from core.event_types import ContentFlagged
from core.users import User, check_standing, is_adult
from safety.moderator import SURE_SCORE

log = logging.getLogger(__name__)

BLOCKING = ("block", "hold", "age_gate")  # what the chat refuses (age_gate: mature not allowed)
SUPPORT = "self_harm"  # Message.moderation of an urgent support message
SUPPORT_CHECK_IN = "self_harm_check_in"  # ... of a borderline one (stays in role)
MINOR_SIGNAL_SCORE = 0.3  # below the block threshold: recorded as a `signal` for escalation
RECENT_FOR_REPEATS = 5  # the user's last messages in the conversation, for the spam repeat check
REPLY_CHECK_CHARS = 200  # a streaming reply is checked at a sentence end past this many new chars
SESSION_GAP = timedelta(minutes=30)  # a longer pause between messages starts a new session
NEUTRAL_LINE = "*{{char}} pauses, then gently steers the conversation somewhere else.*"
BLOCKED_MESSAGE = ("This message was not sent: it breaks community rule {rule} ({category}). "
                   "It is kept only for moderators.")
DEFAULT_SUPPORT_RESOURCES = {
    "en": [
        "If you are thinking about hurting yourself, you are not alone, and help is available "
        "right now.",
        "Find a free, confidential helpline in your country: https://findahelpline.com",
        "United States: call or text 988 (Suicide & Crisis Lifeline).",
        "United Kingdom and Ireland: call Samaritans on 116 123.",
        "If you are in immediate danger, call your local emergency number.",
    ],
}
SUPPORT_INSTRUCTION = (
    "Important, for this reply only: {{user}}'s last message suggests they may be thinking about "
    "hurting themselves. Step out of the role-play as far as needed. Answer warmly and "
    "seriously, in plain words: take them at their word, say you are glad they told you, ask "
    "how they are right now, and encourage them to reach out to someone they trust or to a "
    "crisis line (the app is showing them helpline numbers). Never describe methods and never "
    "make light of it.")
CHECK_IN_INSTRUCTION = (
    "For this reply only: {{user}}'s last message might hint that they are struggling, or it "
    "might be ordinary talk. Stay in character, answer what they said, and in one warm sentence "
    "check in on how they are really doing. Never describe ways to hurt oneself.")
SUPPORT_MESSAGES = {
    "urgent": "It sounds like you are going through a lot. You deserve support.",
    "check_in": "If things feel heavy right now, you are not alone: support is there, any time.",
}


@dataclass(frozen=True)
class Verdict:
    """What the chat does with one checked text."""
    decision: object  # safety.Decision
    text: str  # what to store: masked where the pipeline masked it

    @property
    def blocked(self) -> bool:
        """Refused: a blocking action the pipeline is sure of (Decision.sure: not a borderline
        score of the classifier alone, which would block ordinary chat such as "Just us?")."""
        return self.decision.action in BLOCKING and self.decision.sure()

    @property
    def support(self) -> bool:
        return bool(self.decision.support)

    @property
    def support_level(self) -> Optional[str]:
        """urgent | check_in (see the module's docstring); None without support."""
        if not self.support:
            return None
        d = self.decision
        sure = d.stages.get("self_harm", d.stage) != "classifier" or \
            d.categories.get("self_harm", 0.0) >= SURE_SCORE
        return "urgent" if sure else "check_in"

    @property
    def moderation(self) -> Optional[str]:
        """The value of Message.moderation: self_harm (or self_harm_check_in) for support
        (unless it is blocked for something else), else the deciding category."""
        if self.support and not self.blocked:
            return SUPPORT if self.support_level == "urgent" else SUPPORT_CHECK_IN
        return self.decision.category if self.decision.action != "allow" else None


class Refused(KindredError):
    """A KindredError whose chat:error / JSON error carries more fields (e.g. `until`)."""

    def __init__(self, code: str, message: str, status: int = 403, **extra):
        super().__init__(code, message, status)
        self.extra = extra

    def payload(self) -> dict:
        return {**super().payload(), **self.extra}


class ChatGuard:
    def __init__(self, moderator, settings, hidden_ids: Optional[Callable] = None):
        """`moderator`: the app's safety.Moderator; `settings`: SUPPORT_RESOURCES (locale ->
        lines), WELLBEING_NUDGE_MINUTES (0: off), WELLBEING_NUDGE_ADULTS, CHAT_MODERATE_REPLIES
        (default on; off in TestConfig, see config.py); `hidden_ids(session,
        message_ids) -> set` says which messages moderation hid."""
        self.moderator = moderator
        self.quick = _without_judge(moderator)
        self.resources = _resources(settings.get("SUPPORT_RESOURCES"))
        self.nudge_minutes = int(settings.get("WELLBEING_NUDGE_MINUTES", 120) or 0)
        self.nudge_adults = bool(settings.get("WELLBEING_NUDGE_ADULTS", False))
        self.hidden_ids = hidden_ids
        self.check_replies = bool(settings.get("CHAT_MODERATE_REPLIES", True))
        self._nudged: dict[int, datetime] = {}  # user id -> start of the session nudged

    # -- people ---------------------------------------------------------------------------
    def check_standing(self, user) -> None:
        check_standing(user, "chat")  # the one refusal every write uses (core.users)

    def context(self, user, conversation: Conversation, character,
                history: Optional[list] = None) -> dict:
        """The Moderator's context; `history` (the visible chat, oldest first) gives `recent`,
        the user's last messages there, for the repeat check."""
        ctx = {"mature_allowed": is_adult(user) and
               getattr(character, "content_rating", "sfw") == "mature",
               "under_18": not is_adult(user), "user_id": user.id,
               "conversation_id": conversation.id, "character_id": conversation.character_id}
        if history is not None:
            ctx["recent"] = [m.content for m in history if m.role == "user"][-RECENT_FOR_REPEATS:]
        return ctx

    # -- texts ----------------------------------------------------------------------------
    def check_message(self, user, conversation: Conversation, character, text: str,
                      history: list) -> Verdict:
        """The user's text, before it is stored below `history` (the visible chat). Refuses
        (`moderation_unavailable`, nothing stored) when the pipeline fails."""
        return self.check_text(text, "chat_message",
                               self.context(user, conversation, character, history))

    def check_text(self, text: str, surface: str, context: dict) -> Verdict:
        """What a person typed on `surface` (a chat or a room message), through the whole
        pipeline. Refuses (`moderation_unavailable`, nothing stored) when it fails."""
        try:
            decision = self.moderator.moderate(text, surface, context)
        except Exception:
            log.exception("moderation failed for a %s (%s)", surface, context)
            raise Refused("moderation_unavailable", "Messages cannot be checked right now, so "
                                                    "this one was not sent or stored; try again "
                                                    "in a moment.", status=503)
        return Verdict(decision, decision.text)  # private details masked whatever decided

    def check_reply(self, text: str, context: dict) -> Optional[Verdict]:
        """A reply's text, while it streams and once it is done: rules and classifier, never
        the judge (it would hold the stream, or chat:done, for seconds; the user's message that
        asked for the reply had the whole pipeline). None when the pipeline failed (logged;
        the reply stands)."""
        try:
            decision = self.quick.moderate(text, "chat_reply", context)
        except Exception:
            log.exception("moderation failed for a reply in conversation %s",
                          context.get("conversation_id"))
            return None
        return Verdict(decision, decision.text)  # private details masked whatever decided

    def record(self, session: Session, verdict: Verdict, surface: str, message_id: int,
               user_id: Optional[int], target_type: str = "message") -> None:
        """ContentFlagged for a stored message (delivered when the caller commits): for every
        action but allow, and a `signal` for a sexual_minors score above MINOR_SIGNAL_SCORE that
        decided nothing, which moderation sums per conversation to escalate a chat that keeps
        steering toward a minor's persona."""
        d = verdict.decision
        action, category = d.action, d.category
        if action in BLOCKING and not verdict.blocked:  # a borderline score: nothing to review
            action = "allow"
        if action == "allow" and d.support:
            action, category = "support", SUPPORT
        if action == "allow":
            if "sexual_minors" in d.flagged or \
                    d.categories.get("sexual_minors", 0.0) < MINOR_SIGNAL_SCORE:
                return
            action, category = "signal", "sexual_minors"
        events.record(session, ContentFlagged(
            surface=surface, target_type=target_type, target_id=message_id, user_id=user_id,
            action=action, category=category, scores=dict(d.categories), stage=d.stage,
            rule=d.rule))

    def edit(self, session: Session, user_id: int, message_id, content: str,
             locale: Optional[str]) -> tuple[Message, Optional[dict], Optional[dict]]:
        """An edit (PATCH /api/messages/<id>) through the same checks as chat:send. A user
        message's new branch is stored blocked, masked or flagged for support like a sent one;
        a reply corrected in place that the pipeline blocks is refused (422, nothing stored).
        Returns the stored message, the chat:error-like payload of a blocked branch, and the
        support notice. Commits."""
        original, conversation = service.owned_message(session, user_id, message_id)
        user = session.get(User, user_id)
        self.check_standing(user)
        character = session.get(Character, conversation.character_id)
        path = service.path_to(session, conversation, original.parent_id)
        session.commit()  # nothing written yet: the Moderator may use a connection of its own
        verdict = self.check_message(user, conversation, character, content, path)
        if verdict.blocked and original.role == "assistant":
            error = self.blocked_error(verdict, conversation.id, original.id)
            raise Refused("blocked_content", "This text breaks community rule "
                                             f"{error['rule']} ({error['category']}); the reply "
                                             "was not changed.", status=422,
                          category=error["category"], rule=error["rule"])
        edited = service.edit_message(session, user_id, message_id, verdict.text,
                                      status="blocked" if verdict.blocked else "complete",
                                      moderation=verdict.moderation, commit=False)
        if original.role == "user":
            self.record(session, verdict, "chat_message", edited.id, user_id)
        session.commit()
        blocked = self.blocked_error(verdict, conversation.id, edited.id) \
            if verdict.blocked else None
        notice = self.support_notice(conversation.id, locale, verdict.support_level) \
            if verdict.support else None
        return edited, blocked, notice

    def neutral_line(self, character_name: str) -> str:
        return fill_placeholders(NEUTRAL_LINE, character_name, "")

    def blocked_error(self, verdict: Verdict, conversation_id: int, message_id: int) -> dict:
        d = verdict.decision
        return {"code": "blocked_content", "category": d.category, "rule": d.rule,
                "conversation_id": conversation_id, "message_id": message_id,
                "message": BLOCKED_MESSAGE.format(rule=d.rule or "", category=d.category)}

    # -- notices --------------------------------------------------------------------------
    def support_notice(self, conversation_id: int, locale: Optional[str],
                       level: str = "urgent") -> dict:
        return {"kind": "support", "level": level, "conversation_id": conversation_id,
                "resources": self.support_resources(locale), "message": SUPPORT_MESSAGES[level]}

    def support_resources(self, locale: Optional[str]) -> list[str]:
        for key in _locale_keys(locale):
            if self.resources.get(key):
                return list(self.resources[key])
        return list(self.resources.get("en") or DEFAULT_SUPPORT_RESOURCES["en"])

    def wellbeing_notice(self, session: Session, user, conversation_id: int,
                         now: Optional[datetime] = None) -> Optional[dict]:
        """Once per chat session (the user's messages with no pause over SESSION_GAP), when it
        has lasted WELLBEING_NUDGE_MINUTES: on for under-18 accounts, for adults only with
        WELLBEING_NUDGE_ADULTS."""
        if self.nudge_minutes <= 0 or (is_adult(user) and not self.nudge_adults):
            return None
        now = now or utcnow()
        start = session_start(session, user.id, now, self.nudge_minutes)
        if start is None or now - start < timedelta(minutes=self.nudge_minutes):
            return None
        if self._nudged.get(user.id) == start:
            return None
        self._nudged[user.id] = start
        minutes = self.nudge_minutes
        length = f"{minutes // 60} hours" if minutes % 60 == 0 and minutes >= 120 else \
            f"{minutes} minutes"
        return {"kind": "wellbeing", "conversation_id": conversation_id, "minutes": minutes,
                "message": f"You've been chatting for {length}. Maybe it's a good moment for a "
                           f"break: stretch, drink some water, talk to someone nearby."}

    def hidden(self, session: Session, ids) -> set[int]:
        ids = [i for i in ids if i is not None]
        if self.hidden_ids is None or not ids:
            return set()
        return set(self.hidden_ids(session, ids))


class SupportSection:
    """The prompt section for a reply to a self-harm message (Message.moderation "self_harm" or
    "self_harm_check_in", set when the pipeline flagged it): answer supportively, out of role
    as far as needed (urgent), or in role with a gentle check-in (check_in)."""
    name = "safety_support"

    def __init__(self, budget: int = 200):
        self.budget = budget

    def contribute(self, ctx: PromptContext) -> Contribution:
        last_user = next((m for m in reversed(ctx.history) if m.role == "user"), None)
        moderation = getattr(last_user, "moderation", None) if last_user else None
        if moderation == SUPPORT:
            return Contribution(text=SUPPORT_INSTRUCTION)
        if moderation == SUPPORT_CHECK_IN:
            return Contribution(text=CHECK_IN_INSTRUCTION)
        return Contribution()


def session_start(session: Session, user_id: int, now: datetime,
                  minutes: int) -> Optional[datetime]:
    """When the user's current chat session began: walking back from their newest message
    (across conversations) until a pause over SESSION_GAP. None without a recent message."""
    since = now - timedelta(minutes=minutes) - timedelta(hours=24)
    times = session.exec(
        select(Message.created_at).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.user_id == user_id, Message.role == "user",
               Message.created_at >= since)
        .order_by(Message.created_at.desc()).limit(2000))
    start = None
    for created in times:
        if start is None:
            if now - created > SESSION_GAP:
                return None
        elif start - created > SESSION_GAP:
            break
        start = created
    return start


def visible_history(history: list, hidden: set[int]) -> list:
    """What a prompt may read: never a blocked message nor one moderation hid."""
    return [m for m in history if m.status != "blocked" and m.id not in hidden]


def _without_judge(moderator):
    """The same Moderator (same rules and classifier) without its judge, for the cheap checks
    of replies (p50 about 20 ms)."""
    if getattr(moderator, "judge", None) is None:
        return moderator
    quick = copy.copy(moderator)
    quick.judge = None
    return quick


def _resources(value) -> dict:
    """SUPPORT_RESOURCES: {locale: [lines]}, as a dict or its JSON text; empty: the default."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else None
    if not value:
        return DEFAULT_SUPPORT_RESOURCES
    if not isinstance(value, dict) or not all(
            isinstance(lines, list) and all(isinstance(x, str) for x in lines)
            for lines in value.values()):
        raise ValueError("SUPPORT_RESOURCES must map each locale to a list of lines, e.g. "
                         '{"en": ["Call 988 (US)"]}')
    return {**DEFAULT_SUPPORT_RESOURCES, **value}


def _locale_keys(locale: Optional[str]) -> list[str]:
    """"en-GB,en;q=0.9" -> ["en-GB", "en"], each also lower-cased."""
    keys: list[str] = []
    for part in (locale or "").split(","):
        tag = part.split(";")[0].strip()
        for key in (tag, tag.lower(), tag.split("-")[0].lower()):
            if key and key not in keys:
                keys.append(key)
    return keys
