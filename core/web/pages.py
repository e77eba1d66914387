"""Page views: a login redirect for pages (the API answers 401 instead)."""
from functools import wraps

from flask import redirect, request, url_for
from flask_login import current_user

from core.web.redirects import safe_next


def page_login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("main.login", next=safe_next(request.path)))
        return view(*args, **kwargs)
    return wrapper
