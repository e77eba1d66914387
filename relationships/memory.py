"""Long-term memories: facts the user shared, per (user, character), each linked to its message.

    remember_from_message(session, embedder, user_id, character_id, message, user_name, scorer)
    extract_facts(text, user_name, scorer)      the facts of one message, in the third person
    list_memories / owned_memory / update_memory / delete_memory    the memory page's API
    memories_for_prompt(session, embedder, ..., recent_texts, count_tokens, budget)
    summarize_turns(turns, count_tokens, budget, ...)   older history, when it no longer fits

Extraction starts with a cheap filter (no model): the first-person statements of a message
("my dog is called Miso", "I'm tired"), leaving out questions, hypotheticals and *role-play
actions*. A message without one costs nothing more. Then either
- rules (MEMORY_EXTRACTION=rules): regexes keep durable-looking patterns ("I love ...",
  "my X is ...", "I'm allergic ..."), or
- the local model (MEMORY_EXTRACTION=model, `scorer` = the inference engine): a few-shot prompt
  asks whether each statement is a lasting fact about the user, and the statement is kept when
  log P("yes") - log P("no") of the next token passes JUDGE_MARGIN (one prefill per statement,
  no generation). If the engine fails or is busy past MODEL_TIMEOUT_SECONDS, rules decide.
Either way the stored text is a rule rewrite in the third person with the user's name: the
135M model's own rewrites were not faithful enough (see docs/performance.md), and
`python -m bench.memory_extraction` measures both paths on hand-labelled messages.
Retrieval ranks memories by cosine similarity (all-MiniLM-L6-v2) to the recent messages; pinned
ones always go first. Summaries are extractive: the first sentence of each dropped turn, newest
kept first, within a token budget (the small model cannot summarise faithfully).
"""
import logging
import re
import time
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Callable, Optional, Sequence

import numpy as np
from sqlmodel import Session, select

from core.db import is_id, utcnow
from core.errors import KindredError, not_found
from relationships.affinity import normalised
from relationships.models import Memory

log = logging.getLogger(__name__)

MAX_MEMORY_CHARS = 300
SAME_FACT_RATIO = 0.9
MODEL_TIMEOUT_SECONDS = 10.0  # per message: past it (the worker is busy), rules decide
JUDGE_MARGIN = -0.3  # log P(yes) - log P(no) a statement needs: tuned on the bench's dev split
JUDGE_CACHE_KEY = "memory:judge"  # the few-shot prefix stays warm in the engine's KV caches
JUDGE_SYSTEM = (
    "You read one statement a user wrote in a chat and answer yes or no: does it tell a lasting "
    "fact about the user, worth remembering for weeks (name, age, family, pets, home, job, "
    "studies, health, diet, skills, lasting likes, dislikes and habits)? Moods, what they are "
    "doing now or next, remarks about the chat or the character, role-play and small talk are "
    "not lasting facts.")
JUDGE_EXAMPLES = [  # none of these is in bench/memory_cases.json
    ("My brother is called Leo.", "yes"), ("I'm hungry.", "no"),
    ("I work as a plumber in Leeds.", "yes"), ("I love that idea!", "no"),
    ("I have never liked olives.", "yes"), ("I'll be back in five minutes.", "no"),
    ("I'm diabetic.", "yes"), ("I'm sorry, I didn't get that.", "no"),
    ("I've been playing guitar since I was twelve.", "yes"), ("My tea is too hot.", "no"),
    ("My parents live in Porto.", "yes"), ("I like how you think.", "no"),
]

_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_CLAUSES = re.compile(r",?\s+(?:and|but|also)\s+(?=(?:my|I)\b)|;\s*")
_SKIP = re.compile(r"^\s*(if|when|maybe|perhaps|do|does|did|can|could|would|should|what|why|"
                   r"how|who|where|is|are)\b|\b(if i|i wish|i guess|i think|i wonder)\b", re.I)
_MY_FACT = re.compile(r"\bmy ((?:[a-z'-]+ ){0,3}?[a-z'-]+) (is|are|was|were|'s) (.{2,150})", re.I)
_I_FACT = re.compile(
    r"\bI\s+(love|like|adore|enjoy|hate|dislike|prefer|have|own|live|work|study|play|collect|"
    r"grew up|was born|speak|can't stand|am)\s+(.{2,150})|\bI('m)\s+(.{2,150})", re.I)
_I_AM_DURABLE = re.compile(r"^(a|an|from|allergic|afraid|scared|married|single|vegan|vegetarian|"
                           r"learning|studying|training|\d+ years? old|the )", re.I)
