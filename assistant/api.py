"""The help desk's routes (the assistant blueprint), thin: parse, screen, call the service.

    POST /api/help/ask {question}                -> {answer, sources: [{page, heading, url}],
                                                    confident}
    POST /api/help/tickets {question, details?}  -> 201 {ticket}
Pages: /help (the help desk), /help/docs/<page> (a docs/ page, the sources' links)."""
from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from assistant import tickets
from assistant.doc_pages import render_page
from assistant.helpdesk import check_question
from assistant.screening import screen
from core.auth.csrf import check_csrf
from core.extensions import limiter
from core.users import User, check_standing
from core.web.db import db_session
from core.web.pages import page_login_required
from core.web.request_body import json_body

bp = Blueprint("assistant", __name__)
SUPPORT_NOTE = ("If you are going through something hard right now, you are not alone: please "
                "reach out to someone you trust or a local helpline.")


@bp.before_request
def _login_then_csrf():
    """Not logged in is a 401 before the CSRF check (which would answer 403)."""
    if request.path.startswith("/api/") and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    check_csrf()


@bp.post("/api/help/ask")
@login_required
@limiter.limit(lambda: current_app.config["HELP_ASK_RATE_LIMIT"], scope="help-ask",
               key_func=lambda: str(getattr(current_user, "id", None)))
def ask():
    question = check_question(json_body().get("question"))
    question, support = screen(_moderator(), _me(), question, "question")
    result = current_app.extensions["kindred.helpdesk"].ask(question)
    for source in result["sources"]:
        anchor = source.pop("anchor")
        source["url"] = url_for("assistant.doc_page", page=source["page"]) + \
            (f"#{anchor}" if anchor else "")
    if support:
        result["answer"] = f"{SUPPORT_NOTE}\n\n{result['answer']}"
        result["support"] = True
    return jsonify(result)


@bp.post("/api/help/tickets")
@login_required
def open_ticket():
    body = json_body()
    question, details = tickets.check_ticket(body.get("question"), body.get("details"))
    user = _me()
    check_standing(user, "open a support ticket")
    question, _ = screen(_moderator(), user, question, "question")
    details, _ = screen(_moderator(), user, details, "details")
    made = tickets.open_ticket(db_session(), current_user.id, question, details)
    return jsonify({"ticket": tickets.ticket_payload(made)}), 201


@bp.get("/help")
@page_login_required
def help_page():
    return render_template("help.html")


@bp.get("/help/docs/<page>")
@page_login_required
def doc_page(page: str):
    index = current_app.extensions["kindred.helpdesk"].index
    path = index.page_path(page)
    if path is None:
        abort(404)
    title, html = render_page(path)
    return render_template("help_doc.html", title=title, html=html, page=page)


def _me() -> User:
    return db_session().get(User, current_user.id)


def _moderator():
    return current_app.extensions.get("kindred.moderator")
