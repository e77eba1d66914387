"""Character embeddings with the packaged all-MiniLM-L6-v2: loaded offline from site-packages,
stored once per text, redone after an edit, and meaningful."""
from datetime import timedelta

import numpy as np
import sqlalchemy as sa

from core.db import session_scope, utcnow
from discovery.embeddings import (DIM, MODEL_NAME, embed_tags, ensure_embeddings,
                                             from_bytes, packaged_model_dir, refresh_embedding)
from discovery.models import CharacterEmbedding
from characters.models import Character
from tests.discovery.conftest import MEMO_EMBEDDER


def vectors(session):
    return {e.character_id: from_bytes(e.vector, e.dim)
            for e in session.exec(sa.select(CharacterEmbedding)).scalars()}


def test_the_model_comes_from_the_installed_wheel():
    folder = packaged_model_dir()
    assert "site-packages" in str(folder) and (folder / "model.safetensors").exists()


def test_public_characters_are_embedded_once_with_the_packaged_model(app):
    with session_scope(app.extensions["kindred.db"]) as session:
        assert ensure_embeddings(session, MEMO_EMBEDDER) == 7
        assert ensure_embeddings(session, MEMO_EMBEDDER) == 0
        rows = list(session.exec(sa.select(CharacterEmbedding)).scalars())
    assert {r.model for r in rows} == {MODEL_NAME} and {r.dim for r in rows} == {DIM}
    for row in rows:
        assert abs(np.linalg.norm(from_bytes(row.vector, row.dim)) - 1) < 1e-4


def test_an_edit_is_re_embedded_and_a_touch_without_changes_is_not(app):
    with session_scope(app.extensions["kindred.db"]) as session:
        ensure_embeddings(session, MEMO_EMBEDDER)
        before = vectors(session)
        cinder = session.get(Character, 7)
        cinder.updated_at = utcnow()  # touched, same text
        session.commit()
        assert ensure_embeddings(session, MEMO_EMBEDDER) == 0
        cinder.description = "{{char}} is a deep-sea submarine pilot who hunts sunken treasure."
        cinder.tags = ["ocean", "adventure"]
        cinder.updated_at = utcnow() + timedelta(seconds=1)
        session.commit()
        assert ensure_embeddings(session, MEMO_EMBEDDER) == 1
        after = vectors(session)
        assert not np.allclose(before[7], after[7])
        assert after[7] @ after[3] > before[7] @ before[3]  # closer to Juniper, the ocean one


def test_the_publish_hook_embeds_one_character_now(app, add_character):
    new_id = add_character(name="Harbor Ghost", tags=["ghost", "sea"])
    with session_scope(app.extensions["kindred.db"]) as session:
        assert refresh_embedding(session, new_id, MEMO_EMBEDDER) is True
        assert refresh_embedding(session, new_id, MEMO_EMBEDDER) is False
        assert session.get(CharacterEmbedding, new_id) is not None


def test_similar_characters_are_close_and_interests_find_them(app):
    with session_scope(app.extensions["kindred.db"]) as session:
        ensure_embeddings(session, MEMO_EMBEDDER)
        v = vectors(session)
    # Bramble (forest spirit, fantasy) is nearer Cinder (fantasy dragon) than Rio (cyberpunk).
    assert v[2] @ v[7] > v[6] @ v[7]
    dragon = embed_tags(MEMO_EMBEDDER, ["dragon", "fantasy"])
    assert max(v, key=lambda i: v[i] @ dragon) == 7
    assert embed_tags(MEMO_EMBEDDER, []) is None
