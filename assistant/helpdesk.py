"""The help desk: a question about using Kindred, answered by the local model from the sections of
docs/*.md retrieved for it, citing the pages used. When even the best section is not similar
enough (`threshold`, chosen on assistant/data/help_questions.json: docs/assistant.md), it says
it is not sure and offers a support ticket instead of guessing. No Flask here.

    HelpDesk(index, engine, threshold).ask(question) -> {answer, sources, confident}
    sources: [{page, heading, anchor}], best first (the route adds each one's url)
"""
from core.errors import KindredError
from core.text import check_text
from assistant.docs_index import DocsIndex, Hit
from assistant.generate import clip, stream
from assistant.models import MAX_QUESTION_CHARS

CONFIDENCE_THRESHOLD = 0.22  # the best passage score; chosen on labelled questions (assistant.md)
SEARCHED = 8  # passages ranked per question
PROMPT_PASSAGES = 3  # the best ones the model reads
MAX_ANSWER_CHARS = 1200
NOT_SURE = ("I am not sure: I could not find this in Kindred's documentation. You can open a "
            "support ticket and an admin will look into it.")
SYSTEM = ("You are the help desk of Kindred, a self-hosted character chat app. Answer the "
          "question using only the documentation excerpts given, in at most four short "
          "sentences, naming the setting, page or route to use. If the excerpts do not answer "
          "it, say that you are not sure.")


def check_question(question) -> str:
    if not isinstance(question, str) or not question.strip():
        raise KindredError("empty_question", "Type a question first, e.g. 'How do I import a "
                                             "character card?'.")
    question = " ".join(check_text(question, "question").split())
    if len(question) > MAX_QUESTION_CHARS:
        raise KindredError("question_too_long", f"Keep the question to at most "
                                                f"{MAX_QUESTION_CHARS} characters; this one has "
                                                f"{len(question)}.")
    return question


class HelpDesk:
    def __init__(self, index: DocsIndex, engine, threshold: float = CONFIDENCE_THRESHOLD,
                 max_new_tokens: int = 200):
        self.index, self.engine = index, engine
        self.threshold, self.max_new_tokens = threshold, max_new_tokens

    def ask(self, question: str) -> dict:
        """`question` is checked already (check_question, then moderation)."""
        hits = self.index.search(question, SEARCHED)
        if not hits or hits[0].score < self.threshold:
            return {"answer": NOT_SURE, "sources": [], "confident": False}
        used = [h for h in hits[:PROMPT_PASSAGES] if h.score >= self.threshold]
        answer = clip("".join(stream(self.engine, SYSTEM, _prompt(question, used),
                                     self.max_new_tokens)), MAX_ANSWER_CHARS)
        return {"answer": answer or NOT_SURE, "sources": sources(used), "confident": True}


def sources(hits: list[Hit]) -> list[dict]:
    """One source per section, in rank order."""
    seen, found = set(), []
    for hit in hits:
        p = hit.passage
        if (p.page, p.heading) not in seen:
            seen.add((p.page, p.heading))
            found.append({"page": p.page, "heading": p.heading or p.title, "anchor": p.anchor})
    return found


def _prompt(question: str, hits: list[Hit]) -> str:
    excerpts = "\n\n".join(f"From docs/{h.passage.page}.md:\n{h.passage.text}" for h in hits)
    return f"Documentation excerpts:\n{excerpts}\n\nQuestion: {question}"
