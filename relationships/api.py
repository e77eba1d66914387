"""Relationship routes: the bond with a character, gifts and level-unlocked cards, memories,
stories, what the studio's relationship editor loads, and the memory page."""
import uuid

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required

from core.db import is_id
from core.web.request_body import json_body
from core.auth.csrf import check_csrf
from conversations import service as chat
from core.web.db import db_session
from core.errors import Conflict, KindredError
from core.web.errors import replayed_response
from core.web.pages import page_login_required
from characters.models import Character
from characters.service import owned_character, visible_character
from characters.stories import STORIES_EXTENSION, story_problems
from gacha import collection
from relationships import affinity, cards, memory, story, unlocks
from relationships.affinity import levels_from
from relationships.hooks import room_for
from relationships.models import Story

bp = Blueprint("relationships", __name__)
bp.before_request(check_csrf)


@bp.get("/api/relationships/<int:character_id>")
@login_required
def get_relationship(character_id: int):
    session = db_session()
    return jsonify(unlocks.relationship_state(session, _settings(), current_user.id,
                                              _visible_character(character_id)))


@bp.post("/api/relationships/<int:character_id>/gift")
@login_required
def give_card(character_id: int):
    """{card_id, idempotency_key?} -> one owned copy of the character's own card is given; the
    affinity it earns, and relationship:level_up (HTTP and Socket.IO) if a level is reached."""
    session = db_session()
    character = _visible_character(character_id)
    body = json_body()
    gift = cards.give_card(session, _settings(), current_user.id, character, body.get("card_id"),
                           body.get("idempotency_key") or f"auto-{uuid.uuid4()}")
    level_up = _hooks().announce_to_user(session, current_user.id, character, gift.award)
    levels = levels_from(_settings())
    result = {"gift": {"transaction_id": gift.transaction_id,
                       "card": collection.card_payload(gift.card, character),
                       "owned": collection.owned_count(session, current_user.id, gift.card.id)},
              "points": gift.award.points, "notes": gift.award.notes,
              "affinity": gift.award.affinity, "level": gift.award.level_after,
              "level_name": levels.name(gift.award.level_after),
              "next_level_at": levels.next_at(gift.award.level_after), "level_up": level_up}
    if gift.replayed:
        return replayed_response("gift", "given", result)
    return jsonify(result)


@bp.post("/api/relationships/<int:character_id>/claim")
@login_required
def claim_card(character_id: int):
    """{card_id} -> the free copy of a card the user's level with the character unlocks."""
    session = db_session()
    character = _visible_character(character_id)
    move = cards.claim_card(session, _settings(), current_user.id, character,
                            json_body().get("card_id"))
    return jsonify({"card": collection.card_payload(move.card, character),
                    "transaction_id": move.transaction.id,
                    "owned": collection.owned_count(session, current_user.id, move.card.id)}), 201


@bp.get("/api/memories")
@login_required
def list_memories():
    session = db_session()
    character_id = _query_id("character_id")
    if character_id is not None:
        _visible_character(character_id)
    names = {}
    rows = memory.list_memories(session, current_user.id, character_id)
    for row in rows:
        if row.character_id not in names:
            names[row.character_id] = session.get(Character, row.character_id).name
    return jsonify({"memories": [memory.memory_payload(m, names[m.character_id]) for m in rows]})


@bp.patch("/api/memories/<int:memory_id>")
@login_required
def edit_memory(memory_id: int):
    session = db_session()
    row = memory.owned_memory(session, current_user.id, memory_id)
    body = json_body()
    row = memory.update_memory(session, _hooks().embedder, row, body)
    return jsonify({"memory": memory.memory_payload(row, session.get(Character, row.character_id).name)})


@bp.delete("/api/memories/<int:memory_id>")
@login_required
def delete_memory(memory_id: int):
    session = db_session()
    memory.delete_memory(session, memory.owned_memory(session, current_user.id, memory_id))
    return jsonify({"deleted": memory_id})


@bp.get("/api/characters/<int:character_id>/stories")
@login_required
def list_stories(character_id: int):
    session = db_session()
    character = _visible_character(character_id)
    levels = levels_from(_settings())
    level = affinity.peek(session, current_user.id, character.id)[1]
    rows = story.sync_stories(session, character, levels)
    payloads = [story.story_summary(s, levels, level,
                                    unlocks.progress_for(session, current_user.id, s.id))
                for s in rows]
    _add_price_tags(session, payloads, character)
    return jsonify({"stories": payloads})


