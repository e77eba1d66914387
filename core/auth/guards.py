"""Route guards by role: 401 without a login, 403 `forbidden` below the role."""
from functools import wraps

from flask_login import current_user, login_required

from core.auth.roles import has_role
from core.errors import KindredError


def role_required(minimum: str):
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not has_role(current_user.role, minimum):
                raise KindredError("forbidden", f"Only a {minimum} may do this.", 403)
            return view(*args, **kwargs)
        return wrapper
    return decorate
