"""Logins: one row per signed-in browser, so that a session can be revoked on the server.

The cookie (the Flask session, and the remember-me cookie) carries "<login id>:<token>"; the
database keeps only the token's SHA-256. Logging out, changing the password or "log out
everywhere" revokes rows, and a revoked or expired row signs nobody in, whatever cookie is
replayed. No Flask here."""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlmodel import Field, Session, SQLModel, select

from core.db import UTCDateTime, is_id, utcnow
from core.users import User


class Login(SQLModel, table=True):
    __tablename__ = "logins"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64)
    remember: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class SignedIn:
    """Who a request belongs to: plain values, detached from any database session."""
    id: int
    username: str
    login_id: int
    role: str = "user"


def open_login(session: Session, user: User, *, remember: bool, days: int) -> str:
    """A new login for `user`; returns the credential the cookies carry. Commits."""
    token = secrets.token_urlsafe(32)
    login = Login(user_id=user.id, token_hash=_digest(token), remember=remember,
                  expires_at=utcnow() + timedelta(days=days))
    session.add(login)
    session.commit()
    return f"{login.id}:{token}"


def resolve(session: Session, credential) -> Optional[SignedIn]:
    """The signed-in user behind a cookie's credential, or None if it is unknown, forged,
    revoked or expired."""
    login_id, token = _parse(credential)
    if login_id is None:
        return None
    login = session.get(Login, login_id)
    if login is None or login.revoked_at is not None or login.expires_at <= utcnow() \
            or not hmac.compare_digest(login.token_hash, _digest(token)):
        return None
    user = session.get(User, login.user_id)
    return None if user is None else SignedIn(user.id, user.username, login.id, user.role)


def revoke(session: Session, login_id: int) -> None:
    """End one login (log out). Commits."""
    login = session.get(Login, login_id)
    if login is not None and login.revoked_at is None:
        login.revoked_at = utcnow()
        session.add(login)
    session.commit()


def revoke_all(session: Session, user_id: int, keep: Optional[int] = None, *,
               commit: bool = True) -> list[int]:
    """End every live login of the user but `keep`; returns the ids of those that ended."""
    query = select(Login).where(Login.user_id == user_id, Login.revoked_at.is_(None))
    ended = []
    for login in session.exec(query):
        if login.id != keep:
            login.revoked_at = utcnow()
            session.add(login)
            ended.append(login.id)
    if commit:
        session.commit()
    return ended


def _parse(credential) -> tuple[Optional[int], str]:
    if not isinstance(credential, str) or ":" not in credential:
        return None, ""
    raw_id, token = credential.split(":", 1)
    if not raw_id.isdigit() or len(raw_id) > 10 or not is_id(int(raw_id)) or not token:
        return None, ""
    return int(raw_id), token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