_THIRD_PERSON = {"love": "loves", "like": "likes", "adore": "adores", "enjoy": "enjoys",
                 "hate": "hates", "dislike": "dislikes", "prefer": "prefers", "have": "has",
                 "own": "owns", "live": "lives", "work": "works", "study": "studies",
                 "play": "plays", "collect": "collects", "grew up": "grew up",
                 "was born": "was born", "speak": "speaks", "can't stand": "can't stand",
                 "am": "is", "'m": "is"}
_ACTION = re.compile(r"\*[^*]*\*")  # *I sit down*: role-play, not the user's life
# I or my: a clause whose only first person is "me" ("tell me more") says nothing about the user
_FIRST_PERSON = re.compile(r"\b(I|my)\b", re.I)
_ADVERBS = {"just", "also", "still", "never", "always", "usually", "often", "really", "actually",
            "even", "only", "already", "sometimes", "mostly", "basically", "totally"}
_SUBJECT = re.compile(r"\b(my|I)('m|'ve|'d|'ll)?\b\s*", re.I)
_CONTRACTED = {"'m": "is", "'ve": "has", "'d": "would", "'ll": "will"}
_IRREGULAR = {"am": "is", "have": "has", "do": "does", "go": "goes", "don't": "doesn't",
              "haven't": "hasn't"}
_UNCHANGED = {"can", "can't", "cannot", "could", "will", "would", "should", "must", "might", "may",
              "won't", "was", "wasn't", "had", "did", "didn't", "used"}  # modals and past tenses
_PRONOUNS = [(re.compile(r"\bmy\b", re.I), "their"), (re.compile(r"\bmine\b", re.I), "theirs"),
             (re.compile(r"\bmyself\b", re.I), "themselves"), (re.compile(r"\bme\b", re.I), "them"),
             (re.compile(r"\bI'm\b", re.I), "they're"), (re.compile(r"\bI\b"), "they")]


@dataclass(frozen=True)
class Fact:
    content: str
    subject: str  # "dog" in "my dog is ...": a newer fact about it replaces the older one
    excerpt: str  # the sentence it came from


def extract_facts(text: str, user_name: str, scorer=None) -> list[Fact]:
    """Durable first-person facts in `text`, in the third person. With a `scorer` (the inference
    engine: score_choices and render_chat) the local model judges each first-person statement;
    without one, or when it fails or is busy, the rules do."""
    statements = first_person_statements(text)
    if scorer is not None and statements:
        try:
            kept = judge_statements(scorer, statements)
            return _distinct(_rewrite(s, user_name) for s in kept)
        except Exception as exc:  # one line, no traceback: this is an expected fallback
            log.warning("memory extraction by the model failed (%s: %s); using rules",
                        type(exc).__name__, exc)
    return _distinct(_my_fact(s, user_name) or _i_fact(s, user_name) for s in statements)


def remember_from_message(session: Session, embedder, user_id: int, character_id: int,
                          message, user_name: str, scorer=None) -> list[Memory]:
    """Store the facts of one user message (skipping ones already known). Commits."""
    facts = extract_facts(message.content, user_name, scorer)
    if not facts:
        return []
    known = list_memories(session, user_id, character_id)
    stored = []
    for fact in facts:
        if any(_same_fact(fact.content, m.content) for m in known):
            continue
        replaced = next((m for m in known if fact.subject and m.subject == fact.subject
                         and not m.pinned and not m.edited), None)
        memory = replaced or Memory(user_id=user_id, character_id=character_id)
        memory.content, memory.subject = fact.content[:MAX_MEMORY_CHARS], fact.subject
        memory.source_message_id = message.id
        memory.source_conversation_id = message.conversation_id
        memory.source_excerpt, memory.updated_at = fact.excerpt[:300], utcnow()
        session.add(memory)
        stored.append(memory)
        if replaced is None:
            known.append(memory)
    _embed(embedder, stored)
    session.commit()
    return stored


def first_person_statements(text: str) -> list[str]:
    """The cheap filter: clauses about the writer (I, I'm, my...) that are not questions,
    hypotheticals or *role-play actions*."""
    text = _ACTION.sub(" ", (text or "").replace("\u2019", "'"))
    clauses = (c.strip() for s in _SENTENCES.findall(text) for c in _CLAUSES.split(s))
    return [c for c in clauses if c and not c.endswith("?") and not _SKIP.search(c)
            and _FIRST_PERSON.search(c)]


def judge_statements(scorer, statements: list[str]) -> list[str]:
    """The statements the local model calls lasting facts about the user."""
    deadline = time.monotonic() + MODEL_TIMEOUT_SECONDS
    kept = []
    for statement in statements:
        yes, no = scorer.score_choices(judge_prompt(scorer, statement), ["yes", "no"],
                                       cache_key=JUDGE_CACHE_KEY,
                                       timeout=max(deadline - time.monotonic(), 0.01))
        if yes - no > JUDGE_MARGIN:
            kept.append(statement)
    return kept


