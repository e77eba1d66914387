"""The discovery service: deal a deck, take swipes, undo, interests and preferences. No Flask.

A `Discovery` holds what lives as long as the process (the embedder, the in-memory catalog, the
recommender, settings); every method takes the request's Session and plain values."""
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional, Sequence

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from conversations.placeholders import fill_placeholders
from conversations.service import GreetingSource, start_conversation
from core import events
from core.db import utcnow
from core.event_types import SwipeMade
from core.errors import Conflict, KindredError, not_found
from conversations.models import Conversation, Message
from core.users import User
from discovery.catalog import CatalogCache
from discovery.embeddings import Embedder, default_embedder, embed_tags, \
    ensure_embeddings
from discovery.models import (DIRECTIONS, LIKE_DIRECTIONS, CharacterStats, DealtCard,
                                         DiscoveryPreferences, Swipe, UserInterest)
from discovery.recommender import Catalog, Recommender, Settings, UserProfile
from characters.models import Character, CharacterFollow
from characters.service import avatar_url, viewer_is_adult

log = logging.getLogger(__name__)

MAX_DEAL = 50
MAX_INTERESTS = 20
MAX_TAG_CHARS = 40
GREETING_PREVIEW_CHARS = 220
RATINGS = ("sfw", "mature", "any")


@dataclass(frozen=True)
class DeckFilters:
    rating: Optional[str] = None              # sfw | mature | any; None: sfw, or any if opted in
    languages: tuple[str, ...] = ()
    include_tags: tuple[str, ...] = ()        # any of these
    exclude_tags: tuple[str, ...] = ()


@dataclass
class SwipeOutcome:
    swipe: Swipe
    conversation_id: Optional[int]


