"""The topic of the day: a prompt set by the operator or drawn from a built-in list; each
character that takes part posts its answer, and two of them play a short scene about it. No Flask
here.

    set_topic(session, prompt, day) -> CommunityTopic          the operator's (before it ran)
    topic_for(session, day) -> CommunityTopic                  the day's, drawn if none was set
    day_topic_json(session, day) / topic_json(session, topic) -> dict
    TopicRun(db, engine, moderator, settings).run(day, seeded=False) -> dict   idempotent
    never_answered(db) -> bool                                 a fresh install's feed

Decisions written down here (docs/community.md, "Characters as members"):
- The list is drawn from by the day's date, so every process draws the same topic.
- Who answers: characters that take part (`community_replies`) and anyone may see, at most
  COMMUNITY_TOPIC_CHARACTERS of them a day, picked by a generator seeded with the date; the
  scene's two are the first two of them. Each answer and the scene are posted once per topic
  (community_topic_post), so running a day again posts only what is missing.
- A topic answer is a `topic` post whose body starts with the topic; the scene is a `scene` post
  by its first character, about its second, with the turns as its excerpt. Both go through the
  post service, so through moderation; one refused is skipped, the rest still posted."""
import logging
import random
from datetime import date
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from characters.models import Character
from characters.service import can_view
from characters.sharing import taking_part
from community.member_models import CommunityTopic, CommunityTopicPost
from community.posts import create_post
from community.voice import Speech, Turn, speak, start
from core.db import session_scope, utcnow
from core.errors import Conflict, KindredError
from core.text import check_text

log = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 300
BUILT_IN_TOPICS = (
    "What small thing made you smile recently?",
    "Describe your perfect rainy afternoon.",
    "What is a skill you wish you had, and why?",
    "If you could visit any place for one day, where would you go?",
    "What is the best advice anyone ever gave you?",
    "Which smell always brings back a memory?",
    "What would you cook for a friend who had a hard day?",
    "What is something you changed your mind about?",
    "Tell us about a book, song or story that stayed with you.",
    "What does a good morning look like to you?",
    "What is a tradition you would love to start?",
    "If you had a free evening with no plans, what would you do?",
    "What are you quietly proud of?",
    "What would you put in a time capsule?",
    "Who taught you something without meaning to?",
    "What is the most beautiful place you have ever seen?",
    "What makes a place feel like home?",
    "Which season suits you best, and why?",
    "What is a question you love being asked?",
    "What would your ideal day off look like?",
    "What little habit makes your days better?",
    "If you could master any instrument overnight, which would it be?",
    "What is a risk you are glad you took?",
    "Describe a sound you find calming.",
    "What would you name a star if you found one?",
    "What is the kindest thing a stranger ever did for you?",
    "What is on your list of things to try this year?",
    "Which animal do you think you are most like?",
)


def set_topic(session: Session, prompt, day: date) -> CommunityTopic:
    """The operator's topic for `day`. Commits. 400 `bad_topic` for an empty or too long one,
    `bad_day` for a day gone by; 409 `topic_already_run` once characters have answered it."""
    text = _checked(prompt)
    if day < utcnow().date():
        raise KindredError("bad_day", "The topic can be set for today or a later day.")
    topic = session.exec(select(CommunityTopic).where(CommunityTopic.day == day)).first()
    if topic is not None and _answered(session, topic.id):
        raise Conflict("topic_already_run", f"Characters have already answered the topic of "
                                            f"{day.isoformat()}; set the topic of a later day.")
    topic = topic or CommunityTopic(day=day, prompt=text, source="operator")
    topic.prompt, topic.source = text, "operator"
    session.add(topic)
    session.commit()
    return topic


def topic_for(session: Session, day: date) -> CommunityTopic:
    """The topic of `day`: the operator's, or else the built-in list's for that date (stored,
    so it stays the day's topic)."""
    topic = session.exec(select(CommunityTopic).where(CommunityTopic.day == day)).first()
    if topic is not None:
        return topic
    drawn = CommunityTopic(day=day, prompt=drawn_prompt(day), source="list")
    session.add(drawn)
    try:
        session.commit()
    except sa.exc.IntegrityError:  # another process drew it at the same moment
        session.rollback()
        return session.exec(select(CommunityTopic).where(CommunityTopic.day == day)).one()
    return drawn


def drawn_prompt(day: date) -> str:
    return BUILT_IN_TOPICS[day.toordinal() % len(BUILT_IN_TOPICS)]


def day_topic_json(session: Session, day: date) -> dict:
    """The topic of `day` as it stands, without storing anything: one not set yet is shown as
    the list would draw it."""
    topic = session.exec(select(CommunityTopic).where(CommunityTopic.day == day)).first()
    if topic is None:
        return {"day": day.isoformat(), "prompt": drawn_prompt(day), "source": "list",
                "answer_post_ids": [], "scene_post_id": None}
    return topic_json(session, topic)


def topic_json(session: Session, topic: CommunityTopic) -> dict:
    rows = session.exec(select(CommunityTopicPost).where(CommunityTopicPost.topic_id == topic.id)
                        .order_by(CommunityTopicPost.id)).all()
    return {"day": topic.day.isoformat(), "prompt": topic.prompt, "source": topic.source,
            "answer_post_ids": [r.post_id for r in rows if r.kind == "answer"],
            "scene_post_id": next((r.post_id for r in rows if r.kind == "scene"), None)}


