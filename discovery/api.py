"""Discovery routes: the deck, swipes, undo, interests, preferences, and the /discover page.

    GET  /api/deck?n=10&rating=sfw|mature|any&lang=en,fr&tags=a,b&exclude_tags=c
    POST /api/swipes {character_id, direction: left|right|up}   -> 201
    GET  /api/swipes?limit=20                                   (newest first)
    POST /api/swipes/undo
    GET|PUT /api/me/interests {tags: [...]}
    GET|PUT /api/me/discovery {show_mature, blocked_creator_ids}
Settings in config.py: DISCOVERY_PASS_COOLDOWN_HOURS, DISCOVERY_DEAL_TTL_HOURS,
DISCOVERY_REFRESH_SECONDS."""
from datetime import timedelta

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required

from core.web.request_body import json_body, positive_int
from core.auth.csrf import check_csrf
from core.web.db import db_session
from core.errors import KindredError
from core.web.pages import page_login_required
from discovery.deck import DeckFilters, Discovery, swipe_payload

bp = Blueprint("discovery", __name__)
bp.before_request(check_csrf)


@bp.get("/discover")
@page_login_required
def discover_page():
    return render_template("discover.html")


@bp.get("/api/deck")
@login_required
def deck():
    n = _int_arg("n", 10)
    filters = DeckFilters(rating=request.args.get("rating") or None,
                          languages=_list_arg("lang"), include_tags=_list_arg("tags", tag=True),
                          exclude_tags=_list_arg("exclude_tags", tag=True))
    cards = discovery().deal(db_session(), current_user, n, filters)
    return jsonify({"cards": cards})


@bp.post("/api/swipes")
@login_required
def swipe():
    body = json_body()
    character_id = positive_int(body, "character_id")
    direction = body.get("direction")
    if not isinstance(direction, str):
        raise KindredError("bad_direction", "'direction' must be 'left', 'right' or 'up'.")
    outcome = discovery().swipe(db_session(), current_user, character_id, direction,
                                alternate_greetings=current_app.extensions["kindred.greetings"])
    return jsonify({"swipe": swipe_payload(outcome.swipe),
                    "conversation_id": outcome.conversation_id}), 201


@bp.get("/api/swipes")
@login_required
def recent_swipes():
    swipes = discovery().recent_swipes(db_session(), current_user, _int_arg("limit", 20))
    return jsonify({"swipes": [swipe_payload(s) for s in swipes]})


@bp.post("/api/swipes/undo")
@login_required
def undo():
    undone, card = discovery().undo(db_session(), current_user)
    return jsonify({"swipe": swipe_payload(undone), "card": card})


@bp.get("/api/me/interests")
@login_required
def get_interests():
    return jsonify(discovery().interests(db_session(), current_user))


@bp.put("/api/me/interests")
@login_required
def put_interests():
    tags = discovery().set_interests(db_session(), current_user, json_body().get("tags"))
    return jsonify({"tags": tags, "onboarded": True})


@bp.get("/api/me/discovery")
@login_required
def get_preferences():
    return jsonify(discovery().preferences(db_session(), current_user))


@bp.put("/api/me/discovery")
@login_required
def put_preferences():
    body = json_body()
    unknown = set(body) - {"show_mature", "blocked_creator_ids"}
    if unknown:
        raise KindredError("bad_request", f"Unknown field(s) {', '.join(sorted(unknown))}; "
                                          "send 'show_mature' and/or 'blocked_creator_ids'.")
    return jsonify(discovery().set_preferences(
        db_session(), current_user, show_mature=body.get("show_mature"),
        blocked_creator_ids=body.get("blocked_creator_ids")))


def discovery() -> Discovery:
    """The app's Discovery (embedder, catalog, recommender), made on first use."""
    found = current_app.extensions.get("kindred.discovery")
    if found is None:
        found = current_app.extensions.setdefault("kindred.discovery",
                                                  build_discovery(current_app.config))
    return found


def build_discovery(config, embedder=None) -> Discovery:
    return Discovery(
        embedder=embedder,
        pass_cooldown=timedelta(hours=config["DISCOVERY_PASS_COOLDOWN_HOURS"]),
        deal_ttl=timedelta(hours=config["DISCOVERY_DEAL_TTL_HOURS"]),
        refresh_seconds=config["DISCOVERY_REFRESH_SECONDS"])


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise KindredError("bad_request", f"'{name}' must be a whole number.") from None


def _list_arg(name: str, tag: bool = False) -> tuple[str, ...]:
    values = []
    for raw in request.args.getlist(name):
        for item in raw.split(","):
            item = item.strip()
            if tag:
                item = item.lstrip("#").lower()
            if item and item not in values:
                values.append(item)
    return tuple(values)