class Discovery:
    def __init__(self, embedder: Optional[Embedder] = None, settings: Settings = Settings(),
                 pass_cooldown: timedelta = timedelta(days=7),
                 deal_ttl: timedelta = timedelta(hours=24), refresh_seconds: float = 5.0,
                 seed: Optional[int] = None):
        self.embedder = embedder or default_embedder()
        self.recommender = Recommender(settings)
        self.catalogs = CatalogCache(self.embedder.name, settings, refresh_seconds)
        self.pass_cooldown = pass_cooldown
        self.deal_ttl = deal_ttl
        self.refresh_seconds = refresh_seconds
        self.rng = np.random.default_rng(seed)
        self._embedded_at = -math.inf

    # -- the deck ---------------------------------------------------------------------------

    def deal(self, session: Session, user: User, n: int = 10,
             filters: DeckFilters = DeckFilters(), now: Optional[datetime] = None) -> list[dict]:
        """The user's next n cards: still-open cards dealt before (an undone one first), then new
        ones from the recommender. Raises KindredError for bad filters."""
        now = now or utcnow()
        if not 1 <= n <= MAX_DEAL:
            raise KindredError("bad_request", f"'n' must be between 1 and {MAX_DEAL}.")
        prefs = self._preferences(session, user.id)
        ratings = _allowed_ratings(filters.rating,
                                   prefs.show_mature and viewer_is_adult(session, user.id))
        self._embed_missing(session)
        catalog = self.catalogs.get(session)

        open_deals = self._open_deals(session, user.id, now)
        characters = _characters_by_id(session, [d.character_id for d in open_deals])
        kept = [d for d in open_deals
                if _dealable(characters.get(d.character_id), user.id, prefs, ratings, filters)][:n]
        cards = [(characters[d.character_id], d.reason) for d in kept]

        if len(cards) < n:
            exclude = {d.character_id for d in open_deals}
            held = [c.id for c, _ in cards]
            cards += self._deal_new(session, user, catalog, n - len(cards), prefs, ratings,
                                    filters, exclude, now, held)
        return [card_payload(c, reason, user.username) for c, reason in cards]

    def swipe(self, session: Session, user: User, character_id: int, direction: str,
              now: Optional[datetime] = None,
              alternate_greetings: Optional[GreetingSource] = None) -> SwipeOutcome:
        """Record a swipe on a dealt card. "right" and "up" follow the character; "up" also starts
        a conversation (with the greetings `alternate_greetings` opens; undo keeps both). Refuses, changing
        nothing, a bad direction, an unknown character, a card not dealt, a second swipe."""
        now = now or utcnow()
        if direction not in DIRECTIONS:
            raise KindredError("bad_direction", "'direction' must be 'left' (pass), 'right' "
                                                "(like) or 'up' (super-like).")
        character = session.get(Character, character_id)
        if character is None or (character.visibility == "private"
                                 and character.creator_id != user.id):
            raise not_found("character")
        deal = session.exec(select(DealtCard)
                            .where(DealtCard.user_id == user.id,
                                   DealtCard.character_id == character_id)
                            .order_by(DealtCard.id.desc()).limit(1)).first()
        if deal is not None and deal.swipe_id is not None:
            raise Conflict("already_swiped", f"You already swiped on {character.name}; only "
                                             "your latest swipe can be undone "
                                             "(POST /api/swipes/undo).")
        if deal is None or deal.dealt_at < now - self.deal_ttl:
            raise Conflict("not_dealt", f"{character.name} is not in your current deck; swipe only "
                                        "on cards from GET /api/deck.")
        swipe = Swipe(user_id=user.id, character_id=character_id, deal_id=deal.id,
                      direction=direction, dealt_at=deal.dealt_at, created_at=now)
        session.add(swipe)
        session.flush()
        claimed = session.execute(sa.update(DealtCard)
                                  .where(DealtCard.id == deal.id, DealtCard.swipe_id.is_(None))
                                  .values(swipe_id=swipe.id)).rowcount
        if claimed != 1:  # a concurrent request swiped this card first
            session.rollback()
            raise Conflict("already_swiped", f"You already swiped on {character.name}.")
        liked = direction in LIKE_DIRECTIONS
        _bump_stats(session, character_id, likes=int(liked), passes=int(not liked))
        if liked and session.get(CharacterFollow, (user.id, character_id)) is None:
            session.add(CharacterFollow(user_id=user.id, character_id=character_id))  # like = follow
        conversation_id = None
        if direction == "up":
            conversation_id = start_conversation(session, user, character_id,  # commits the swipe
                                                 alternate_greetings, source="discovery").id
            swipe.conversation_id = conversation_id
            session.add(swipe)
        events.record(session, SwipeMade(user.id, character_id, direction))
        session.commit()
        self.catalogs.record(character_id, likes=int(liked), passes=int(not liked))
        return SwipeOutcome(swipe, conversation_id)

    def undo(self, session: Session, user: User, now: Optional[datetime] = None) -> tuple[Swipe, dict]:
        """Take back the user's last swipe; its card goes back on top of the deck. A conversation
        started by a super-like is kept. Returns (the swipe, the card)."""
        now = now or utcnow()
        last = session.exec(select(Swipe).where(Swipe.user_id == user.id)
                            .order_by(Swipe.id.desc()).limit(1)).first()
        if last is None or last.undone:
            raise Conflict("nothing_to_undo", "There is no swipe to undo: only your most recent "
                                              "swipe can be undone, once.")
        taken = session.execute(sa.update(Swipe).where(Swipe.id == last.id,
                                                       Swipe.undone.is_(False))
                                .values(undone=True, undone_at=now)).rowcount
        reopened = session.execute(sa.update(DealtCard)
                                   .where(DealtCard.id == last.deal_id,
                                          DealtCard.swipe_id == last.id)
                                   .values(swipe_id=None, dealt_at=now, position=-1)).rowcount
        if taken != 1 or reopened != 1:
            session.rollback()
            raise Conflict("nothing_to_undo", "That swipe was already undone.")
        liked = last.direction in LIKE_DIRECTIONS
        _bump_stats(session, last.character_id, likes=-int(liked), passes=-int(not liked))
        session.commit()
        session.refresh(last)
        self.catalogs.record(last.character_id, likes=-int(liked), passes=-int(not liked))
        deal = session.get(DealtCard, last.deal_id)
        character = session.get(Character, last.character_id)
        return last, card_payload(character, deal.reason, user.username)

    def recent_swipes(self, session: Session, user: User, limit: int = 20) -> list[Swipe]:
        """The user's latest swipes, newest first (undone ones included, marked)."""
        if not 1 <= limit <= 200:
            raise KindredError("bad_request", "'limit' must be between 1 and 200.")
        return list(session.exec(select(Swipe).where(Swipe.user_id == user.id)
                                 .order_by(Swipe.id.desc()).limit(limit)))

    # -- interests and preferences ----------------------------------------------------------

    def interests(self, session: Session, user: User) -> dict:
        """The user's interest tags, whether onboarding is done, and tags to suggest."""
        prefs = self._preferences(session, user.id)
        self._embed_missing(session)
        catalog = self.catalogs.get(session)
        counts = sorted(((len(p), t) for t, p in catalog.tag_positions.items()),
                        key=lambda item: (-item[0], item[1]))
        return {"tags": _interest_tags(session, user.id),
                "onboarded": prefs.onboarded_at is not None,
                "suggested_tags": [t for _, t in counts[:30]]}

    def set_interests(self, session: Session, user: User, tags) -> list[str]:
        """Replace the user's interest tags (an empty list is a valid choice: skip)."""
        cleaned = clean_tags(tags)
        session.execute(sa.delete(UserInterest).where(UserInterest.user_id == user.id))
        session.add_all(UserInterest(user_id=user.id, tag=t) for t in cleaned)
        prefs = self._preferences(session, user.id)
        prefs.onboarded_at = prefs.onboarded_at or utcnow()
        prefs.updated_at = utcnow()
        session.add(prefs)
        session.commit()
        return cleaned

    def preferences(self, session: Session, user: User) -> dict:
        return _preferences_payload(self._preferences(session, user.id))

    def set_preferences(self, session: Session, user: User, *, show_mature=None,
                        blocked_creator_ids=None) -> dict:
        prefs = self._preferences(session, user.id)
        if show_mature is not None:
            if not isinstance(show_mature, bool):
                raise KindredError("bad_request", "'show_mature' must be true or false.")
            if show_mature and not viewer_is_adult(session, user.id):
                raise KindredError("age_restricted", "Mature content is for adults; give your "
                                                     "birth year first (POST /api/me/age).", 403)
            prefs.show_mature = show_mature
        if blocked_creator_ids is not None:
            if not isinstance(blocked_creator_ids, list) or not all(
                    isinstance(i, int) and not isinstance(i, bool) and i > 0
                    for i in blocked_creator_ids) or len(blocked_creator_ids) > 1000:
                raise KindredError("bad_request", "'blocked_creator_ids' must be a list of at "
                                                  "most 1000 positive user ids.")
            prefs.blocked_creator_ids = sorted(set(blocked_creator_ids))
        prefs.updated_at = utcnow()
        session.add(prefs)
        session.commit()
        return _preferences_payload(prefs)

    # -- helpers ----------------------------------------------------------------------------

    def _deal_new(self, session: Session, user: User, catalog: Catalog, n: int,
                  prefs: DiscoveryPreferences, ratings: tuple[str, ...], filters: DeckFilters,
                  exclude: set[int], now: datetime,
                  held: Sequence[int] = ()) -> list[tuple[Character, str]]:
        """n new cards below the `held` ones (character ids the user's stack already shows)."""
        profile, seen = self.taste_profile(session, user.id, catalog, now)
        eligible = _eligible_mask(catalog, user.id, prefs, ratings, filters,
                                  seen | exclude)
        stack = [catalog.position[i] for i in held if i in catalog.position]
        picks = self.recommender.recommend(catalog, profile, n, eligible, self.rng,
                                           now=now.timestamp(), stack=stack)
        ids = [int(catalog.ids[p.position]) for p in picks]
        characters = _characters_by_id(session, ids)
        dealt = []
        for position, (pick, character_id) in enumerate(zip(picks, ids)):
            character = characters.get(character_id)
            if not _dealable(character, user.id, prefs, ratings, filters):
                continue  # the catalog was stale; the database has the last word
            session.add(DealtCard(user_id=user.id, character_id=character_id, position=position,
                                  reason=pick.reason[:200], dealt_at=now))
            _bump_stats(session, character_id, impressions=1)
            dealt.append((character, pick.reason))
        session.commit()
        for character, _ in dealt:
            self.catalogs.record(character.id, impressions=1)
        return dealt

    def taste_profile(self, session: Session, user_id: int, catalog: Catalog,
                      now: datetime) -> tuple[UserProfile, set[int]]:
        """The user's taste signals in catalog positions, and the character ids not to deal:
        liked ever, passed within the cooldown."""
        profile = UserProfile()
        seen: set[int] = set()
        rows = session.exec(select(Swipe.character_id, Swipe.direction, Swipe.created_at)
                            .where(Swipe.user_id == user_id, Swipe.undone.is_(False))
                            .order_by(Swipe.id)).all()
        weights = {"right": 1.0, "up": self.recommender.settings.super_like_weight}
        for character_id, direction, created_at in rows:
            age = max((now - created_at).total_seconds(), 0.0)
            pos = catalog.position.get(character_id)
            if direction in LIKE_DIRECTIONS:
                seen.add(character_id)
                if pos is not None:
                    profile.likes.append((pos, age, weights[direction]))
            else:
                if now - created_at < self.pass_cooldown:
                    seen.add(character_id)
                if pos is not None:
                    profile.passes.append((pos, age))
        liked = {c for c, d, _ in rows if d in LIKE_DIRECTIONS}
        profile.passes = [(p, a) for p, a in profile.passes if int(catalog.ids[p]) not in liked]
        chats = session.exec(select(Conversation.character_id, sa.func.count(Message.id),
                                    sa.func.max(Conversation.updated_at))
                             .join(Message, Message.conversation_id == Conversation.id)
                             .where(Conversation.user_id == user_id, Message.role == "user")
                             .group_by(Conversation.character_id)).all()
        for character_id, messages, updated_at in chats:
            pos = catalog.position.get(character_id)
            if pos is not None:
                profile.chats.append((pos, max((now - updated_at).total_seconds(), 0.0),
                                      int(messages)))
        tags = _interest_tags(session, user_id)
        profile.interest_tags = frozenset(tags)
        profile.interest_vector = embed_tags(self.embedder, tags)
        return profile, seen

    def _open_deals(self, session: Session, user_id: int, now: datetime) -> list[DealtCard]:
        deals = session.exec(select(DealtCard).where(DealtCard.user_id == user_id,
                                                     DealtCard.swipe_id.is_(None),
                                                     DealtCard.dealt_at >= now - self.deal_ttl)
                             ).all()
        latest: dict[int, DealtCard] = {}
        for deal in deals:  # one open card per character (the newest deal)
            if deal.character_id not in latest or deal.id > latest[deal.character_id].id:
                latest[deal.character_id] = deal
        return sorted(latest.values(), key=lambda d: (d.position >= 0, d.id))

    def _embed_missing(self, session: Session) -> None:
        """Embed characters lacking an up-to-date vector: a batch at a time, and at most every
        refresh_seconds (the check scans the characters table)."""
        if time.monotonic() - self._embedded_at < self.refresh_seconds:
            return
        if ensure_embeddings(session, self.embedder):
            self.catalogs.invalidate()
        else:
            self._embedded_at = time.monotonic()  # nothing left: rest until the next window

    def _preferences(self, session: Session, user_id: int) -> DiscoveryPreferences:
        prefs = session.get(DiscoveryPreferences, user_id)
        return prefs if prefs is not None else DiscoveryPreferences(user_id=user_id)


