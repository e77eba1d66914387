"""Accounts: validated usernames, hashed passwords. No Flask here."""
import re

from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from core import events
from core.auth import logins
from core.errors import KindredError
from core.event_types import UserSignedUp
from core.db import utcnow
from core.users import MIN_SIGNUP_AGE, User

USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{2,31}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 128


def sign_up(session: Session, username, password, birth_year=None,
            fingerprint: str | None = None) -> User:
    username, password = _validated(username, password)
    if birth_year is not None:
        birth_year = validated_birth_year(birth_year)
    if session.exec(select(User).where(User.username_key == username.lower())).first():
        raise KindredError("username_taken", f"The username '{username}' is taken; pick another.",
                           409)
    user = User(username=username, username_key=username.lower(),
                password_hash=generate_password_hash(password), birth_year=birth_year,
                signup_fingerprint=fingerprint)
    session.add(user)
    session.flush()
    events.record(session, UserSignedUp(user.id, user.username))
    session.commit()
    return user


def authenticate(session: Session, username, password) -> User:
    failed = KindredError("bad_credentials", "Wrong username or password.", 401)
    if not isinstance(username, str) or not isinstance(password, str):
        raise failed
    user = session.exec(select(User).where(User.username_key == username.strip().lower())).first()
    if user is None or not check_password_hash(user.password_hash, password):
        raise failed
    if user.banned_at is not None:  # told only to someone who knows the password
        raise KindredError("banned", "This account is banned for breaking the community rules "
                                     "(/rules); it cannot log in.", 403)
    return user


def change_password(session: Session, user_id: int, current_password, new_password, *,
                    keep_login: int) -> list[int]:
    """Set a new password after checking the current one, and end every other login of the
    user (the one making the change, `keep_login`, stays). One transaction; returns the ids of
    the logins that ended."""
    user = session.get(User, user_id)
    if user is None or not isinstance(current_password, str) or \
            not check_password_hash(user.password_hash, current_password):
        raise KindredError("bad_credentials", "The current password is wrong.", 403)
    if not isinstance(new_password, str) or \
            not MIN_PASSWORD <= len(new_password) <= MAX_PASSWORD:
        raise KindredError("invalid_password",
                           f"Passwords are {MIN_PASSWORD} to {MAX_PASSWORD} characters long.")
    user.password_hash = generate_password_hash(new_password)
    session.add(user)
    ended = logins.revoke_all(session, user.id, keep=keep_login, commit=False)
    session.commit()
    return ended


def validated_birth_year(value, today=None) -> int:
    """A plausible birth year of someone old enough to sign up (MIN_SIGNUP_AGE)."""
    today = today or utcnow()
    if not isinstance(value, int) or isinstance(value, bool) or \
            not today.year - 120 <= value <= today.year:
        raise KindredError("bad_birth_year", f"'birth_year' must be a year between "
                                             f"{today.year - 120} and {today.year}.")
    if today.year - value < MIN_SIGNUP_AGE:
        raise KindredError("too_young", f"Kindred is for people {MIN_SIGNUP_AGE} and older.",
                           403)
    return value


def set_birth_year(session: Session, user_id: int, birth_year) -> User:
    """Give the birth year once; after that only an operator changes it (so an account cannot
    age itself into mature content). Commits."""
    user = session.get(User, user_id)
    if user.birth_year is not None:
        raise KindredError("age_already_set", "Your birth year is already set; ask a moderator "
                                              "if it is wrong.", 409)
    user.birth_year = validated_birth_year(birth_year)
    session.add(user)
    session.commit()
    return user


def _validated(username, password) -> tuple[str, str]:
    if not isinstance(username, str) or not USERNAME.match(username.strip()):
        raise KindredError("invalid_username", "Usernames are 3-32 characters: letters, digits, "
                                               "'_', '.' and '-', starting with a letter, digit "
                                               "or '_'.")
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise KindredError("invalid_password",
                           f"Passwords are {MIN_PASSWORD} to {MAX_PASSWORD} characters long.")
    return username.strip(), password
