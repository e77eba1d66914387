"""Streamed replies: one live generation per conversation, tokens pushed to its room as they come."""
import logging
import threading
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Engine
from sqlmodel import select

from conversations import service
from conversations.prompt import build_prompt
from core.db import session_scope
from core.errors import Conflict
from inference.engine import FINISH_CANCELLED, FINISH_ERROR, GenerationParams, Job
from conversations.models import Conversation, Message
from characters.models import Character

log = logging.getLogger(__name__)

Emit = Callable[[str, dict, str], None]  # (event, payload, room)


def room_for(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


@dataclass
class LiveReply:
    conversation_id: int
    message_id: int | None = None
    job: Job | None = None
    sid: str | None = None
    stop_reason: str | None = None


class ReplyStreamer:
    """Owns every live generation; the Socket.IO handlers and REST routes only call into it."""

    def __init__(self, db: Engine, inference, emit: Emit, settings: dict):
        self.db, self.inference, self.emit, self.settings = db, inference, emit, settings
        self._live: dict[int, LiveReply] = {}
        self._lock = threading.Lock()
        # Domain hooks (wired in app/__init__.py): extras for the prompt, work after a reply.
        self.prompt_extras = None  # (session, conversation, character, history, user_name) -> PromptExtras
        self.after_reply: list[Callable[[int, int], None]] = []  # (conversation_id, reply_id)
        self.prompt_built: list[Callable] = []  # (reply_id, character, prompt): the inspector

    def reserve(self, conversation_id: int, sid: str | None = None) -> LiveReply:
        """Claim the conversation for one reply; a second request while one streams is refused."""
        with self._lock:
            if conversation_id in self._live:
                raise Conflict("busy", "A reply is still being written in this conversation; "
                                       "wait for it or stop it first.")
            live = self._live[conversation_id] = LiveReply(conversation_id, sid=sid)
            return live

    def release(self, live: LiveReply) -> None:
        with self._lock:
            if self._live.get(live.conversation_id) is live:
                del self._live[live.conversation_id]

    def is_busy(self, conversation_id: int) -> bool:
        return conversation_id in self._live

    def start(self, live: LiveReply, parent_id: int, user_name: str) -> None:
        """Create the reply under `parent_id`, queue its generation and stream it in the background."""
        try:
            with session_scope(self.db) as session:
                conversation = session.get(Conversation, live.conversation_id)
                parent = session.get(Message, parent_id)
                history = _path_to(session, parent)
                character = session.get(Character, conversation.character_id)
                placeholder = service.add_reply_placeholder(session, conversation, parent)
                extras = (self.prompt_extras(session, conversation, character, history, user_name)
                          if self.prompt_extras else None)
                prompt = build_prompt(character, history, user_name, self.inference,
                                      self.settings["MAX_CONTEXT_TOKENS"],
                                      self.settings["MAX_NEW_TOKENS"], extras=extras)
            live.message_id = placeholder.id
            live.job = self.inference.submit(prompt.text, self._params(prompt.stop),
                                             cache_key=room_for(live.conversation_id))
        except Exception:
            self.release(live)
            raise
        for hook in self.prompt_built:
            try:
                hook(live.message_id, character, prompt)
            except Exception:
                log.exception("prompt hook %s failed", getattr(hook, "__name__", hook))
        threading.Thread(target=self._stream, args=(live,), daemon=True,
                         name=f"reply-{live.conversation_id}").start()

    def stop(self, conversation_id: int, reason: str = "user") -> bool:
        live = self._live.get(conversation_id)
        if live is None or live.job is None:
            return False
        live.stop_reason = reason
        self.inference.cancel(live.job)
        return True

    def stop_all_for_sid(self, sid: str) -> None:
        for live in list(self._live.values()):
            if live.sid == sid:
                self.stop(live.conversation_id, reason="disconnect")

    def _stream(self, live: LiveReply) -> None:
        room = room_for(live.conversation_id)
        parts: list[str] = []
        try:
            for chunk in live.job:
                parts.append(chunk)
                self.emit("chat:token", {"conversation_id": live.conversation_id,
                                         "message_id": live.message_id, "text": chunk}, room)
        finally:
            self._finish(live, "".join(parts).strip(), room)

    def _finish(self, live: LiveReply, text: str, room: str) -> None:
        job = live.job
        try:
            with session_scope(self.db) as session:
                message = session.get(Message, live.message_id)
                conversation = session.get(Conversation, live.conversation_id)
                if job.finish_reason == FINISH_ERROR and not text:
                    conversation.active_leaf_id = message.parent_id
                    session.add(conversation)
                    session.delete(message)
                    session.commit()
                    payload = None
                else:
                    message.content = text
                    message.status = {FINISH_CANCELLED: "stopped",
                                      FINISH_ERROR: "error"}.get(job.finish_reason, "complete")
                    session.add(message)
                    session.commit()
                    payload = service.message_payload(message, service.siblings_of(session, message))
        finally:
            self.release(live)
        if job.finish_reason == FINISH_ERROR:
            self.emit("chat:error", {"code": "generation_failed", "conversation_id":
                                     live.conversation_id, "message":
                                     "The model failed while writing the reply; your message is "
                                     "saved, so you can try Regenerate."}, room)
        if payload is not None:
            self.emit("chat:done", {"conversation_id": live.conversation_id, "message": payload,
                                    "stopped": job.finish_reason == FINISH_CANCELLED,
                                    "stop_reason": live.stop_reason,
                                    "finish_reason": job.finish_reason,
                                    "tokens": job.tokens_generated}, room)
            for hook in self.after_reply:
                try:
                    hook(live.conversation_id, live.message_id)
                except Exception:  # a failing hook must not take the reply down with it
                    log.exception("after-reply hook %s failed", getattr(hook, "__name__", hook))

    def _params(self, stop: list[str]) -> GenerationParams:
        s = self.settings
        return GenerationParams(max_new_tokens=s["MAX_NEW_TOKENS"], temperature=s["TEMPERATURE"],
                                top_p=s["TOP_P"], top_k=s["TOP_K"],
                                repetition_penalty=s["REPETITION_PENALTY"], stop=stop)


def recover_interrupted_replies(db: Engine) -> int:
    """Replies that were streaming when the server last stopped keep their text, marked as cut."""
    with session_scope(db) as session:
        stale = list(session.exec(select(Message).where(Message.status == "streaming")))
        for message in stale:
            message.status = "interrupted"
            session.add(message)
        session.commit()
        return len(stale)


def _path_to(session, message: Message) -> list[Message]:
    path = []
    while message is not None:
        path.append(message)
        message = session.get(Message, message.parent_id) if message.parent_id else None
    return path[::-1]