def judge_prompt(scorer, statement: str) -> str:
    """The few-shot prompt in the model's chat template; only the last turn differs."""
    messages = [{"role": "system", "content": JUDGE_SYSTEM}]
    for example, answer in JUDGE_EXAMPLES:
        messages += [{"role": "user", "content": f"Statement: {example}"},
                     {"role": "assistant", "content": answer}]
    messages.append({"role": "user", "content": f"Statement: {statement[:MAX_MEMORY_CHARS]}"})
    return scorer.render_chat(messages)


def list_memories(session: Session, user_id: int, character_id: Optional[int] = None) -> list[Memory]:
    query = select(Memory).where(Memory.user_id == user_id)
    if character_id is not None:
        query = query.where(Memory.character_id == character_id)
    return list(session.exec(query.order_by(Memory.pinned.desc(), Memory.id.desc())))


def owned_memory(session: Session, user_id: int, memory_id) -> Memory:
    memory = session.get(Memory, memory_id) if is_id(memory_id) else None
    if memory is None or memory.user_id != user_id:
        raise not_found("memory")
    return memory


def update_memory(session: Session, embedder, memory: Memory, changes: dict) -> Memory:
    """`changes` may hold `content` (non-empty text) and `pinned` (true/false). Commits."""
    unknown = sorted(set(changes) - {"content", "pinned"})
    if unknown or not changes:
        raise KindredError("bad_request", "Send 'content' (text) and/or 'pinned' (true/false)"
                                          + (f"; unknown: {', '.join(unknown)}." if unknown else "."))
    if "pinned" in changes and not isinstance(changes["pinned"], bool):
        raise KindredError("bad_request", "'pinned' must be true or false.")
    if "content" in changes:
        content = changes["content"]
        if not isinstance(content, str) or not content.strip():
            raise KindredError("bad_request", "'content' must be non-empty text.")
        if len(content.strip()) > MAX_MEMORY_CHARS:
            raise KindredError("bad_request", f"A memory is at most {MAX_MEMORY_CHARS} characters.")
    if "content" in changes and changes["content"].strip() != memory.content:
        memory.content, memory.edited = changes["content"].strip(), True
        _embed(embedder, [memory])
    if "pinned" in changes:
        memory.pinned = changes["pinned"]
    memory.updated_at = utcnow()
    session.add(memory)
    session.commit()
    return memory


def delete_memory(session: Session, memory: Memory) -> None:
    session.delete(memory)
    session.commit()


def memories_for_prompt(session: Session, embedder, user_id: int, character_id: int,
                        recent_texts: Sequence[str], count_tokens: Callable[[str], int],
                        budget: int, min_similarity: float) -> list[Memory]:
    """Pinned memories first (newest first), then the others most similar to the recent
    messages, while they fit in `budget` tokens."""
    memories = list_memories(session, user_id, character_id)
    pinned = [m for m in memories if m.pinned]
    others = [m for m in memories if not m.pinned]
    ranked = [m for m, score in _rank(embedder, others, recent_texts) if score >= min_similarity]
    chosen, used = [], 0
    for memory in pinned + ranked:
        cost = count_tokens(f"- {memory.content}\n")
        if used + cost <= budget:
            chosen.append(memory)
            used += cost
    return chosen


def summarize_turns(turns: Sequence[dict], count_tokens: Callable[[str], int], budget: int,
                    names: dict[str, str]) -> str:
    """An extractive summary of `turns` ({role, content}, oldest first): one line per turn with
    its first sentence, keeping the most recent lines that fit in `budget` tokens."""
    lines = []
    for turn in turns:
        first = next(iter(s.strip() for s in _SENTENCES.findall(turn["content"]) if s.strip()), "")
        if first:
            lines.append(f"{names.get(turn['role'], turn['role'])}: {first[:200]}")
    kept, used = [], 0
    for line in reversed(lines):
        cost = count_tokens(line + "\n")
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    return "\n".join(reversed(kept))


def memory_payload(memory: Memory, character_name: str = "") -> dict:
    return {"id": memory.id, "character_id": memory.character_id,
            "character_name": character_name, "content": memory.content,
            "pinned": memory.pinned, "edited": memory.edited,
            "source": {"message_id": memory.source_message_id,
                       "conversation_id": memory.source_conversation_id,
                       "excerpt": memory.source_excerpt},
            "created_at": memory.created_at.isoformat(),
            "updated_at": memory.updated_at.isoformat()}


