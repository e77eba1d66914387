"""Streamed replies: one live generation per conversation, tokens pushed to its room as they come.

One reply takes one pass: the handler that stored the user's message hands its session, the
loaded conversation and the history (one query) to `prepare`, which stores the placeholder and
builds the prompt from the card, the lorebook and the registered prompt sections. `launch` then
queues the generation and streams it on a background thread. When the reply is stored,
`chat:done` goes out and ReplyFinished is published for the domains that react to replies.

With a guard (conversations.guard.ChatGuard, set by the app), prompts leave out blocked and
hidden messages; a streaming reply is checked (no judge, on a thread beside the stream) at
sentence ends every REPLY_CHECK_CHARS new characters and cancelled as soon as it is blocked;
the finished reply is checked once more: a blocked one is stored as a neutral in-character
line, with what the model wrote kept in `original_content` for moderators, and `chat:done`
carries the replacement (`moderated: true`).

Which conversation has a reply being written is the streamer's own dict on one process; with
many processes (REDIS_URL) each reply also holds a claim in Redis (conversations/live.py), so
a second reply is refused on every process, `chat:stop` reaches the process writing it, and
`watch` (one background task per process) renews this process's claims and marks interrupted,
telling their rooms, the replies of a process that died.

With a plan (`plan_for`, set by the app from the user's membership), a reply gets its place in
the inference queue (plus members' go first, inference/scheduling.py) and its context budget."""
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, select

from characters.models import Character
from conversations import live as live_claims
from conversations import service
from conversations.guard import REPLY_CHECK_CHARS, visible_history
from conversations.models import Conversation, Message
from conversations.prompt import Prompt, PromptExtras, build_prompt
from conversations.sections import PromptContext, PromptSections
from core import events
from core.db import session_scope
from core.errors import Conflict
from core.event_types import PromptBuilt, ReplyFinished
from core.events import EventBus
from inference.engine import (FINISH_CANCELLED, FINISH_ERROR, FINISH_NO_WORKER, FINISH_WORKER_LOST,
                              GenerationParams, Job)
from inference.scheduling import PRIORITY_NORMAL

log = logging.getLogger(__name__)

Emit = Callable[[str, dict, str], None]  # (event, payload, room)
STATUS_OF_FINISH = {FINISH_CANCELLED: "stopped", FINISH_ERROR: "error",
                    FINISH_WORKER_LOST: "interrupted", FINISH_NO_WORKER: "interrupted"}
# A reply that ends so gets a chat:error to its room; without any text its placeholder is dropped.
ERROR_OF_FINISH = {
    FINISH_ERROR: ("generation_failed", "The model failed while writing the reply; your message "
                                        "is saved, so you can try Regenerate."),
    FINISH_WORKER_LOST: ("worker_lost", "The inference worker writing this reply stopped; what "
                                        "it wrote is kept, and Regenerate writes it again."),
    FINISH_NO_WORKER: ("no_worker", "No inference worker is running to write the reply; your "
                                    "message is saved, so you can try Regenerate later."),
}
STORE_FAILED = ("store_failed", "The reply could not be saved (the database was unavailable); "
                                "what was saved of it is kept and marked interrupted shortly, "
                                "and Regenerate writes it again.")
CHECK_WINDOW = 1000  # a mid-stream check reads the reply's last characters (the classifier's span)
CHECK_JOIN_SECONDS = 10.0  # a finished reply waits this long for its running check