def card_payload(character: Character, reason: str, username: str) -> dict:
    greeting = fill_placeholders(character.first_mes, character.name, username).strip()
    if len(greeting) > GREETING_PREVIEW_CHARS:
        greeting = greeting[:GREETING_PREVIEW_CHARS - 1].rstrip() + "…"
    return {"character_id": character.id, "name": character.name,
            "tagline": character.tagline, "tags": list(character.tags or []),
            "avatar_url": avatar_url(character), "greeting_preview": greeting, "reason": reason}


def swipe_payload(swipe: Swipe) -> dict:
    return {"id": swipe.id, "character_id": swipe.character_id, "direction": swipe.direction,
            "created_at": swipe.created_at.isoformat(), "undone": swipe.undone,
            "conversation_id": swipe.conversation_id}


def clean_tags(tags) -> list[str]:
    """Lower-case, without a leading '#', unique, in the order given. Raises KindredError."""
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise KindredError("bad_request", "'tags' must be a list of strings, e.g. "
                                          "[\"fantasy\", \"cozy\"].")
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip().lstrip("#").strip().lower()
        if not tag or len(tag) > MAX_TAG_CHARS:
            raise KindredError("bad_tag", f"Each tag must be 1 to {MAX_TAG_CHARS} characters.")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_INTERESTS:
        raise KindredError("too_many_tags", f"Pick at most {MAX_INTERESTS} interests; "
                                            f"{len(cleaned)} were sent.")
    return cleaned