def _my_fact(sentence: str, user_name: str) -> Optional[Fact]:
    match = _MY_FACT.search(sentence)
    if not match:
        return None
    subject, verb, rest = match.group(1), match.group(2), match.group(3).strip(" .!")
    verb = "is" if verb == "'s" else verb
    return Fact(f"{user_name}'s {subject} {verb} {_third_person(rest)}", subject.lower(), sentence)


def _i_fact(sentence: str, user_name: str) -> Optional[Fact]:
    match = _I_FACT.search(sentence)
    if not match:
        return None
    verb = (match.group(1) or match.group(3)).lower()
    rest = (match.group(2) or match.group(4)).strip(" .!")
    if verb in ("am", "'m") and not _I_AM_DURABLE.match(rest):
        return None  # "I'm tired" is a mood, not a memory
    return Fact(f"{user_name} {_THIRD_PERSON[verb]} {_third_person(rest)}", "", sentence)


def _rewrite(statement: str, user_name: str) -> Fact:
    """A statement the model kept, in the third person: by the rules' patterns when one fits,
    else with the user's name in place of the first I/my and the verb after it conjugated."""
    fact = _my_fact(statement, user_name) or _i_fact(statement, user_name)
    if fact:
        return fact
    text = statement.strip(" .!")
    match = _SUBJECT.search(text)
    if match is None:
        return Fact(_third_person(text), "", statement)
    word, contraction, rest = match.group(1).lower(), match.group(2), text[match.end():]
    if word == "my":
        subject = f"{user_name}'s "
    elif contraction:
        subject = f"{user_name} {_CONTRACTED[contraction.lower()]} "
    else:
        subject, rest = f"{user_name} ", _conjugate_first_verb(rest)
    return Fact(text[:match.start()] + subject + _third_person(rest), "", statement)


def _conjugate_first_verb(text: str) -> str:
    """"really love it" -> "really loves it": the first word that is not an adverb."""
    words = text.split(" ")
    for i, word in enumerate(words):
        lower = word.lower()
        if lower in _ADVERBS:
            continue
        if lower in _IRREGULAR:
            words[i] = _IRREGULAR[lower]
        elif lower.isalpha() and lower not in _UNCHANGED and not lower.endswith("ed"):
            if lower.endswith(("s", "sh", "ch", "x", "z", "o")):
                words[i] = word + "es"
            elif lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
                words[i] = word[:-1] + "ies"
            else:
                words[i] = word + "s"
        break
    return " ".join(words)


def _distinct(facts) -> list[Fact]:
    kept = []
    for fact in facts:
        if fact and all(f.content.lower() != fact.content.lower() for f in kept):
            kept.append(fact)
    return kept


def _third_person(text: str) -> str:
    for pattern, replacement in _PRONOUNS:
        text = pattern.sub(replacement, text)
    return text


def _same_fact(a: str, b: str) -> bool:
    a, b = normalised(a), normalised(b)
    return a == b or SequenceMatcher(None, a, b).ratio() >= SAME_FACT_RATIO


def _embed(embedder, memories: list[Memory]) -> None:
    if not memories or embedder is None:
        return
    try:
        vectors = embedder.encode([m.content for m in memories])
    except Exception:  # retrieval falls back to word overlap; the memory itself is kept
        log.exception("could not embed %d memories", len(memories))
        return
    for memory, vector in zip(memories, vectors):
        memory.embedding = np.asarray(vector, dtype="<f4").tobytes()
        memory.embedding_model = embedder.name


def _rank(embedder, memories: list[Memory], recent_texts: Sequence[str]) -> list[tuple[Memory, float]]:
    """(memory, best similarity to any recent text), best first."""
    texts = [t for t in recent_texts if t and t.strip()]
    if not memories or not texts:
        return []
    scores = None
    embedded = [m for m in memories if m.embedding and embedder is not None
                and m.embedding_model == embedder.name]
    if embedded:
        try:
            queries = embedder.encode(list(texts))
            matrix = np.stack([np.frombuffer(m.embedding, dtype="<f4") for m in embedded])
            best = (matrix @ np.asarray(queries, dtype=np.float32).T).max(axis=1)
            scores = {m.id: float(s) for m, s in zip(embedded, best)}
        except Exception:
            log.exception("memory retrieval by embedding failed; using word overlap")
    scores = scores or {}
    words = [set(normalised(t).split()) for t in texts]
    for memory in memories:
        if memory.id not in scores:
            mine = set(normalised(memory.content).split())
            scores[memory.id] = max(len(mine & w) / max(len(mine), 1) for w in words)
    return sorted(((m, scores[m.id]) for m in memories), key=lambda pair: -pair[1])

