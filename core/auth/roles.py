"""Roles: user < moderator < admin. A higher role can do everything a lower one can. No Flask."""
from sqlmodel import Session, select

from core.errors import KindredError, not_found
from core.users import User

ROLES = ("user", "moderator", "admin")


def has_role(role: str, minimum: str) -> bool:
    """Whether `role` is at least `minimum` (an unknown role counts as none)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(minimum)


def grant_role(session: Session, username: str, role: str) -> User:
    """Set a user's role by (case-insensitive) username. Commits."""
    if role not in ROLES:
        raise KindredError("bad_role", f"Roles are {', '.join(ROLES)}; '{role}' is not one.")
    user = session.exec(select(User).where(User.username_key == username.strip().lower())).first()
    if user is None:
        raise not_found("user")
    user.role = role
    session.add(user)
    session.commit()
    return user