def _allowed_ratings(rating: Optional[str], show_mature: bool) -> tuple[str, ...]:
    if rating is None:
        return ("sfw", "mature") if show_mature else ("sfw",)
    if rating not in RATINGS:
        raise KindredError("bad_request", "'rating' must be 'sfw', 'mature' or 'any'.")
    if rating != "sfw" and not show_mature:
        raise KindredError("mature_not_enabled", "Mature characters are shown only after you "
                                                 "opt in: PUT /api/me/discovery "
                                                 "{\"show_mature\": true}.", 403)
    return {"sfw": ("sfw",), "mature": ("mature",), "any": ("sfw", "mature")}[rating]


def _dealable(character: Optional[Character], user_id: int, prefs: DiscoveryPreferences,
              ratings: Sequence[str], filters: DeckFilters) -> bool:
    if character is None or character.visibility != "public" or character.moderation_hidden \
            or character.creator_id == user_id:
        return False
    if character.creator_id is not None and character.creator_id in (prefs.blocked_creator_ids
                                                                     or []):
        return False
    if character.content_rating not in ratings:
        return False
    if filters.languages and character.language not in filters.languages:
        return False
    tags = set(character.tags or [])
    if filters.include_tags and not tags & set(filters.include_tags):
        return False
    return not tags & set(filters.exclude_tags)


