"""Turns in a room: people's messages in, one character (or the assistant) at a time out.

`RoomTurns` (one per app, built in app/wiring.py) is what rooms/events.py calls:
    post(session, room, user, content, ooc)     a person's message: standing, moderation, stored,
                                                shown (room:message); then a character turn is
                                                scheduled, or the assistant asked (@assistant)
    trigger(session, room, user, character_id)  force that character to speak (room:trigger)
    stop(session, room)                         stop the reply being written (room:stop)
    room_left_empty(room_id)                    the last person's socket went: stop, keep the text
    stop_all(reason, timeout)                   the server stops: no new turn, stop and store all
    watch(stop)                                 (REDIS_URL) one per process: the rooms of a
                                                process that died mid-turn get their turn stopped
    recover(room_id)                            that, for one room, if its lock is free

Batching: the first unanswered message of a room starts a window (ROOM_BATCH_SECONDS, 1.5 s);
what arrives within it is answered together by one character turn. Messages that arrive while a
turn is written wait for the next window.
One generation at a time per room: a turn holds the room's lock (rooms/locks.py: across
processes with Redis) while it is planned, written and stored. A turn answers what is
unanswered when it gets the lock: the people's messages after the room's latest character
message, so a second process that waited for the lock finds them answered and writes nothing.
Auto-continue: after the answer, up to `room.auto_continue` more character turns follow with no
human message, each picked by the strategy as after a character's line (natural order: never
the same character twice running). A stop, a failure or a new human message ends the run.

Streaming: room:turn {room_id, character_id, message_id}, room:token {room_id, message_id,
text}, room:done {room_id, message}; the reply is checked by the chat's safety guard every
~REPLY_CHECK_CHARS characters (conversations.replies.check_soon) and once more at the end; a
blocked reply is stored as the chat's neutral line. A stop (user) or the room emptying
(disconnect) cancels the generation and keeps the partial text (status `stopped`).
A process killed mid-turn (REDIS_URL): its room lock is a lease (rooms/locks.py) that lapses
after ROOM_LOCK_SECONDS; a surviving process's `watch` then takes the lock, marks the turn left
`streaming` as `stopped` (its text so far, which is none: tokens are not checkpointed) and sends
room:done, as for a stop. Whoever takes a room's lock does the same first, so a turn is never
left streaming behind a new one; and a start marks only the turns of rooms whose lock is free.
The assistant's answers (assistant.room) are turns with character_id None and speaker
"assistant": a private suggestion goes only to the asker's sockets.
No Flask here: events are sent through the `emit(event, payload, room)` the app passes in."""
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, select

from assistant import room as assistant_room
from assistant.messages import REQUEST as ASSISTANT_REQUEST
from characters.models import Character
from conversations.guard import Refused
from conversations.replies import (check_due, check_soon, final_verdict, generation_params,
                                   mark_streaming)
from conversations.sections import PromptSections
from core.db import session_scope
from core.errors import KindredError
from core.users import User, check_standing, is_adult
from core.web.sockets import user_room
from inference.engine import FINISH_CANCELLED, FINISH_ERROR, FINISH_NO_WORKER, FINISH_WORKER_LOST
from rooms import service, strategies
from rooms.locks import RoomCoordination
from rooms.models import Room, RoomMessage
from rooms.prompt import build_room_prompt

log = logging.getLogger(__name__)

Emit = Callable[[str, dict, str], None]  # (event, payload, Socket.IO room)
Spawn = Callable[..., object]  # (target, *args): the app's socketio.start_background_task
SURFACE = service.SURFACE
REPLY_SURFACE = "chat_reply"  # a character's words, as in one-to-one chat
TARGET_TYPE = "room_message"  # what moderation's queue points to
RECENT_FOR_STRATEGY = 30  # messages the strategies look back on
RECENT_FOR_REPEATS = 5
ARRIVAL_WAIT_SECONDS = 30.0  # a window's end waits this long at most for messages in moderation
# A turn whose inference worker was lost ends as one cut by a restart does (INFERENCE=redis).
STATUS_OF_FINISH = {FINISH_CANCELLED: "stopped", FINISH_ERROR: "error",
                    FINISH_WORKER_LOST: "stopped", FINISH_NO_WORKER: "stopped"}


