"""The help desk measured on its labelled questions (assistant/data/help_questions.json: each
with the doc pages that answer it, or none for an off-topic one): how often retrieval ranks a
right page first or in the top three, and the confidence threshold that best tells answerable
questions from off-topic ones. Used by bench/helpdesk.py and the tests."""
import json
from dataclasses import dataclass
from pathlib import Path

from assistant.docs_index import DocsIndex

QUESTIONS = Path(__file__).parent / "data" / "help_questions.json"


@dataclass(frozen=True)
class Scored:
    question: str
    pages: tuple[str, ...]  # the right pages; () when off topic
    ranked: tuple[str, ...]  # pages in the order retrieval found them
    best: float  # the best passage's similarity

    @property
    def on_topic(self) -> bool:
        return bool(self.pages)


def labelled() -> list[dict]:
    return json.loads(QUESTIONS.read_text(encoding="utf-8"))


def score_all(index: DocsIndex, rows: list[dict] | None = None) -> list[Scored]:
    scored = []
    for row in rows if rows is not None else labelled():
        hits = index.search(row["question"], 10)
        ranked = tuple(dict.fromkeys(h.passage.page for h in hits))
        scored.append(Scored(row["question"], tuple(row["pages"]), ranked,
                             hits[0].score if hits else 0.0))
    return scored


def hit_rate(scored: list[Scored], k: int) -> float:
    on = [s for s in scored if s.on_topic]
    return sum(any(p in s.pages for p in s.ranked[:k]) for s in on) / len(on)


def precision_recall(scored: list[Scored], threshold: float) -> tuple[float, float]:
    """Of the questions called confident, the share on topic; of those on topic, the share
    called confident."""
    confident = [s for s in scored if s.best >= threshold]
    on = [s for s in scored if s.on_topic]
    precision = sum(s.on_topic for s in confident) / len(confident) if confident else 1.0
    recall = sum(s.best >= threshold for s in on) / len(on) if on else 1.0
    return precision, recall


def choose_threshold(scored: list[Scored]) -> float:
    """The cut between two neighbouring best-similarities that maximises F1 of 'confident' for
    on-topic questions; among equals, the highest (fewer wrong answers given with confidence)."""
    values = sorted({round(s.best, 4) for s in scored})
    cuts = [(a + b) / 2 for a, b in zip(values, values[1:])] or values
    return max(cuts, key=lambda cut: (_f1(*precision_recall(scored, cut)), cut))


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
