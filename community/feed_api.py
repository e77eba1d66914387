"""The feed routes (docs/community.md, "The feed"). Settings in config.py: FEED_*.

    GET /api/feed?tab=for_you|following|new|trending&cursor=&limit=   {posts, next_cursor}
                  (the first page, without a cursor, also has `picks` when there are any and
                  the app wires a provider of editors' picks as extensions["kindred.feed_picks"])
    GET /api/characters/<id>/posts?cursor=&limit=                     {posts, next_cursor}"""
from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required

from community.cursor import RedisSnapshotStore
from community.feed import DEFAULT_LIMIT, Feed
from community.ranking import FeedSettings
from core.errors import KindredError
from core.extensions import socketio
from core.web.db import db_session
from discovery.api import discovery

bp = Blueprint("community_feed", __name__)


@bp.get("/api/feed")
@login_required
def feed_page():
    page = feed().page(db_session(), current_user, request.args.get("tab", "for_you"),
                       request.args.get("cursor") or None, _limit())
    provider = current_app.extensions.get("kindred.feed_picks")
    picks = provider(db_session(), current_user) if provider and not request.args.get("cursor") \
        else None
    if picks:  # no picks: the page is exactly {posts, next_cursor}, as always
        page = {**page, "picks": picks}
    return jsonify(page)


@bp.get("/api/characters/<int:character_id>/posts")
@login_required
def character_posts(character_id: int):
    """The posts about a character or by it, newest first, with the feed's filters."""
    return jsonify(feed().character_posts(db_session(), current_user, character_id,
                                          request.args.get("cursor") or None, _limit()))


def _limit() -> int:
    raw_limit = request.args.get("limit")
    try:
        return int(raw_limit) if raw_limit is not None else DEFAULT_LIMIT
    except ValueError:
        raise KindredError("bad_request", "'limit' must be a whole number.") from None


def feed() -> Feed:
    """The app's Feed (post index, snapshots, and the app's Discovery), made on first use."""
    found = current_app.extensions.get("kindred.feed")
    if found is None:
        spawn = None if current_app.testing else socketio.start_background_task
        found = current_app.extensions.setdefault(
            "kindred.feed", build_feed(current_app.config, discovery(), spawn))
    return found


def build_feed(config, discovery_service, spawn=None) -> Feed:
    """`spawn` runs the periodic reload of counts off the request (socketio's background task);
    None runs it inline."""
    settings = FeedSettings(
        trending_half_life_hours=config["FEED_TRENDING_HALF_LIFE_HOURS"],
        explore_share=config["FEED_EXPLORE_SHARE"])
    ttl = config["FEED_SNAPSHOT_TTL_SECONDS"]
    snapshots = None
    if config.get("REDIS_URL"):  # several processes: every one reads every scroll's snapshot
        import redis
        snapshots = RedisSnapshotStore(redis.Redis.from_url(config["REDIS_URL"]), ttl)
    return Feed(discovery_service, settings, refresh_seconds=config["FEED_REFRESH_SECONDS"],
                stats_seconds=config["FEED_STATS_SECONDS"], snapshot_ttl=ttl, spawn=spawn,
                snapshots=snapshots)