def channel(room_id: int) -> str:
    """The Socket.IO room of a group room's joined sockets."""
    return f"room:{room_id}"


def asks_assistant(content: str) -> bool:
    return ASSISTANT_REQUEST.match(content or "") is not None


@dataclass
class LiveTurn:
    """One turn being written: what the safety checks (conversations.replies) and stop need."""
    room_id: int
    message_id: int
    character_id: Optional[int]
    target: str  # the Socket.IO room its events go to
    job: object = None
    safety_context: Optional[dict] = None
    checking: Optional[threading.Thread] = None
    blocked: object = None
    stop_reason: Optional[str] = None


@dataclass
class _Plan:
    character_id: int
    answering_id: Optional[int]


@dataclass
class _Pending:
    """A room's worker on this process and what it still has to do."""
    running: bool = False
    again: bool = False  # messages came while it ran: look once more after a window
    requests: list = field(default_factory=list)  # ("trigger", character_id, user_id) | ("assistant", ...)


class RoomTurns:
    def __init__(self, db: Engine, inference, emit: Emit, settings, coordination: RoomCoordination,
                 sections: Optional[PromptSections] = None, guard=None,
                 spawn: Optional[Spawn] = None, rng: Optional[random.Random] = None,
                 embedder=None):
        """`settings`: ROOM_BATCH_SECONDS, ROOM_LOCK_WAIT_SECONDS, ROOM_HISTORY_MESSAGES and the
        generation settings; `guard`: conversations.guard.ChatGuard (moderation of what is typed
        and of replies); `sections`: the prompt sections of a character's room prompt (the
        relationship level); `rng` picks speakers (seed it for repeatable picks)."""
        self.db, self.inference, self.emit, self.settings = db, inference, emit, settings
        self.coordination, self.sections, self.guard = coordination, sections, guard
        self.spawn = spawn or _thread
        self.rng = rng or random.Random(settings.get("ROOM_RANDOM_SEED"))
        self.embedder = embedder
        self._pending: dict[int, _Pending] = {}
        self._arriving: dict[int, int] = {}  # room id -> messages being checked and stored
        self._live: dict[int, LiveTurn] = {}
        self._closing = False
        self._guard = threading.Lock()

    # -- what people do ---------------------------------------------------------------------
    def post(self, session: Session, room: Room, user: User, content: str, ooc: bool) -> dict:
        """Store a person's message (checked, masked where moderation masks) and show it to
        the room; then schedule the answer. A blocked message is kept for moderators only
        (private to its author, status blocked) and refused with `blocked_content`; a banned
        or suspended person stores nothing."""
        check_standing(user, "write in a room")
        # The window opens when a message arrives, not once it is checked and stored: two
        # people's messages sent together are one batch even when moderation takes a while.
        self._arrivals(room.id, +1)
        try:
            return self._post(session, room, user, content, ooc)
        finally:
            self._arrivals(room.id, -1)

    def _post(self, session: Session, room: Room, user: User, content: str, ooc: bool) -> dict:
        to_assistant = asks_assistant(content)
        ooc = ooc or to_assistant  # a request to the assistant is no line of the scene
        verdict = None
        if self.guard is not None:
            recent = [m.content for m in session.exec(
                select(RoomMessage).where(RoomMessage.room_id == room.id,
                                          RoomMessage.user_id == user.id,
                                          RoomMessage.speaker == "user")
                .order_by(RoomMessage.id.desc()).limit(RECENT_FOR_REPEATS))]
            session.commit()  # the Moderator reads its rules on a connection of its own
            verdict = self.guard.check_text(content, SURFACE, {
                "mature_allowed": False, "under_18": not is_adult(user), "user_id": user.id,
                "room_id": room.id, "recent": recent})
        blocked = verdict is not None and verdict.blocked
        message = service.store_message(
            session, room.id, "user", verdict.text if verdict else content, user_id=user.id,
            ooc=ooc, private_to=user.id if blocked else None,
            status="blocked" if blocked else "complete", moderation=_moderation(verdict))
        if verdict is not None:
            self.guard.record(session, verdict, SURFACE, message.id, user.id,
                              target_type=TARGET_TYPE)
        if not blocked:
            service.mark_read(session, user.id, room.id, message.id)
        session.commit()
        if blocked:
            d = verdict.decision
            raise Refused("blocked_content", f"This message was not sent: it breaks community "
                                             f"rule {d.rule or ''} ({d.category}). It is kept "
                                             f"only for moderators.", status=422,
                          category=d.category, rule=d.rule, message_id=message.id)
        payload = self.message_payload(session, message)
        self.emit("room:message", {"message": payload}, channel(room.id))
        if verdict is not None and verdict.support:
            notice = self.guard.support_notice(None, None, verdict.support_level)
            self.emit("room:notice", {**notice, "room_id": room.id}, user_room(user.id))
        if to_assistant:
            self._schedule(room.id, 0.0, ("assistant", user.id, message.id, content))
        return payload

    def trigger(self, session: Session, room: Room, user: User, character_id) -> None:
        """Make a character of the room speak now (after the turn being written, if any)."""
        check_standing(user, "write in a room")
        stint = next((s for s in service.active_characters(session, room.id)
                      if s.character_id == character_id), None)
        if stint is None:
            raise KindredError("not_in_room", "That character is not in this room; trigger one "
                                              "of the room's characters.")
        if stint.muted:
            raise KindredError("muted", "That character is muted: it listens but never speaks "
                                        "until the owner unmutes it.")
        self._schedule(room.id, 0.0, ("trigger", character_id, user.id))

    def stop(self, session: Session, room: Room) -> None:
        streaming = self.streaming_message(session, room.id)
        if streaming is None:
            raise KindredError("not_generating", "Nothing is being written in this room.")
        self._stop(room.id, streaming.id, "user")

    def room_left_empty(self, room_id: int) -> None:
        """Nobody is left to read the room: the turn being written stops, keeping its text."""
        with session_scope(self.db) as session:
            streaming = self.streaming_message(session, room_id)
        if streaming is not None:
            self._stop(room_id, streaming.id, "disconnect")

    def stop_all(self, reason: str = "shutdown", timeout: float = 5.0) -> bool:
        """The server is stopping: no turn starts any more, and every turn being written on this
        process stops as for room:stop (its text stored as stopped, room:done sent). Waits at
        most `timeout` seconds for the rooms' workers to finish; False if some had not (the
        next start recovers their turns)."""
        deadline = time.monotonic() + timeout
        with self._guard:
            self._closing = True
        while True:
            with self._guard:
                live, busy = list(self._live.values()), bool(self._pending)
            if not busy and not live:
                return True
            if time.monotonic() >= deadline:
                log.warning("shutdown: %d room turns still being written", len(live))
                return False
            for turn in live:
                if turn.stop_reason is None:
                    self._cancel(turn, reason)
            time.sleep(0.05)

    def watch(self, stop: threading.Event) -> None:
        """With Redis, one per process until `stop` is set: every third of ROOM_LOCK_SECONDS,
        the rooms whose lock lapsed unreleased (its process died mid-turn) get their streaming
        turn stopped (`recover`). A failed round (Redis away for a moment) is logged and tried
        again."""
        every = max(float(self.settings.get("ROOM_LOCK_SECONDS", 60)) / 3, 0.2)
        while not stop.wait(every):
            try:
                for room_id in self.coordination.locks.expired():
                    self.recover(room_id)
            except Exception:
                log.exception("watching the rooms' locks failed; trying again")

    def recover(self, room_id: int) -> int:
        """The room's turns left `streaming` by a process that is gone become `stopped` (their
        text kept) and room:done goes to the room for each; how many. Done under the room's
        lock, taken without waiting: if another turn holds it, that turn does it itself."""
        lock = self.coordination.locks.acquire(room_id, wait=0)
        if lock is None:
            return 0
        try:
            return self._recover_locked(room_id)
        finally:
            lock.release()

    def _recover_locked(self, room_id: int) -> int:
        """Under the room's lock no turn is being written there: a `streaming` one is orphaned."""
        with session_scope(self.db) as session:
            stale = [m.id for m in session.exec(select(RoomMessage).where(
                RoomMessage.room_id == room_id, RoomMessage.status == "streaming"))]
            mine = [i for i in stale if session.execute(
                sa.update(RoomMessage).where(RoomMessage.id == i,
                                             RoomMessage.status == "streaming")
                .values(status="stopped")).rowcount == 1]
            session.commit()
            for message_id in mine:
                message = session.get(RoomMessage, message_id)
                log.warning("room %s's turn %s was stopped: its process died while writing it",
                            room_id, message_id)
                target = user_room(message.private_to) if message.private_to else channel(room_id)
                self.emit("room:done", {"room_id": room_id,
                                        "message": self.message_payload(session, message)},
                          target)
        return len(mine)

    def idle(self, room_id: int) -> bool:
        """Whether this process has nothing left to do for the room (no window, no turn)."""
        with self._guard:
            return room_id not in self._pending

    def is_busy(self, session: Session, room_id: int) -> bool:
        return self.streaming_message(session, room_id) is not None

    def streaming_message(self, session: Session, room_id: int) -> Optional[RoomMessage]:
        return session.exec(select(RoomMessage).where(RoomMessage.room_id == room_id,
                                                      RoomMessage.status == "streaming")
                            .order_by(RoomMessage.id.desc())).first()

    def message_payload(self, session: Session, message: RoomMessage) -> dict:
        return service.message_payload(message, service.speaker_names(session, [message]))

    # -- the room's worker --------------------------------------------------------------------
    def _schedule(self, room_id: int, delay: float, request: Optional[tuple] = None) -> None:
        with self._guard:
            pending = self._pending.setdefault(room_id, _Pending())
            if request is not None:
                pending.requests.append(request)
            if pending.running:
                pending.again = True
                return
            if self._closing:  # the server is stopping: no new turn starts
                del self._pending[room_id]
                return
            pending.running = True
        self.spawn(self._work, room_id, delay)

    def _arrivals(self, room_id: int, change: int) -> None:
        """Count the messages being checked and stored now; an arrival opens the window."""
        with self._guard:
            self._arriving[room_id] = self._arriving.get(room_id, 0) + change
            if not self._arriving[room_id]:
                del self._arriving[room_id]
        if change > 0:
            self._schedule(room_id, self.settings.get("ROOM_BATCH_SECONDS", 1.5))

    def _wait_for_arrivals(self, room_id: int) -> None:
        deadline = time.monotonic() + ARRIVAL_WAIT_SECONDS
        while time.monotonic() < deadline:
            with self._guard:
                if not self._arriving.get(room_id):
                    return
            time.sleep(0.02)

    def _work(self, room_id: int, delay: float) -> None:
        try:
            while True:
                if delay > 0:
                    time.sleep(delay)
                self._wait_for_arrivals(room_id)
                if not self._closing:
                    self._take_turns(room_id)
                with self._guard:
                    pending = self._pending[room_id]
                    if self._closing or not pending.again and not pending.requests:
                        del self._pending[room_id]
                        return
                    pending.again = False
                    delay = 0.0 if pending.requests else self.settings.get(
                        "ROOM_BATCH_SECONDS", 1.5)
        except Exception:
            log.exception("the turns of room %s failed", room_id)
            with self._guard:
                self._pending.pop(room_id, None)

    def _next_request(self, room_id: int) -> Optional[tuple]:
        with self._guard:
            pending = self._pending.get(room_id)
            return pending.requests.pop(0) if pending and pending.requests else None

    def _take_turns(self, room_id: int) -> None:
        lock = self.coordination.locks.acquire(
            room_id, wait=self.settings.get("ROOM_LOCK_WAIT_SECONDS", 300))
        if lock is None:
            log.warning("room %s stayed locked by another turn; its messages wait", room_id)
            return
        try:
            if self.coordination.locks.shared:  # a dead process's turn here: ended first
                self._recover_locked(room_id)
            chain = 0  # character turns since the people's last message
            while not self._closing:
                request = self._next_request(room_id)
                if request is not None and request[0] == "assistant":
                    self._assistant_turn(room_id, *request[1:], lock=lock)
                    continue
                plan = self._plan(room_id, chain, forced=request[1:] if request else None)
                if plan is None:
                    if request is not None:
                        continue
                    return
                status = self._character_turn(room_id, plan, lock)
                chain = 1 if request is not None else chain + 1
                if status != "complete":
                    return
        finally:
            lock.release()

    def _plan(self, room_id: int, chain: int, forced: Optional[tuple]) -> Optional[_Plan]:
        """Who speaks now, decided under the room's lock; None: nobody."""
        with session_scope(self.db) as session:
            room = session.get(Room, room_id)
            if room is None:
                return None
            speakable = [s for s in service.active_characters(session, room_id) if not s.muted]
            last_character = session.exec(
                select(sa.func.max(RoomMessage.id)).where(RoomMessage.room_id == room_id,
                                                          RoomMessage.speaker == "character")
            ).one() or 0
            unanswered = list(session.exec(_human_lines(room_id)
                                           .where(RoomMessage.id > last_character)
                                           .order_by(RoomMessage.id)))
            last_human = session.exec(_human_lines(room_id).order_by(RoomMessage.id.desc())).first()
            answering = last_human.user_id if last_human is not None else None
            if forced is not None:
                character_id, user_id = forced
                if not any(s.character_id == character_id for s in speakable):
                    return None  # removed or muted since it was asked for
                return _Plan(character_id, answering or user_id)
            if (chain == 0) != bool(unanswered) or chain > room.auto_continue:
                return None  # nothing to answer, or a new batch waits for its own window
            characters = {c.id: c for c in session.exec(select(Character).where(
                Character.id.in_([s.character_id for s in speakable])))} if speakable else {}
            members = [strategies.Member(s.character_id, characters[s.character_id].name,
                                         strategies.talkativeness_of(
                                             characters[s.character_id].extensions),
                                         s.position)
                       for s in speakable if s.character_id in characters]
            recent = [(m.speaker, m.character_id) for m in reversed(list(session.exec(
                select(RoomMessage).where(RoomMessage.room_id == room_id,
                                          RoomMessage.ooc.is_(False),
                                          RoomMessage.speaker != "assistant",
                                          RoomMessage.status != "blocked")
                .order_by(RoomMessage.id.desc()).limit(RECENT_FOR_STRATEGY))))]
            picked = strategies.activate(room.strategy, members, recent,
                                         " ".join(m.content for m in unanswered), self.rng,
                                         is_human_input=chain == 0)
            return _Plan(picked[0], answering) if picked else None

    # -- a character's turn -------------------------------------------------------------------
    def _character_turn(self, room_id: int, plan: _Plan, lock) -> str:
        with session_scope(self.db) as session:
            room = session.get(Room, room_id)
            character = session.get(Character, plan.character_id)
            answering = session.get(User, plan.answering_id) if plan.answering_id else None
            prompt = self.prompt_for(session, room, character, answering)
            placeholder = service.store_message(session, room_id, "character", "",
                                                character_id=character.id, status="streaming")
            session.commit()
            live = LiveTurn(room_id, placeholder.id, character.id, channel(room_id))
            if self.guard is not None and self.guard.check_replies:
                live.safety_context = {"mature_allowed": False, "user_id": plan.answering_id,
                                       "character_id": character.id, "room_id": room_id}
            name = character.name
        self.emit("room:turn", {"room_id": room_id, "character_id": live.character_id,
                                "message_id": live.message_id}, live.target)
        try:
            live.job = self.inference.submit(prompt.text,
                                             generation_params(self.settings, prompt.stop),
                                             cache_key=f"{channel(room_id)}:{live.character_id}")
        except Exception:
            log.exception("the engine refused room %s's turn", room_id)
            return self._store(live, "", "error", None, name)
        text = self._stream(live, lock, live.job)
        status = STATUS_OF_FINISH.get(live.job.finish_reason, "complete")
        verdict = final_verdict(self.guard, live, text) if text else None
        return self._store(live, text, status, verdict, name)

    def _stream(self, live: LiveTurn, lock, pieces) -> str:
        """Send the pieces as room:token while keeping the lock alive and watching for a stop;
        the text written."""
        parts: list[str] = []
        length = checked = 0
        self._live[live.room_id] = live
        alive = _keep_alive(lock, self.settings.get("ROOM_LOCK_SECONDS", 60))
        try:
            for piece in pieces:
                if live.blocked is not None or live.stop_reason is not None:
                    if live.job is None:
                        break  # the assistant's pieces: closing the generator ends them
                    continue  # cancelled: drain what the engine still hands over, unsent
                if (reason := self.coordination.stops.requested(live.room_id,
                                                                live.message_id)) is not None:
                    self._cancel(live, reason)
                    if live.job is None:
                        break
                    continue
                parts.append(piece)
                self.emit("room:token", {"room_id": live.room_id, "message_id": live.message_id,
                                         "text": piece}, live.target)
                length += len(piece)
                if live.job is not None and check_due(length - checked, piece) and \
                        check_soon(self.guard, self.inference, live, "".join(parts)):
                    checked = length
        finally:
            alive.set()
            self._live.pop(live.room_id, None)
            self.coordination.stops.clear(live.room_id, live.message_id)
            if live.checking is not None:
                live.checking.join(10.0)
        return "".join(parts).strip()

    def _store(self, live: LiveTurn, text: str, status: str, verdict, name: str,
               extra: Optional[dict] = None) -> str:
        """Store the finished turn and send room:done; `extra` joins the message payload (the
        assistant's kind and the ids of the messages it used)."""
        moderation = None
        if verdict is not None and verdict.blocked:
            d = verdict.decision
            moderation = {"action": "block", "category": d.category, "rule": d.rule,
                          "original_content": text}
            text = self.guard.neutral_line(name)
            status = "stopped" if live.stop_reason else "complete"
        elif verdict is not None:
            text = verdict.text.strip()
            moderation = _moderation(verdict)
        if status == "stopped" and live.stop_reason is None:
            live.stop_reason = "user"
        with session_scope(self.db) as session:
            message = session.get(RoomMessage, live.message_id)
            message.content, message.status, message.moderation = text, status, moderation
            session.add(message)
            if verdict is not None:
                self.guard.record(session, verdict, REPLY_SURFACE, message.id, None,
                                  target_type=TARGET_TYPE)
            session.commit()
            payload = {**self.message_payload(session, message), **(extra or {})}
        if status == "error":
            self.emit("room:error", {"code": "generation_failed", "room_id": live.room_id,
                                     "message": "The model failed while writing this turn; "
                                                "trigger the character to try again."},
                      live.target)
        self.emit("room:done", {"room_id": live.room_id, "message": payload}, live.target)
        return status

    def _stop(self, room_id: int, message_id: int, reason: str) -> None:
        self.coordination.stops.request(room_id, message_id, reason)
        live = self._live.get(room_id)
        if live is not None and live.message_id == message_id:  # on this process: at once
            self._cancel(live, reason)

    def _cancel(self, live: LiveTurn, reason: str) -> None:
        if live.stop_reason is None:
            live.stop_reason = reason
        if live.job is not None:
            self.inference.cancel(live.job)

    # -- the assistant's turn -----------------------------------------------------------------
    def _assistant_turn(self, room_id: int, asker_id: int, request_id: int, content: str,
                        lock) -> None:
        private = assistant_room.kind_of(content) == "suggestion"
        with session_scope(self.db) as session:
            member = service.membership(session, room_id, asker_id)
            if member is None:
                return  # they left before the assistant got to them
            last_read = member.last_read_message_id
            seen = service.history(session, asker_id, room_id,
                                   limit=self.settings.get("ROOM_HISTORY_MESSAGES", 100))
            names = service.speaker_names(session, seen)
            messages = [{**service.message_payload(m, names), "private_to": m.private_to}
                        for m in seen if m.status != "blocked" and m.id != request_id]
            placeholder = service.store_message(session, room_id, "assistant", "",
                                                user_id=asker_id, status="streaming",
                                                private_to=asker_id if private else None)
            session.commit()
        target = user_room(asker_id) if private else channel(room_id)
        live = LiveTurn(room_id, placeholder.id, None, target)
        if self.guard is not None and self.guard.check_replies:
            live.safety_context = {"mature_allowed": False, "user_id": asker_id,
                                   "room_id": room_id}
        self.emit("room:turn", {"room_id": room_id, "character_id": None,
                                "message_id": live.message_id, "speaker": "assistant"}, target)
        flat_names = {"users": {k[1]: v for k, v in names.items() if k[0] == "user"},
                      "characters": {k[1]: v for k, v in names.items() if k[0] == "character"}}
        result: dict = {}

        def pieces():
            for piece in assistant_room.respond_stream(self.inference, content, messages,
                                                       asker_id, last_read, flat_names,
                                                       self.embedder):
                if isinstance(piece, dict):
                    result.update(piece)
                    return
                yield piece
        status = "complete"
        try:
            text = self._stream(live, lock, pieces())
        except Exception:
            log.exception("the assistant failed in room %s", room_id)
            text, status = "", "error"
        if live.stop_reason is not None:
            status = "stopped"
        elif result.get("text"):
            text = result["text"].strip()
        verdict = final_verdict(self.guard, live, text) if text else None
        self._store(live, text, status, verdict, "The assistant",
                    extra={"kind": result.get("kind"),
                           "message_ids": list(result.get("message_ids") or [])})
        if result.get("kind") == "catch_up":
            with session_scope(self.db) as session:
                service.mark_read(session, asker_id, room_id, live.message_id)
                session.commit()

    def prompt_for(self, session: Session, room: Room, character: Character,
                   answering: Optional[User]):
        """The prompt of `character`'s next turn in `room`, answering `answering`: what its
        stints saw, in swap mode, at its relationship level with that person."""
        history = service.history_for_character(
            session, room.id, character.id, self.settings.get("ROOM_HISTORY_MESSAGES", 100))
        names = self._names(session, room.id, history)
        return build_room_prompt(session, room, character, history, answering, names,
                                 self.sections, self.inference, self.settings)

    # -- helpers ------------------------------------------------------------------------------
    def _names(self, session: Session, room_id: int, history: list) -> dict:
        names = service.speaker_names(session, history)
        for _member, user in service.members(session, room_id):
            names[("user", user.id)] = user.display_name or user.username
        for stint in service.active_characters(session, room_id):
            character = session.get(Character, stint.character_id)
            names[("character", character.id)] = character.name
        return names