def room_for(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


@dataclass(frozen=True)
class ReplyPlan:
    """What the user's membership gives a reply: its inference queue priority, the tokens
    of context its prompt may fill and those its memories may take (None: MEMORY_TOKEN_BUDGET)."""
    priority: int
    max_context_tokens: int
    memory_tokens: Optional[int] = None


PlanFor = Callable[[Session, int], ReplyPlan]  # (session, user id) -> the user's plan


@dataclass
class LiveReply:
    conversation_id: int
    user_id: int | None = None
    character_id: int | None = None
    message_id: int | None = None
    prompt: Prompt | None = None
    job: Job | None = None
    sid: str | None = None
    stop_reason: str | None = None
    character_name: str = ""
    safety_context: dict | None = None  # the guard's context for checking this reply
    blocked: object | None = None  # the guard's Verdict that blocked it mid-stream
    checking: threading.Thread | None = None  # the mid-stream check running, if any
    priority: int = PRIORITY_NORMAL
    token: str = ""  # its claim in the shared registry (conversations/live.py), if any


class ReplyStreamer:
    """Owns every live generation; the Socket.IO handlers and REST routes only call into it."""

    def __init__(self, db: Engine, inference, emit: Emit, settings: dict, bus: EventBus,
                 sections: Optional[PromptSections] = None, claims=None):
        self.db, self.inference, self.emit, self.settings = db, inference, emit, settings
        self.claims = claims or live_claims.LocalClaims()  # shared with other processes or not
        self.bus = bus
        self.sections = sections or PromptSections(inference.count_tokens)
        self.guard = None  # conversations.guard.ChatGuard, set by the app (app/wiring.py)
        self.plan_for: Optional[PlanFor] = None  # the user's membership plan, set by the app
        self._live: dict[int, LiveReply] = {}
        self._threads: set[threading.Thread] = set()  # streaming, then the reply's subscribers
        self._closing = False
        self._unstored: set[int] = set()  # one process: conversations whose reply was not stored
        self._lock = threading.Lock()

    def reserve(self, conversation_id: int, sid: str | None = None,
                user_id: int | None = None) -> LiveReply:
        """Claim the conversation for one reply. Refused while one streams there, and while
        `user_id` already has MAX_LIVE_REPLIES_PER_USER replies streaming (in any of their
        conversations); nothing is stored by the caller then."""
        cap = self.settings.get("MAX_LIVE_REPLIES_PER_USER", 3)
        with self._lock:
            if self._closing:
                raise Conflict("shutting_down", "The server is restarting; this message was not "
                                                "stored. Send it again in a moment.")
            if conversation_id in self._live:
                raise live_claims.busy()
            if user_id is not None and sum(1 for live in self._live.values()
                                           if live.user_id == user_id) >= cap:
                raise live_claims.too_many(cap)
            token = self.claims.claim(conversation_id, user_id, cap)  # other processes' too
            live = self._live[conversation_id] = LiveReply(conversation_id, user_id=user_id,
                                                           sid=sid, token=token)
            return live

    def release(self, live: LiveReply) -> None:
        with self._lock:
            if self._live.get(live.conversation_id) is live:
                del self._live[live.conversation_id]
                self.claims.release(live.conversation_id, live.user_id, live.token)

    def is_busy(self, conversation_id: int) -> bool:
        return conversation_id in self._live or self.claims.is_busy(conversation_id)

    def prompt_extras(self, session: Session, conversation: Conversation, character: Character,
                      history: list, user_name: str,
                      memory_tokens: Optional[int] = None) -> PromptExtras:
        """What the registered sections add to this conversation's next prompt."""
        return self.sections.extras(PromptContext(session, conversation.user_id, conversation.id,
                                                  character, history, user_name, memory_tokens))

    def plan(self, session: Session, user_id: int) -> ReplyPlan:
        if self.plan_for is None:
            return ReplyPlan(PRIORITY_NORMAL, self.settings["MAX_CONTEXT_TOKENS"])
        return self.plan_for(session, user_id)

    def prepare(self, session: Session, live: LiveReply, conversation: Conversation,
                history: list[Message], user_name: str, user=None) -> None:
        """Store the reply's placeholder under `history[-1]` and build its prompt, in the
        caller's session, then commit it together with what the caller added before (the user
        message), so that a failure before this commit leaves nothing stored. The caller must
        not use the session for writes after. The prompt never reads a blocked or hidden
        message; `user` (the conversation's) lets the guard check the reply."""
        character = session.get(Character, conversation.character_id)
        shown = self.prompt_history(session, history)
        plan = self.plan(session, conversation.user_id)
        extras = self.prompt_extras(session, conversation, character, shown, user_name,
                                    plan.memory_tokens)
        prompt = build_prompt(character, shown, user_name, self.inference,
                              plan.max_context_tokens, self.settings["MAX_NEW_TOKENS"],
                              extras=extras)
        live.priority = plan.priority
        placeholder = service.add_reply_placeholder(session, conversation, history[-1])
        live.user_id, live.character_id = conversation.user_id, character.id
        live.message_id, live.prompt = placeholder.id, prompt
        live.character_name = character.name
        if self.guard is not None and user is not None and self.guard.check_replies:
            live.safety_context = self.guard.context(user, conversation, character)
        events.record(session, PromptBuilt(placeholder.id, character.id, prompt))
        session.commit()  # delivers PromptBuilt once the connection is back in the pool

    def prompt_history(self, session: Session, history: list[Message]) -> list[Message]:
        """`history` without blocked messages and without those moderation hid."""
        hidden = self.guard.hidden(session, [m.id for m in history]) if self.guard else set()
        return visible_history(history, hidden)

    def launch(self, live: LiveReply) -> None:
        """Queue the prepared reply's generation and stream it in the background."""
        try:
            live.job = self.inference.submit(live.prompt.text, self._params(live.prompt.stop),
                                             cache_key=room_for(live.conversation_id),
                                             priority=live.priority)
        except Exception:
            self._finish_unstarted(live)
            raise
        thread = threading.Thread(target=self._stream, args=(live,), daemon=True,
                                  name=f"reply-{live.conversation_id}")
        with self._lock:  # started under the lock: stop_all never sees it added, not alive
            self._threads.add(thread)
            thread.start()

    def stop(self, conversation_id: int, reason: str = "user") -> bool:
        live = self._live.get(conversation_id)
        if live is None:  # perhaps written by another process: asked of it through Redis
            return self.claims.request_stop(conversation_id, reason)
        if live.job is None:
            return False
        live.stop_reason = reason
        self.inference.cancel(live.job)
        return True

    def watch(self, stop: threading.Event) -> None:
        """With a shared registry, one per process until `stop` is set: stop the replies here
        that another process was asked to stop, renew this process's claims every third of
        REPLY_LEASE_SECONDS, and mark interrupted the replies whose writer died (its lease ran
        out). A failed round (Redis away for a moment) is logged and tried again."""
        every = max(float(self.settings.get("REPLY_LEASE_SECONDS", 15)) / 3, 0.2)
        due = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= due:
                    due = time.monotonic() + every
                    self.claims.renew(self._held())
                    for conversation_id in self.claims.expired():
                        self.recover(conversation_id)
                for conversation_id, reason in self.claims.stops(timeout=min(every, 0.5)):
                    self._stop_here(conversation_id, reason)
            except Exception:
                log.exception("watching the live replies failed; trying again")
                stop.wait(every)
        self.claims.close()

    def recover(self, conversation_id: int, session: Optional[Session] = None) -> int:
        """The conversation's replies still `streaming` that no process writes any more (their
        process died) become `interrupted`, their checkpointed text kept, and its room gets a
        chat:done for each (`finish_reason: "interrupted"`); how many. With a shared registry,
        or on one process for a reply whose final store failed (`_give_up`): otherwise none
        can be left there while it runs (the start marks them). Uses
        `session` (the handler's, committed here) or a session of its own."""
        if not self.claims.shared:
            with self._lock:
                if conversation_id not in self._unstored:
                    return 0
        if session is None:
            with session_scope(self.db) as own:
                return self.recover(conversation_id, own)
        stale = list(session.exec(select(Message).where(
            Message.conversation_id == conversation_id, Message.status == "streaming")))
        # Checked after the read: a claim is taken before its placeholder is stored and given
        # back after its reply is, so a placeholder read while no claim is held is orphaned.
        if not stale or self.is_busy(conversation_id):
            session.commit()
            return 0
        mine = [m.id for m in stale if session.execute(
            sa.update(Message).where(Message.id == m.id, Message.status == "streaming")
            .values(status="interrupted")).rowcount == 1]  # another process may have won
        session.commit()
        with self._lock:
            self._unstored.discard(conversation_id)
        for message_id in mine:
            message = session.get(Message, message_id)
            log.warning("reply %s of conversation %s was interrupted: its process stopped "
                        "renewing its claim", message_id, conversation_id)
            self.emit("chat:done", {"conversation_id": conversation_id, "message":
                                    service.message_payload(message,
                                                            service.siblings_of(session, message)),
                                    "moderated": False, "stopped": False, "stop_reason": None,
                                    "finish_reason": "interrupted", "tokens": None},
                      room_for(conversation_id))
        return len(mine)

    def _held(self) -> list[tuple[int, Optional[int], str]]:
        with self._lock:
            return [(live.conversation_id, live.user_id, live.token)
                    for live in self._live.values()]

    def _stop_here(self, conversation_id: int, reason: str) -> None:
        """A stop asked through another process, for a reply this one may be writing."""
        live = self._live.get(conversation_id)
        if live is not None and live.job is not None:
            live.stop_reason = reason
            self.inference.cancel(live.job)

    def stop_all_for_sid(self, sid: str) -> None:
        for live in list(self._live.values()):
            if live.sid == sid:
                self.stop(live.conversation_id, reason="disconnect")

    def stop_all(self, reason: str = "shutdown", timeout: float = 5.0) -> bool:
        """The server is stopping: refuse new replies, stop every one being written (each is
        stored as stopped and gets its chat:done, as for a user's stop) and wait, at most
        `timeout` seconds, until they and their ReplyFinished subscribers are done. False if
        some were still running then (the next start marks those interrupted)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closing = True
        while True:
            with self._lock:
                live = list(self._live.values())
                self._threads = {t for t in self._threads if t.is_alive()}
                running = bool(live or self._threads)
            if not running:
                return True
            if time.monotonic() >= deadline:
                log.warning("shutdown: %d replies still being written", len(live))
                return False
            for reply in live:  # one reserved but not launched yet is stopped next round
                if reply.stop_reason is None:
                    self.stop(reply.conversation_id, reason)
            time.sleep(0.05)

    def _stream(self, live: LiveReply) -> None:
        room = room_for(live.conversation_id)
        parts: list[str] = []
        length = checked = 0  # characters streamed, and streamed when the last check began
        every = self.settings.get("REPLY_CHECKPOINT_SECONDS", 2.0)
        saved_at = time.monotonic()
        try:
            for chunk in live.job:
                if live.blocked is not None:
                    continue  # cancelled: drain what the engine still hands over, unsent
                parts.append(chunk)
                self.emit("chat:token", {"conversation_id": live.conversation_id,
                                         "message_id": live.message_id, "text": chunk}, room)
                length += len(chunk)
                if check_due(length - checked, chunk) and \
                        check_soon(self.guard, self.inference, live, "".join(parts)):
                    checked = length
                if every and time.monotonic() - saved_at >= every:
                    checkpoint(self.db, Message, live.message_id, "".join(parts).strip())
                    saved_at = time.monotonic()
        finally:
            if live.checking is not None:
                live.checking.join(CHECK_JOIN_SECONDS)
            try:
                self._finish(live, "".join(parts).strip(), room)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

    def _finish(self, live: LiveReply, text: str, room: str) -> None:
        job = live.job
        try:
            verdict = None
            if not (job.finish_reason in ERROR_OF_FINISH and not text):
                verdict = final_verdict(self.guard, live, text)
            payload, status, moderated = self._store_retrying(live, text, verdict)
        except Exception as exc:
            # The database stayed away past REPLY_STORE_RETRY_SECONDS (or the store failed
            # otherwise): the row stays `streaming` with its last checkpoint, for recovery.
            log.error("could not store reply %s of conversation %s; left for recovery: %s",
                      live.message_id, live.conversation_id, exc,
                      exc_info=not isinstance(exc, sa.exc.DBAPIError))  # a bug: its traceback
            self._give_up(live)
            self.emit("chat:error", {"code": STORE_FAILED[0], "conversation_id":
                                     live.conversation_id, "message": STORE_FAILED[1]}, room)
            return
        self.release(live)
        if (error := ERROR_OF_FINISH.get(job.finish_reason)) is not None:
            self.emit("chat:error", {"code": error[0], "conversation_id": live.conversation_id,
                                     "message": error[1]}, room)
        if payload is None:
            return
        self.emit("chat:done", {"conversation_id": live.conversation_id, "message": payload,
                                "moderated": moderated,
                                "stopped": job.finish_reason == FINISH_CANCELLED
                                and (not moderated or live.stop_reason is not None),
                                "stop_reason": live.stop_reason,
                                "finish_reason": job.finish_reason,
                                "tokens": job.tokens_generated}, room)
        # The reply is committed and its session closed: the domains that react to replies
        # (relationships, the inspector's readers, later moderation and analytics) run now.
        self.bus.publish(ReplyFinished(live.conversation_id, live.message_id, live.user_id,
                                       live.character_id, job.finish_reason, status,
                                       job.tokens_generated, live.stop_reason))

    def _store_retrying(self, live: LiveReply, text: str, verdict):
        """`_store`, tried again (a new session each time, backing off) while the database
        refuses it, for at most REPLY_STORE_RETRY_SECONDS; its last error raised then."""
        bound = float(self.settings.get("REPLY_STORE_RETRY_SECONDS", 10.0))
        deadline, pause = time.monotonic() + bound, 0.25
        while True:
            try:
                return self._store(live, text, verdict)
            except sa.exc.DBAPIError as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("storing reply %s failed (%s); trying again in %.2f s",
                            live.message_id, exc.__class__.__name__, pause)
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _store(self, live: LiveReply, text: str, verdict):
        """Write the finished reply (or drop its empty placeholder) in one transaction:
        (its payload or None, its status, whether moderation replaced it)."""
        job = live.job
        status = STATUS_OF_FINISH.get(job.finish_reason, "complete")
        moderated = False
        with session_scope(self.db) as session:
            message = session.get(Message, live.message_id)
            if job.finish_reason in ERROR_OF_FINISH and not text:
                _drop_placeholder(session, live.conversation_id, message)
                return None, status, moderated
            if verdict is not None and verdict.blocked:
                # A block cancels the job itself: that is no stop (a user's stop is).
                moderated = True
                status = "stopped" if live.stop_reason else "complete"
                message.original_content = text
                text = self.guard.neutral_line(live.character_name)
            elif verdict is not None:
                text = verdict.text.strip()
            message.content, message.status = text, status
            if verdict is not None:
                message.moderation = verdict.moderation
                self.guard.record(session, verdict, "chat_reply", message.id, live.user_id)
            session.add(message)
            session.commit()
            return (service.message_payload(message, service.siblings_of(session, message)),
                    status, moderated)

    def _give_up(self, live: LiveReply) -> None:
        """The reply could not be stored: this process lets it go, its row left `streaming`.
        With a shared registry its claim is not renewed any more, so after one lease the
        watch (any process's) marks it interrupted, as for a process that died; on one
        process, the conversation's next chat:join or chat:send does (see `recover`)."""
        with self._lock:
            if self._live.get(live.conversation_id) is live:
                del self._live[live.conversation_id]
                if not self.claims.shared:
                    self._unstored.add(live.conversation_id)

    def _finish_unstarted(self, live: LiveReply) -> None:
        """The engine refused the job: take the placeholder back so nothing half-made stays."""
        try:
            with session_scope(self.db) as session:
                message = session.get(Message, live.message_id)
                if message is not None:
                    _drop_placeholder(session, live.conversation_id, message)
        finally:
            self.release(live)

    def _params(self, stop: list[str]) -> GenerationParams:
        return generation_params(self.settings, stop)


def reply_so_far(session: Session, conversation_id: int) -> Optional[dict]:
    """The conversation's reply being written, as stored at its last checkpoint
    (REPLY_CHECKPOINT_SECONDS), or None."""
    message = session.exec(select(Message).where(
        Message.conversation_id == conversation_id, Message.status == "streaming")
        .order_by(Message.id.desc())).first()
    return service.message_payload(message, service.siblings_of(session, message)) \
        if message is not None else None


def recover_interrupted_replies(db: Engine) -> int:
    """Replies that were streaming when the server last stopped keep their text, marked as cut."""
    return mark_streaming(db, Message, "interrupted")


def checkpoint(db: Engine, model, message_id: int, text: str) -> None:
    """Store the text so far of a reply still streaming, so that a process killed outright
    (no chance to stop it) leaves it for recover_interrupted_replies. Best effort: a failed
    write only means an older checkpoint, never a failed reply."""
    try:
        with db.begin() as connection:
            connection.execute(sa.update(model).where(model.id == message_id,
                                                      model.status == "streaming")
                               .values(content=text))
    except Exception as exc:  # the database busy for a moment: the next checkpoint tries again
        log.warning("could not store the text so far of reply %s: %s", message_id, exc)


def mark_streaming(db: Engine, model, status: str) -> int:
    """Give every row of `model` still `streaming` (its writer is gone) `status`; how many."""
    with session_scope(db) as session:
        stale = list(session.exec(select(model).where(model.status == "streaming")))
        for row in stale:
            row.status = status
            session.add(row)
        session.commit()
        return len(stale)


def generation_params(settings, stop: list[str]) -> GenerationParams:
    """The sampling settings of a character's reply (MAX_NEW_TOKENS, TEMPERATURE, TOP_P,
    TOP_K, REPETITION_PENALTY), with its stop strings."""
    s = settings
    return GenerationParams(max_new_tokens=s["MAX_NEW_TOKENS"], temperature=s["TEMPERATURE"],
                            top_p=s["TOP_P"], top_k=s["TOP_K"],
                            repetition_penalty=s["REPETITION_PENALTY"], stop=stop)


def check_due(fresh: int, chunk: str) -> bool:
    """Whether a streaming reply with `fresh` characters since its last check, the latest being
    `chunk`, is due a check: at a sentence end past REPLY_CHECK_CHARS, or anyway past twice
    that."""
    return fresh >= 2 * REPLY_CHECK_CHARS or fresh >= REPLY_CHECK_CHARS and _sentence_end(chunk)


def check_soon(guard, inference, live, text: str) -> bool:
    """Check the reply's last CHECK_WINDOW characters on a thread of their own, so the stream
    never waits for the classifier; a block cancels the job. At most one check per reply runs
    at a time: False (not started) while one does. `live` is any reply being streamed with
    `safety_context`, `checking`, `blocked` and `job` (a LiveReply, or a room's turn)."""
    if guard is None or live.safety_context is None:
        return True
    if live.checking is not None and live.checking.is_alive():
        return False

    def check() -> None:
        verdict = guard.check_reply(text[-CHECK_WINDOW:], live.safety_context)
        if verdict is not None and verdict.blocked and live.blocked is None:
            live.blocked = verdict
            inference.cancel(live.job)
    live.checking = threading.Thread(target=check, daemon=True, name="reply-check")
    live.checking.start()
    return True


def final_verdict(guard, live, text: str):
    """The verdict that decides what is stored: the mid-stream block, or the check of the
    finished text and of its last CHECK_WINDOW characters (the classifier reads only the start
    of a text). None: nothing to check, or the check failed."""
    if live.blocked is not None:
        return live.blocked
    if guard is None or live.safety_context is None or not text:
        return None
    verdict = guard.check_reply(text, live.safety_context)
    if len(text) > CHECK_WINDOW and (verdict is None or not verdict.blocked):
        tail = guard.check_reply(text[-CHECK_WINDOW:], live.safety_context)
        if tail is not None and tail.blocked:
            return tail
    return verdict


def _sentence_end(chunk: str) -> bool:
    return any(mark in chunk for mark in (".", "!", "?", "\n", "*", "\u2026"))


def _drop_placeholder(session: Session, conversation_id: int, message: Message) -> None:
    conversation = session.get(Conversation, conversation_id)
    conversation.active_leaf_id = message.parent_id
    session.add(conversation)
    session.delete(message)
    session.commit()
