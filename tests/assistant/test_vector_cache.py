"""The help desk's passage vectors kept on disk: a restarted server's index embeds nothing it has
seen, answers exactly as a fresh build does, re-embeds only an edited passage, and shrugs off a
damaged file. The real MiniLM, counted."""
import numpy as np

from assistant.docs_index import DocsIndex
from discovery.embeddings import default_embedder
from tests.assistant.test_docs_index import PAGE


class Counted:
    """The shipped embedder, counting the texts it is asked to embed."""

    def __init__(self):
        self.inner, self.texts = default_embedder(), []
        self.name, self.dim = self.inner.name, self.inner.dim

    def encode(self, texts):
        self.texts.extend(texts)
        return self.inner.encode(texts)


def _built(docs, cache) -> tuple[DocsIndex, Counted]:
    embedder = Counted()
    index = DocsIndex(docs, embedder, cache)
    index.search("warm up", 1)
    return index, embedder


def _answers(index: DocsIndex) -> list[tuple[str, float]]:
    return [(hit.passage.heading, round(hit.score, 5))
            for hit in index.search("when should I water the tomatoes?", 4)]


def test_a_second_process_embeds_no_passage_and_answers_the_same(tmp_path):
    docs, cache = tmp_path / "docs", tmp_path / "cache"
    docs.mkdir()
    (docs / "garden.md").write_text(PAGE)
    first, embedded = _built(docs, cache)
    passages = len(embedded.texts) - 1  # the rest is the warm-up question
    assert passages >= 3 and list(cache.glob("*.npz"))

    again, embedded_again = _built(docs, cache)
    assert embedded_again.texts == ["warm up"]
    assert _answers(again) == _answers(first)
    assert _answers(again) == _answers(DocsIndex(docs, default_embedder()))  # no cache at all


def test_an_edited_passage_is_the_only_one_embedded_again(tmp_path):
    docs, cache = tmp_path / "docs", tmp_path / "cache"
    docs.mkdir()
    (docs / "garden.md").write_text(PAGE)
    _built(docs, cache)
    (docs / "garden.md").write_text(PAGE.replace("Put peels in the green bin.",
                                                 "Bury coffee grounds."))
    index, embedded = _built(docs, cache)
    assert [t for t in embedded.texts if t != "warm up"] == [
        p.text for p in index._current()[0] if "coffee" in p.text]
    assert index.search("where do coffee grounds go?", 1)[0].passage.heading == "Compost"


def test_a_damaged_file_is_embedded_again_and_replaced(tmp_path):
    docs, cache = tmp_path / "docs", tmp_path / "cache"
    docs.mkdir()
    (docs / "garden.md").write_text(PAGE)
    fresh, _ = _built(docs, cache)
    stored = next(cache.glob("*.npz"))
    stored.write_bytes(b"not a numpy file")

    damaged, embedded = _built(docs, cache)
    passages = len(embedded.texts) - 1  # all of them again, and the warm-up question
    assert passages >= 3 and _answers(damaged) == _answers(fresh)
    with np.load(stored) as kept:
        assert len(kept["keys"]) == passages
