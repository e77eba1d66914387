from functools import wraps

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.csrf import csrf_token
from app.chat import service
from app.database import db_session
from app.main import bp


def page_login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("main.login", next=request.path))
        return view(*args, **kwargs)
    return wrapper


@bp.app_context_processor
def inject_csrf():
    return {"csrf_token": csrf_token if current_user.is_authenticated else lambda: ""}


@bp.get("/login")
def login():
    return render_template("auth.html", mode="login")


@bp.get("/signup")
def signup():
    return render_template("auth.html", mode="signup")


@bp.get("/")
@page_login_required
def index():
    return render_template("index.html")


@bp.get("/chat/<int:conversation_id>")
@page_login_required
def chat(conversation_id: int):
    service.owned_conversation(db_session(), current_user.id, conversation_id)  # 404 if not ours
    return render_template("chat.html", conversation_id=conversation_id)
