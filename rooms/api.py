"""Rooms routes (the rooms blueprint), thin: parse, call the service, shape JSON.

    POST   /api/rooms {title, character_ids, strategy?, scenario?, assistant?}  -> 201 {room}
    GET    /api/rooms                                 the rooms I am a member of
    GET    /api/rooms/<id>                            members only, otherwise 404
    PATCH  /api/rooms/<id> {title?, strategy?, scenario?, auto_continue?, visibility?,
           listed_tag?, add_character_ids?,
           remove_character_ids?, mute_character_ids?, unmute_character_ids?}   owner only
    POST   /api/rooms/<id>/invites {max_uses?, expires_in_hours?} -> 201 {token, url, expires_at}
    POST   /api/invites/<token>/accept               -> {room, joined}
    GET    /api/rooms/listed?tag=                    rooms their owners listed, anyone may join
    POST   /api/rooms/<id>/join                      join a listed room -> {room, joined}
    DELETE /api/rooms/<id>/members/<user_id>         kick (owner) or leave (yourself)
    GET    /api/rooms/<id>/messages?before=&limit=   history, oldest first
    GET    /api/rooms/<id>/export                    SillyTavern group chat JSONL
Pages: /rooms, /rooms/<id>, /invite/<token>."""
import re

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from core.auth.csrf import check_csrf
from core.db import is_id
from core.errors import KindredError
from core.users import User
from core.web.db import db_session
from core.web.pages import page_login_required
from core.web.request_body import json_body
from rooms import export, invites, service

bp = Blueprint("rooms", __name__)
bp.before_request(check_csrf)

MAX_PAGE = 200


@bp.post("/api/rooms")
@login_required
def create_room():
    session = db_session()
    room = service.create_room(session, _guard(), _me(session), json_body(), _limits())
    return jsonify({"room": service.room_payload(session, room)}), 201


@bp.get("/api/rooms")
@login_required
def my_rooms():
    session = db_session()
    return jsonify({"rooms": [service.room_summary(session, room)
                              for room in service.my_rooms(session, current_user.id)]})


@bp.get("/api/rooms/<int:room_id>")
@login_required
def get_room(room_id: int):
    session = db_session()
    room = service.member_room(session, current_user.id, room_id)
    return jsonify({"room": service.room_payload(session, room, _online(room.id))})


@bp.patch("/api/rooms/<int:room_id>")
@login_required
def update_room(room_id: int):
    session = db_session()
    room = service.update_room(session, _guard(), _me(session), room_id, json_body())
    return jsonify({"room": service.room_payload(session, room)})


@bp.post("/api/rooms/<int:room_id>/invites")
@login_required
def create_invite(room_id: int):
    session = db_session()
    body = json_body(optional=True)
    invite = invites.create_invite(session, _me(session), room_id, body.get("max_uses"),
                                   body.get("expires_in_hours"))
    url = url_for("rooms.invite_page", token=invite.token, _external=True)
    return jsonify(invites.invite_payload(invite, url)), 201


@bp.post("/api/invites/<token>/accept")
@login_required
def accept_invite(token: str):
    session = db_session()
    room, joined = invites.accept_invite(session, _me(session), token, _limits())
    return jsonify({"room": service.room_payload(session, room), "joined": joined})


@bp.get("/api/rooms/listed")
@login_required
def listed_rooms():
    session = db_session()
    tag = request.args.get("tag")
    return jsonify({"rooms": [service.room_summary(session, room)
                              for room in service.listed_rooms(session, tag)]})


@bp.post("/api/rooms/<int:room_id>/join")
@login_required
def join_room(room_id: int):
    session = db_session()
    room, joined = service.join_listed_room(session, _me(session), room_id, _limits())
    return jsonify({"room": service.room_payload(session, room), "joined": joined})


@bp.delete("/api/rooms/<int:room_id>/members/<int:user_id>")
@login_required
def remove_member(room_id: int, user_id: int):
    session = db_session()
    service.remove_member(session, current_user.id, room_id, user_id)
    return jsonify({"removed": {"room_id": room_id, "user_id": user_id}})


@bp.get("/api/rooms/<int:room_id>/messages")
@login_required
def room_messages(room_id: int):
    session = db_session()
    before = _query_int("before", None)
    limit = min(_query_int("limit", service.HISTORY_PAGE), MAX_PAGE)
    messages = service.history(session, current_user.id, room_id, before, limit)
    names = service.speaker_names(session, messages)
    return jsonify({"messages": [service.message_payload(m, names) for m in messages],
                    "has_more": len(messages) == limit})


@bp.get("/api/rooms/<int:room_id>/export")
@login_required
def export_room(room_id: int):
    session = db_session()
    room = service.member_room(session, current_user.id, room_id)
    body = export.export_jsonl(session, room, _me(session))
    filename = (re.sub(r"[^A-Za-z0-9 _-]+", "", room.title).strip() or f"room {room.id}")[:60]
    return Response(body, mimetype="application/jsonl", headers={
        "Content-Disposition": f'attachment; filename="{filename}.jsonl"'})


@bp.get("/rooms")
@page_login_required
def rooms_page():
    return render_template("rooms.html")


@bp.get("/rooms/<int:room_id>")
@page_login_required
def room_page(room_id: int):
    service.member_room(db_session(), current_user.id, room_id)
    return render_template("room.html", room_id=room_id)


@bp.get("/invite/<token>")
@page_login_required
def invite_page(token: str):
    return render_template("rooms.html", invite_token=token)


def _me(session) -> User:
    return session.get(User, current_user.id)


def _limits():
    """The owner's room limits, wired by the app (billing's entitlements); None: no limit."""
    return current_app.extensions.get("kindred.room_limits")


def _guard():
    """The chat's safety check point, which room messages go through too."""
    replies = current_app.extensions.get("kindred.replies")
    return getattr(replies, "guard", None)


def _online(room_id: int) -> list[int]:
    """Who has a socket in the room now (rooms.locks presence, shared through Redis)."""
    turns = current_app.extensions.get("kindred.rooms")
    return turns.coordination.presence.online(room_id) if turns is not None else []


def _query_int(name: str, default):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw) if raw.isdigit() else None
    if not is_id(value):
        raise KindredError("bad_query", f"'{name}' is a positive whole number.")
    return value
