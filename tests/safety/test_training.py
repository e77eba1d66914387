"""`python -m safety.train`: a head trained from the train split (tuned on dev) classifies clear
dev examples right, and training never reads the test split."""
import re

import numpy as np

from safety import dataset, train
from safety.classifier import Classifier, Head


class RecordingEmbedder:
    def __init__(self, embedder):
        self.embedder, self.texts = embedder, []

    def encode(self, texts):
        self.texts += list(texts)
        return self.embedder.encode(texts)


def test_a_fresh_head_classifies_clear_dev_examples_and_never_sees_test(embedder, monkeypatch,
                                                                        tmp_path):
    asked = []
    real_load = dataset.load

    def recording_load(splits, *args, **kwargs):
        asked.append(tuple(splits))
        return real_load(splits, *args, **kwargs)

    recording = RecordingEmbedder(embedder)
    monkeypatch.setattr(dataset, "load", recording_load)
    monkeypatch.setattr("safety.embedding.default_embedder", lambda: recording)
    out = tmp_path / "head.npz"
    assert train.main(["--out", str(out)]) == 0

    assert asked and all(set(splits) <= {"train", "dev"} for splits in asked)
    test_texts = {e.text for e in real_load(("test",))}
    assert recording.texts and not test_texts & set(recording.texts)

    head = Head.load(out)
    assert head.coef.shape == (8, 384) and np.all((head.thresholds > 0) & (head.thresholds < 1))
    assert head.lexical is not None and np.all((head.weights > 0) & (head.weights <= 1))
    classifier = Classifier(embedder, head, band=0.0)
    # Clear examples, taken from the dev split as the file deals it today (a re-deal moves texts
    # between splits): dev texts the head never trained on, with one label and an unmistakable
    # wording. Each category must have some, so the check cannot become empty.
    clear = {"self_harm": r"\b(kill myself|end my life|want to die)\b",
             "hate": r"\b(subhuman|are animals|parasites)\b",
             "violent_crime": r"\b(pipe bomb|molotov|mass shooting|full auto)\b"}
    dev = real_load(("dev",))
    train_texts = {e.text for e in real_load(("train",))}
    for category, wording in clear.items():
        texts = [e.text for e in dev if e.labels == (category,) and re.search(wording, e.text, re.I)]
        assert len(texts) >= 2, category
        assert not set(texts) & train_texts
        for text in texts:
            assert category in classifier.score(text).flagged, text
    assert classifier.score("*the samurai draws his katana in one motion*").flagged == ()


def test_asking_for_an_unknown_split_is_an_error():
    import pytest
    with pytest.raises(ValueError):
        dataset.load(("everything",))