def _eligible_mask(catalog: Catalog, user_id: int, prefs: DiscoveryPreferences,
                   ratings: Sequence[str], filters: DeckFilters,
                   exclude_ids: set[int]) -> np.ndarray:
    eligible = np.ones(len(catalog), dtype=bool)
    if "mature" not in ratings:
        eligible &= ~catalog.mature
    if "sfw" not in ratings:
        eligible &= catalog.mature
    if filters.languages:
        eligible &= np.isin(catalog.languages, list(filters.languages))
    if filters.include_tags:
        wanted = np.zeros(len(catalog), dtype=bool)
        for tag in filters.include_tags:
            wanted[catalog.tag_positions.get(tag, np.zeros(0, np.int64))] = True
        eligible &= wanted
    for tag in filters.exclude_tags:
        eligible[catalog.tag_positions.get(tag, np.zeros(0, np.int64))] = False
    blocked = [user_id] + list(prefs.blocked_creator_ids or [])
    eligible &= ~np.isin(catalog.creator_ids, blocked)
    positions = [catalog.position[i] for i in exclude_ids if i in catalog.position]
    eligible[positions] = False
    return eligible


def _characters_by_id(session: Session, ids: Sequence[int]) -> dict[int, Character]:
    if not ids:
        return {}
    return {c.id: c for c in session.exec(select(Character).where(Character.id.in_(list(ids))))}


def _interest_tags(session: Session, user_id: int) -> list[str]:
    return list(session.exec(select(UserInterest.tag).where(UserInterest.user_id == user_id)
                             .order_by(UserInterest.created_at, UserInterest.tag)))


def _bump_stats(session: Session, character_id: int, **deltas: int) -> None:
    """Add to a character's running counts (row created on first use); never below zero."""
    values = {}
    for key, delta in deltas.items():
        column = getattr(CharacterStats, key)
        values[key] = sa.case((column + delta < 0, 0), else_=column + delta)
    if _update_stats(session, character_id, values):
        return
    try:
        with session.begin_nested():  # a concurrent first bump may insert the row first
            session.add(CharacterStats(character_id=character_id,
                                       **{k: max(v, 0) for k, v in deltas.items()}))
    except sa.exc.IntegrityError:
        _update_stats(session, character_id, values)


def _update_stats(session: Session, character_id: int, values: dict) -> bool:
    return bool(session.execute(sa.update(CharacterStats)
                                .where(CharacterStats.character_id == character_id)
                                .values(**values)).rowcount)


def _preferences_payload(prefs: DiscoveryPreferences) -> dict:
    return {"show_mature": prefs.show_mature,
            "blocked_creator_ids": list(prefs.blocked_creator_ids or []),
            "onboarded": prefs.onboarded_at is not None}
