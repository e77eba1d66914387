"""Discovery fixtures: the app checks its catalog on every deal (no 5 s refresh window), the seeded
cast is backdated 60 days (so nothing is "new" and exploration stays out of the way unless a test
adds a new character), and a helper adds characters straight to the database."""
import itertools
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from core.db import session_scope, utcnow
from discovery.api import build_discovery
from discovery.embeddings import default_embedder
from characters.models import Character

_names = itertools.count(1)


class MemoEmbedder:
    """The real MiniLM embedder, remembering texts already embedded (tests re-seed the same
    cast for every test; one CPU thread makes each encode take seconds)."""
    name, dim = default_embedder().name, default_embedder().dim

    def __init__(self):
        self.memo = {}

    def encode(self, texts):
        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            self.memo.update(zip(todo, default_embedder().encode(todo)))
        return np.stack([self.memo[t] for t in texts]) if texts else default_embedder().encode([])


MEMO_EMBEDDER = MemoEmbedder()


@pytest.fixture
def app_config(app_config):
    return type("DiscoveryTestConfig", (app_config,), {"DISCOVERY_REFRESH_SECONDS": 0})


@pytest.fixture
def app(app):
    with session_scope(app.extensions["kindred.db"]) as session:
        session.execute(sa.update(Character).values(created_at=utcnow() - timedelta(days=60),
                                                    updated_at=utcnow() - timedelta(days=60)))
        session.commit()
    app.extensions["kindred.discovery"] = build_discovery(app.config, MEMO_EMBEDDER)
    return app


@pytest.fixture
def add_character(app):
    """add_character(name=..., tags=[...], description=..., content_rating=..., language=...,
    creator_id=..., visibility=..., age_days=...) -> id"""
    def add(name=None, tags=("misc",), age_days=60, **fields):
        created = utcnow() - timedelta(days=age_days)
        name = name or f"Extra {next(_names)}"
        description = fields.pop("description", f"{{{{char}}}} is about {', '.join(tags)}.")
        character = Character(name=name, tagline=f"{name}, a test character.",
                              description=description,
                              first_mes=f"Hello {{{{user}}}}, I am {name}.", tags=list(tags),
                              created_at=created, updated_at=created, **fields)
        with session_scope(app.extensions["kindred.db"]) as session:
            session.add(character)
            session.commit()
            return character.id
    return add


def deck(auth, n=10, **params):
    query = "&".join([f"n={n}"] + [f"{k}={v}" for k, v in params.items()])
    response = auth.call("GET", f"/api/deck?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["cards"]


def swipe(auth, character_id, direction="right"):
    return auth.call("POST", "/api/swipes", json={"character_id": character_id,
                                                  "direction": direction})