def recover_interrupted_turns(db: Engine, turns: Optional[RoomTurns] = None) -> int:
    """Turns that were streaming when the server last stopped keep their text, as stopped.
    With a shared lock (`turns` given, REDIS_URL) only those of rooms whose lock is free: the
    others are being written by a live process (or are its to recover once its lease lapses)."""
    if turns is None or not turns.coordination.locks.shared:
        return mark_streaming(db, RoomMessage, "stopped")
    with session_scope(db) as session:
        rooms = list(session.exec(select(RoomMessage.room_id).where(
            RoomMessage.status == "streaming").distinct()))
    return sum(turns.recover(room_id) for room_id in rooms)


def _human_lines(room_id: int):
    """People's in-character lines that were shown to the room."""
    return select(RoomMessage).where(RoomMessage.room_id == room_id,
                                     RoomMessage.speaker == "user",
                                     RoomMessage.ooc.is_(False),
                                     RoomMessage.private_to.is_(None),
                                     RoomMessage.status == "complete")


def _moderation(verdict) -> Optional[dict]:
    if verdict is None or verdict.decision.action == "allow" and not verdict.support:
        return None
    d = verdict.decision
    return {"action": d.action, "category": d.category, "rule": d.rule,
            "support": verdict.support_level}


def _keep_alive(lock, expiry: float) -> threading.Event:
    """Extend the room lock every third of its expiry until the returned event is set."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(max(expiry / 3, 0.5)):
            try:
                lock.extend()
            except Exception:
                log.exception("could not extend a room lock")
    threading.Thread(target=beat, daemon=True, name="room-lock").start()
    return done


def _thread(target, *args):
    thread = threading.Thread(target=target, args=args, daemon=True, name="room-turns")
    thread.start()
    return thread
