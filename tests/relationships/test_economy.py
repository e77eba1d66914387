"""Where relationships meet the gacha economy: gems for chat days, streaks and story chapters,
cards given to their character for affinity, and cards a level lets the user claim."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from core.db import session_scope
import gacha.banners
import gacha.collection
import gacha.ledger
from gacha.models import Card, LedgerTransaction
from gacha import rewards
from relationships import affinity
from tests.relationships.conftest import character_id, user_id_of, user_message
from tests.support.events import collect_until, payloads

DAY1 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def gacha_app(story_app, db):
    with Session(db) as session:
        gacha.banners.seed_gacha(session)
    return story_app


def _award(app, auth, conversation, text, now=DAY1):
    message = user_message(app, conversation["id"], text)
    with session_scope(app.extensions["kindred.db"]) as session:
        return affinity.award_exchange(session, app.config, user_id_of(app, auth.username),
                                       conversation["character_id"], message, now=now), message


def _gems(app, username):
    with session_scope(app.extensions["kindred.db"]) as session:
        return gacha.ledger.balance(session, user_id_of(app, username), "gems")


def _rewards(app, username):
    with session_scope(app.extensions["kindred.db"]) as session:
        rows = session.exec(select(LedgerTransaction).where(
            LedgerTransaction.user_id == user_id_of(app, username),
            LedgerTransaction.kind == "play_reward").order_by(LedgerTransaction.id))
        return [(t.details["reason"], t.details["amount"]) for t in rows]


def _card(app, character, rarity):
    with session_scope(app.extensions["kindred.db"]) as session:
        return session.exec(select(Card).where(Card.character_id == character,
                                               Card.rarity == rarity)).one().id


def _give_copy(app, username, card_id):
    """A copy in the collection (through the gacha's claim, which skips level rules)."""
    with session_scope(app.extensions["kindred.db"]) as session:
        gacha.collection.claim_card(session, user_id_of(app, username), card_id, reason="test setup")


def _state(auth, character):
    return auth.call("GET", f"/api/relationships/{character}").get_json()


# --- gems earned by playing -------------------------------------------------------------------

@pytest.mark.both_databases
def test_the_first_chat_of_the_day_and_a_streak_day_pay_gems_once_a_day(app, auth):
    auth.signup()
    first = auth.start_conversation(1)
    other = auth.start_conversation(2)
    award, _ = _award(app, auth, first, "Tell me about your airship days.")
    assert award.gems == app.config["GEMS_FIRST_CHAT_OF_DAY"] == 20
    again, _ = _award(app, auth, other, "What do you cook on rainy evenings?")  # another character
    assert again.points > 0 and again.gems == 0  # affinity yes, the day's gems were paid
    next_day, _ = _award(app, auth, first, "Good morning, I brought some biscuits.",
                         now=DAY1 + timedelta(days=1))
    assert next_day.gems == 20 + app.config["GEMS_STREAK_DAY"]
    assert _rewards(app, auth.username) == [("first_chat_of_day", 20), ("first_chat_of_day", 20),
                                            ("chat_streak", 10)]
    assert _gems(app, auth.username) == 50


def test_low_effort_messages_pay_no_gems(app, auth):
    auth.signup()
    conversation = auth.start_conversation()
    award, _ = _award(app, auth, conversation, "hi")
    assert award.points == 0 and award.gems == 0 and _rewards(app, auth.username) == []


@pytest.mark.both_databases
def test_a_failed_payment_is_made_by_the_retry_and_never_twice(app, auth, monkeypatch):
    auth.signup()
    conversation = auth.start_conversation()

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")
    real = gacha.ledger.earn_gems
    monkeypatch.setattr(rewards.ledger, "earn_gems", broken)
    award, message = _award(app, auth, conversation, "Tell me about your airship days.")
    assert award.points == 7 and award.gems == 0 and _gems(app, auth.username) == 0
    monkeypatch.setattr(rewards.ledger, "earn_gems", real)
    with session_scope(app.extensions["kindred.db"]) as session:  # the same message again
        user = user_id_of(app, auth.username)
        retry = affinity.award_exchange(session, app.config, user, conversation["character_id"],
                                        message, now=DAY1)
        replay = affinity.award_exchange(session, app.config, user, conversation["character_id"],
                                         message, now=DAY1)
    assert (retry.points, retry.gems) == (0, 20) and (replay.points, replay.gems) == (0, 0)
    assert _gems(app, auth.username) == 20


@pytest.mark.both_databases
def test_a_finished_story_chapter_pays_gems_once(story_app, auth):
    auth.signup()
    bramble = character_id(story_app, "Bramble")
    story = auth.call("GET", f"/api/characters/{bramble}/stories").get_json()["stories"][0]
    progress = auth.call("POST", f"/api/stories/{story['id']}/start").get_json()["progress"]
    chosen = auth.call("POST", f"/api/story-progress/{progress['id']}/choose",
                       json={"choice_id": "watch"})
    assert chosen.status_code == 200
    assert _rewards(story_app, auth.username) == [("story_chapter", 30)]
    with session_scope(story_app.extensions["kindred.db"]) as session:  # the event replayed
        repeat = affinity.award_chapter(session, story_app.config,
                                        user_id_of(story_app, auth.username), bramble,
                                        story["id"], "frost", 15)
    assert repeat.notes == ["already_rewarded"] and repeat.gems == 0
    assert _gems(story_app, auth.username) == 30


def test_paid_chapters_stop_at_the_daily_limit(story_app, auth):
    story_app.config["GEMS_STORY_CHAPTERS_PER_DAY"] = 2
    auth.signup()
    bramble = character_id(story_app, "Bramble")
    with session_scope(story_app.extensions["kindred.db"]) as session:
        user = user_id_of(story_app, auth.username)
        gems = [affinity.award_chapter(session, story_app.config, user, bramble, 0, f"c{i}", 1,
                                       now=DAY1).gems for i in range(3)]
    assert gems == [30, 30, 0]


# --- gifts --------------------------------------------------------------------------------

def _gift(auth, character, card_id, key=None):
    body = {"card_id": card_id}
    if key:
        body["idempotency_key"] = key
    return auth.call("POST", f"/api/relationships/{character}/gift", json=body)


@pytest.mark.both_databases
def test_a_gift_consumes_the_card_and_raises_affinity_by_rarity(gacha_app, auth):
    auth.signup()
    bramble = character_id(gacha_app, "Bramble")
    card = _card(gacha_app, bramble, "SR")
    _give_copy(gacha_app, auth.username, card)
    response = _gift(auth, bramble, card, "gift-1")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["points"] == gacha_app.config["GIFT_AFFINITY"]["SR"] == 15
    assert body["affinity"] == 15 and body["gift"]["owned"] == 0 and body["level_up"] is None
    replay = _gift(auth, bramble, card, "gift-1")
    assert replay.status_code == 409
    assert replay.get_json()["error"]["code"] == "idempotency_key_replayed"
    assert replay.get_json()["original"]["gift"]["transaction_id"] == body["gift"]["transaction_id"]
    assert _state(auth, bramble)["affinity"] == 15
    collection = auth.call("GET", "/api/gacha/collection").get_json()["cards"]
    assert next(c for c in collection if c["id"] == card)["count"] == 0


def test_bad_gifts_are_refused_and_change_nothing(gacha_app, auth):
    auth.signup()
    bramble = character_id(gacha_app, "Bramble")
    card = _card(gacha_app, bramble, "R")
    others = _card(gacha_app, 1 if bramble != 1 else 2, "R")
    _give_copy(gacha_app, auth.username, card)
    unowned = _card(gacha_app, bramble, "SSR")
    cases = [(bramble, 999999, 404, "not_found"), (bramble, "abc", 404, "not_found"),
             (bramble, others, 400, "wrong_character"), (bramble, unowned, 409, "card_not_owned"),
             (999999, card, 404, "not_found")]
    for character, card_id, status, code in cases:
        response = _gift(auth, character, card_id)
        assert response.status_code == status, (card_id, response.get_json())
        assert response.get_json()["error"]["code"] == code
    bad_key = auth.call("POST", f"/api/relationships/{bramble}/gift",
                        json={"card_id": card, "idempotency_key": "x" * 500})
    assert bad_key.status_code == 400
    no_csrf = auth.client.post(f"/api/relationships/{bramble}/gift", json={"card_id": card})
    assert no_csrf.status_code == 403
    assert _state(auth, bramble)["affinity"] == 0
    with session_scope(gacha_app.extensions["kindred.db"]) as session:
        assert gacha.collection.owned_count(session, user_id_of(gacha_app, auth.username), card) == 1


def test_gifts_past_the_daily_cap_are_refused_and_the_card_kept(gacha_app, auth):
    gacha_app.config["AFFINITY_GIFT_DAILY_CAP"] = 20
    auth.signup()
    bramble = character_id(gacha_app, "Bramble")
    sr, r, n = (_card(gacha_app, bramble, rarity) for rarity in ("SR", "R", "N"))
    for card in (sr, r, n):
        _give_copy(gacha_app, auth.username, card)
    assert _gift(auth, bramble, sr).get_json()["points"] == 15
    capped = _gift(auth, bramble, r).get_json()
    assert capped["points"] == 5  # 15 + 5 reaches the cap exactly
    refused = _gift(auth, bramble, n)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "gift_cap_reached"
    with session_scope(gacha_app.extensions["kindred.db"]) as session:
        assert gacha.collection.owned_count(session, user_id_of(gacha_app, auth.username), n) == 1


def test_a_gift_that_reaches_a_level_is_pushed_live(gacha_app, socket_client, auth):
    gacha_app.config["CARD_CLAIM_LEVELS"] = {"SR": "Acquaintance"}
    bramble = character_id(gacha_app, "Bramble")
    conversation = auth.start_conversation(bramble)
    socket_client.emit("chat:join", {"conversation_id": conversation["id"]})
    collect_until(socket_client, names=("chat:joined",))
    ssr = _card(gacha_app, bramble, "SSR")
    _give_copy(gacha_app, auth.username, ssr)
    body = _gift(auth, bramble, ssr).get_json()
    assert body["points"] == 40 and body["level_name"] == "Acquaintance"
    assert body["level_up"]["level"] == 1
    events = collect_until(socket_client, names=("relationship:level_up",))
    level_up = payloads(events, "relationship:level_up")[0]
    assert level_up == body["level_up"]
    sr = _card(gacha_app, bramble, "SR")
    assert {"type": "card", "card_id": sr} in [
        {"type": u["type"], "card_id": u.get("card_id")} for u in level_up["unlocked"]]
    assert payloads(events, "relationship:update")[0]["affinity"] == 40


# --- cards unlocked by levels ----------------------------------------------------------------

@pytest.mark.both_databases
def test_a_level_unlocks_a_free_card_claimed_once(gacha_app, auth):
    auth.signup()
    bramble = character_id(gacha_app, "Bramble")
    sr, n = _card(gacha_app, bramble, "SR"), _card(gacha_app, bramble, "N")
    state = _state(auth, bramble)
    locked = [i for i in state["locked"] if i["type"] == "card"]
    assert [(i["rarity"], i["level"]) for i in locked] == [("SR", 3), ("SSR", 4)]  # Close Friend
    claim = lambda card: auth.call("POST", f"/api/relationships/{bramble}/claim",  # noqa: E731
                                   json={"card_id": card})
    too_early = claim(sr)
    assert too_early.status_code == 403 and "Close Friend" in too_early.get_json()["error"]["message"]
    with session_scope(gacha_app.extensions["kindred.db"]) as session:
        affinity.award_chapter(session, gacha_app.config, user_id_of(gacha_app, auth.username),
                               bramble, 0, "bonus", 150)
    state = _state(auth, bramble)
    unlocked = [i for i in state["unlocked"] if i["type"] == "card"]
    assert [(i["card_id"], i["claimed"]) for i in unlocked] == [(sr, False)]
    assert claim(n).status_code == 400  # N cards are not unlocked by levels
    assert claim(999999).status_code == 404
    first = claim(sr)
    assert first.status_code == 201 and first.get_json()["owned"] == 1
    again = claim(sr)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_claimed"
    assert [i["claimed"] for i in _state(auth, bramble)["unlocked"] if i["type"] == "card"] == [True]
    with session_scope(gacha_app.extensions["kindred.db"]) as session:
        assert gacha.collection.owned_count(session, user_id_of(gacha_app, auth.username), sr) == 1
        assert gacha.ledger.ledger_problems(session) == []