@bp.post("/api/stories/<int:story_id>/start")
@login_required
def start_story(story_id: int):
    session = db_session()
    progress, resumed = story.start_story(session, _settings(), current_user, story_id,
                                          current_app.extensions.get("kindred.story_unlocked"))
    return jsonify({"progress": _progress(session, progress), "resumed": resumed,
                    "conversation_id": progress.conversation_id}), 200 if resumed else 201


@bp.get("/api/story-progress")
@login_required
def progress_of_conversation():
    """?conversation_id= -> the story played in that conversation, or null."""
    session = db_session()
    conversation_id = _query_id("conversation_id")
    if conversation_id is None:
        raise KindredError("bad_request", "Pass ?conversation_id=<positive integer id>.")
    chat.owned_conversation(session, current_user.id, conversation_id)
    progress = story.active_progress(session, conversation_id)
    return jsonify({"progress": _progress(session, progress) if progress else None})


@bp.get("/api/story-progress/<int:progress_id>")
@login_required
def get_progress(progress_id: int):
    session = db_session()
    return jsonify({"progress": _progress(session, story.owned_progress(session, current_user.id,
                                                                        progress_id))})


@bp.post("/api/story-progress/<int:progress_id>/choose")
@login_required
def choose(progress_id: int):
    session = db_session()
    choice_id = json_body().get("choice_id")
    progress = story.owned_progress(session, current_user.id, progress_id)
    if progress.conversation_id is not None and _replies().is_busy(progress.conversation_id):
        raise Conflict("busy", "A reply is still being written in this story; wait for it or "
                               "stop it before choosing.")
    progress, award = story.choose(session, _settings(), current_user, progress_id, choice_id,
                                   current_app.extensions.get("kindred.story_unlocked"))
    payload = _progress(session, progress)
    room = room_for(progress.conversation_id)
    character = session.get(Character, session.get(Story, progress.story_id).character_id)
    _hooks().announce(session, current_user.id, character, award, room)
    _hooks().emit("story:update", {"conversation_id": progress.conversation_id,
                                   "progress": payload}, room)
    conversation = chat.owned_conversation(session, current_user.id, progress.conversation_id)
    return jsonify({"progress": payload, "points": award.points,
                    "conversation": chat.conversation_payload(session, conversation)})


@bp.get("/api/studio/relationship-setup")
@login_required
def relationship_setup():
    """?character_id= (optional) -> the configured levels and, for the creator's own character,
    its extensions (notes and stories as stored) with what keeps a stored story from loading:
    what the studio's relationship editor needs to fill itself and merge on save."""
    session = db_session()
    levels = levels_from(_settings())
    result = {"levels": [{"level": i, "name": name, "at": at}
                         for i, (name, at) in enumerate(zip(levels.names, levels.thresholds))],
              "extensions": None, "story_problems": []}
    character_id = _query_id("character_id")
    if character_id is not None:
        extensions = owned_character(session, current_user.id, character_id).extensions or {}
        result["extensions"] = extensions
        if STORIES_EXTENSION in extensions:
            result["story_problems"] = story_problems(extensions[STORIES_EXTENSION], levels.names)
    return jsonify(result)


@bp.get("/memories")
@page_login_required
def memories_page():
    return render_template("memories.html")


def _progress(session, progress) -> dict:
    levels = levels_from(_settings())
    row = session.get(Story, progress.story_id)
    level = affinity.peek(session, progress.user_id, row.character_id)[1]
    names = (session.get(Character, row.character_id).name, current_user.username)
    return story.progress_payload(progress, row, levels, level, names)


def _add_price_tags(session, payloads: list[dict], character: Character) -> None:
    """Paid content (billing, through app/wiring.py): each story's price in gems (None: free),
    whether the user bought it, whether it is open to them all through (free, bought or their
    own) and whether its first chapter is a free preview."""
    tags_for = current_app.extensions.get("kindred.price_tags")
    tags = tags_for(session, current_user.id, "story", [p["id"] for p in payloads]) \
        if tags_for else {}
    for payload in payloads:
        tag = tags.get(payload["id"], {"price": None, "purchased": False})
        payload.update(price=tag["price"], purchased=tag["purchased"],
                       unlocked=(tag["price"] is None or tag["purchased"]
                                 or character.creator_id == current_user.id),
                       free_preview=tag["price"] is not None and payload["chapters"] > 1)


def _visible_character(character_id: int) -> Character:
    return visible_character(db_session(), character_id, current_user.id)


def _query_id(name: str):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 10 or not is_id(int(raw)):
        raise KindredError("bad_request", f"'{name}' must be a positive integer id.")
    return int(raw)


def _settings():
    return current_app.config


def _hooks():
    return current_app.extensions["kindred.relationships"]


def _replies():
    return current_app.extensions["kindred.replies"]
