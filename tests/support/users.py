"""Changing a user's row directly, for tests that need a state no API gives (a suspension)."""
from sqlmodel import Session, select

from core.users import User


def update_user(db, username: str, **fields) -> None:
    with Session(db) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        for name, value in fields.items():
            setattr(user, name, value)
        session.add(user)
        session.commit()
