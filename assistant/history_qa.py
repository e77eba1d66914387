"""A question about the room's history, answered from the messages retrieved for it: each message
("Name: text") is ranked against the question with the shipped MiniLM embeddings, the best few
are shown to the model in the order they were said, and the answer links to them by id."""
from assistant.generate import lines
from assistant.plan import Plan
from assistant.retrieval import rank

TOP_K = 5
MIN_SIMILARITY = 0.15  # below this a message is unrelated to the question, whatever its rank
MAX_CANDIDATES = 500  # the newest messages searched
SYSTEM = ("You are the assistant of a group chat. Answer the question using only the chat "
          "messages given, in one to three sentences, and say who said it. If the messages do "
          "not answer it, say you could not find it.")


def retrieve(embedder, question: str, conversation: list[dict], top_k: int = TOP_K) -> list[dict]:
    """The messages most like the question, oldest first."""
    candidates = conversation[-MAX_CANDIDATES:]
    if not candidates or not question:
        return []
    ranked = rank(embedder, question, [f"{m['name']}: {m['content']}" for m in candidates])
    best = [i for position, (i, score) in enumerate(ranked)
            if position < top_k and (score >= MIN_SIMILARITY or position == 0)]
    return [candidates[i] for i in sorted(best)]


def plan(embedder, question: str, conversation: list[dict], asker_name: str) -> Plan:
    found = retrieve(embedder, question, conversation)
    if not found:
        return Plan("answer", [], text="There is nothing in this room's history to answer from "
                                       "yet.")
    user = (f"Chat messages:\n{lines(found)}\n\n{asker_name} asks: {question}")
    return Plan("answer", found, SYSTEM, user, max_new_tokens=120)
