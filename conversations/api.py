"""REST routes of conversations and messages."""
from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from core.web.request_body import json_body, message_text, positive_int
from conversations import service
from core.auth.csrf import check_csrf
from core.web.db import db_session
from core.errors import Conflict

bp = Blueprint("conversations", __name__, url_prefix="/api")
bp.before_request(check_csrf)


@bp.post("/conversations")
@login_required
def create_conversation():
    character_id = positive_int(json_body(), "character_id")
    session = db_session()
    conversation = service.start_conversation(session, current_user, character_id,
                                              current_app.extensions["kindred.greetings"])
    return jsonify({"conversation": service.conversation_payload(session, conversation)}), 201


@bp.get("/conversations")
@login_required
def list_conversations():
    session = db_session()
    return jsonify({"conversations": [_summary(session, c) for c in
                                      service.list_conversations(session, current_user)]})


@bp.get("/conversations/<int:conversation_id>")
@login_required
def get_conversation(conversation_id: int):
    session = db_session()
    conversation = service.owned_conversation(session, current_user.id, conversation_id)
    payload = service.conversation_payload(session, conversation, _hidden())
    payload["streaming"] = _replies().is_busy(conversation.id)
    return jsonify({"conversation": payload})


@bp.patch("/messages/<int:message_id>")
@login_required
def edit_message(message_id: int):
    content = message_text(json_body().get("content"))
    session = db_session()
    _ensure_idle(session, message_id)
    blocked = notice = None
    if (guard := _replies().guard) is not None:
        message, blocked, notice = guard.edit(session, current_user.id, message_id, content,
                                              request.headers.get("Accept-Language"))
    else:
        message = service.edit_message(session, current_user.id, message_id, content)
    return jsonify({"message": service.message_payload(message, service.siblings_of(session, message)),
                    "conversation": _conversation_of(session, message.conversation_id),
                    "blocked": blocked, "notice": notice})


@bp.delete("/messages/<int:message_id>")
@login_required
def delete_message(message_id: int):
    session = db_session()
    _ensure_idle(session, message_id)
    conversation = service.delete_message(session, current_user.id, message_id)
    return jsonify({"conversation": service.conversation_payload(session, conversation,
                                                                 _hidden())})


@bp.post("/messages/<int:message_id>/select")
@login_required
def select_branch(message_id: int):
    session = db_session()
    _ensure_idle(session, message_id)
    conversation = service.select_branch(session, current_user.id, message_id)
    return jsonify({"conversation": service.conversation_payload(session, conversation,
                                                                 _hidden())})


def _ensure_idle(session, message_id: int) -> None:
    _message, conversation = service.owned_message(session, current_user.id, message_id)
    if _replies().is_busy(conversation.id):
        raise Conflict("busy", "A reply is still being written in this conversation; "
                               "stop it or wait before changing messages.")


def _conversation_of(session, conversation_id: int) -> dict:
    return service.conversation_payload(
        session, service.owned_conversation(session, current_user.id, conversation_id),
        _hidden())


def _summary(session, conversation) -> dict:
    payload = service.conversation_payload(session, conversation, _hidden())
    messages = payload.pop("messages")
    payload["message_count"] = len(messages)
    payload["last_message"] = messages[-1]["content"][:200] if messages else ""
    return payload


def _hidden():
    """Which messages moderation hid (shown as hidden, without their text)."""
    guard = _replies().guard
    return guard.hidden if guard is not None else None


def _replies():
    return current_app.extensions["kindred.replies"]
