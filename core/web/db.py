"""The app's database engine and the per-request session."""
from flask import current_app, g
from sqlmodel import Session


def db_engine():
    return current_app.extensions["kindred.db"]


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = Session(db_engine(), expire_on_commit=False)
    return g.db_session


def close_db_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
