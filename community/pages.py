"""Community pages (the community_pages blueprint), thin: each renders a template whose script
loads everything else from the REST API (docs/community.md "Pages").

    /feed                the feed, with its tabs
    /posts/<id>          one post and its comments (404 if the viewer cannot see it)
    /characters/<id>     a character: its profile, the posts about it and its remix lineage"""
from flask import Blueprint, render_template
from flask_login import current_user

from characters.service import visible_character
from community.posts import visible_post
from core.web.db import db_session
from core.web.pages import page_login_required

bp = Blueprint("community_pages", __name__)

FEED_TABS = (("for_you", "For you"), ("following", "Following"), ("new", "New"),
             ("trending", "Trending"))


@bp.get("/feed")
@page_login_required
def feed_page():
    return render_template("feed.html", tabs=FEED_TABS)


@bp.get("/posts/<int:post_id>")
@page_login_required
def post_page(post_id: int):
    visible_post(db_session(), post_id, current_user._get_current_object())  # 404 if not seen
    return render_template("post.html", post_id=post_id)


@bp.get("/characters/<int:character_id>")
@page_login_required
def character_page(character_id: int):
    character = visible_character(db_session(), character_id, current_user.id)
    return render_template("character.html", character_id=character.id,
                           character_name=character.name)