class TopicRun:
    """Posting one day's answers and scene; the scheduler (or the seed step) calls run()."""

    def __init__(self, db, engine, moderator, settings):
        self.db, self.engine, self.moderator, self.settings = db, engine, moderator, settings

    def run(self, day: date, seeded: bool = False,
            characters: Optional[list[int]] = None) -> dict:
        """Post what is missing of `day`'s answers and scene; `characters` limits who answers
        (the seed step: the seeded cast). Returns {day, prompt, answers, scene}: what this run
        posted."""
        with session_scope(self.db) as session:
            topic = topic_for(session, day)
            cast = self._cast(session, day, characters)
        posted = {"day": day.isoformat(), "prompt": topic.prompt, "answers": 0, "scene": False}
        speeches = [(c, self._start_answer(topic, c)) for c in cast
                    if not self._done(topic.id, "answer", c.id)]  # decoded together
        for character, speech in speeches:
            if self._answer(topic, character, speech.text(), seeded):
                posted["answers"] += 1
        if len(cast) >= 2:
            posted["scene"] = self._scene(topic, cast[0], cast[1], seeded)
        return posted

    def _cast(self, session: Session, day: date, only: Optional[list[int]]) -> list[Character]:
        willing = taking_part(session, only)
        characters = [c for c in session.exec(select(Character).where(Character.id.in_(willing))
                                              .order_by(Character.id)) if can_view(c, None)]
        random.Random(day.toordinal()).shuffle(characters)
        return characters[:self.settings["COMMUNITY_TOPIC_CHARACTERS"]]

    def _start_answer(self, topic: CommunityTopic, character: Character) -> Speech:
        situation = (f"You are {character.name}, a character taking part in the Kindred "
                     f"community feed. Today's topic is: \"{topic.prompt}\". Write your answer "
                     f"as a short post of two or three sentences, in your own voice.")
        return start(self.engine, self.settings, character, [Turn("user", topic.prompt)],
                     "everyone", situation)

    def _answer(self, topic: CommunityTopic, character: Character, text: str,
                seeded: bool) -> bool:
        if not text:
            return False
        return self._post(topic, "answer", character, seeded,
                          {"kind": "topic", "body": f"Topic of the day: {topic.prompt}\n\n{text}",
                           "tags": ["topic"]})

    def _scene(self, topic: CommunityTopic, first: Character, second: Character,
               seeded: bool) -> bool:
        if self._done(topic.id, "scene", first.id):
            return False
        lines: list[dict] = []
        speakers: list[int] = []  # who said each line
        for turn in range(self.settings["COMMUNITY_SCENE_TURNS"]):
            speaker, other = (first, second) if turn % 2 == 0 else (second, first)
            said = [Turn("assistant" if by == speaker.id else "user", line["content"])
                    for line, by in zip(lines, speakers)]
            situation = (f"You are {speaker.name}, talking with {other.name} about today's "
                         f"topic on the Kindred community feed: \"{topic.prompt}\". Say one or "
                         f"two sentences to {other.name}, in your own voice.")
            text = speak(self.engine, self.settings, speaker,
                         said or [Turn("user", f"{other.name}: {topic.prompt}")], other.name,
                         situation, max_chars=400)
            if text:
                lines.append({"role": "character", "name": speaker.name, "content": text})
                speakers.append(speaker.id)
        if len(lines) < 2:
            return False
        return self._post(topic, "scene", first, seeded,
                          {"kind": "scene", "character_id": second.id, "excerpt": lines,
                           "body": f"Topic of the day: {topic.prompt}", "tags": ["topic"]})

    def _post(self, topic: CommunityTopic, kind: str, character: Character, seeded: bool,
              data: dict) -> bool:
        with session_scope(self.db) as session:
            author = session.get(Character, character.id)
            try:
                post = create_post(session, None, data, self.moderator,
                                   author_character=author, seeded=seeded)
            except KindredError as exc:
                log.info("%s's %s for the topic of %s was not posted: %s", character.name,
                         kind, topic.day, exc.code)
                return False
            session.add(CommunityTopicPost(topic_id=topic.id, kind=kind,
                                           character_id=character.id, post_id=post.id))
            try:
                session.commit()
            except sa.exc.IntegrityError:  # another run posted it meanwhile: keep theirs
                session.rollback()
                post.status = "deleted"
                session.add(post)
                session.commit()
                return False
            return True

    def _done(self, topic_id: int, kind: str, character_id: int) -> bool:
        with session_scope(self.db) as session:
            return session.exec(select(CommunityTopicPost.id).where(
                CommunityTopicPost.topic_id == topic_id, CommunityTopicPost.kind == kind,
                CommunityTopicPost.character_id == character_id)).first() is not None


def never_answered(db) -> bool:
    """No topic was ever answered here: a fresh install's feed (the scheduler runs the day's
    topic at once then)."""
    with session_scope(db) as session:
        return session.exec(select(CommunityTopicPost.id).limit(1)).first() is None


def _answered(session: Session, topic_id: int) -> bool:
    return session.exec(select(CommunityTopicPost.id)
                        .where(CommunityTopicPost.topic_id == topic_id)).first() is not None


def _checked(prompt) -> str:
    if not isinstance(prompt, str):
        raise KindredError("bad_topic", "The topic must be text.")
    text = " ".join(check_text(prompt, "prompt").split())
    if not text or len(text) > MAX_PROMPT_CHARS:
        raise KindredError("bad_topic", f"The topic is 1 to {MAX_PROMPT_CHARS} characters; "
                                        f"this one has {len(text)}.")
    return text
