from datetime import datetime, timezone

from flask import current_app, render_template, request
from flask_login import current_user

from billing.ads import house_ad_for
from core.auth.csrf import csrf_token
from core.db import utcnow
from conversations import service
from curation.picks import public_picks
from core.web.pages import page_login_required
from core.web.redirects import safe_next
from core.web.db import db_session
from app.main import bp


@bp.app_context_processor
def inject_csrf():
    return {"csrf_token": csrf_token if current_user.is_authenticated else lambda: ""}


@bp.get("/login")
def login():
    return render_template("auth.html", mode="login", next=safe_next(request.args.get("next")))


@bp.get("/signup")
def signup():
    return render_template("auth.html", mode="signup", next=safe_next(request.args.get("next")),
                           current_year=datetime.now(timezone.utc).year)


@bp.get("/")
@page_login_required
def index():
    picks = public_picks(db_session(), current_app.config.get("PICKS_LIMIT", 12))
    user = current_user if current_user.is_authenticated else None
    return render_template("index.html", picks=picks,
                           house_ad=house_ad_for(db_session(), user, current_app.config,
                                                 utcnow().date()))


@bp.get("/chat/<int:conversation_id>")
@page_login_required
def chat(conversation_id: int):
    service.owned_conversation(db_session(), current_user.id, conversation_id)  # 404 if not ours
    return render_template("chat.html", conversation_id=conversation_id)
