"""Routes of continuing shared chats and of the topic of the day, thin: parse, call the service,
shape the answer.

    POST /api/posts/<id>/continue          -> 201 {conversation}: your own chat, seeded with the post's exchange
    GET  /api/community/topic              -> {topic: {day, prompt, source, answer_post_ids, scene_post_id}}
    POST /api/admin/community/topic        {prompt, day?} (admins) -> 201 {topic}"""
from datetime import date

from flask import Blueprint, jsonify
from flask_login import current_user, login_required

from community import topics
from community.continue_chat import continue_post
from conversations.service import conversation_payload
from core.auth.csrf import check_csrf
from core.auth.guards import role_required
from core.db import utcnow
from core.errors import KindredError, check_known_fields
from core.web.db import db_session
from core.web.request_body import json_body

bp = Blueprint("community_members", __name__)
bp.before_request(check_csrf)


@bp.post("/api/posts/<int:post_id>/continue")
@login_required
def continue_shared_chat(post_id: int):
    session = db_session()
    conversation = continue_post(session, current_user.id, post_id)
    return jsonify({"conversation": conversation_payload(session, conversation)}), 201


@bp.get("/api/community/topic")
def todays_topic():
    return jsonify({"topic": topics.day_topic_json(db_session(), utcnow().date())})


@bp.post("/api/admin/community/topic")
@role_required("admin")
def set_topic():
    body = json_body()
    check_known_fields(body, {"prompt", "day"},
                       "send 'prompt' and optionally 'day' (YYYY-MM-DD).")
    session = db_session()
    topic = topics.set_topic(session, body.get("prompt"), _day(body.get("day")))
    return jsonify({"topic": topics.topic_json(session, topic)}), 201


def _day(value) -> date:
    if value is None:
        return utcnow().date()
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _bad_day()
    except ValueError:
        return _bad_day()


def _bad_day():
    raise KindredError("bad_day", "'day' is a date as YYYY-MM-DD, today or later.")
