"""Affinity and levels: what earns points, what does not, levels, unlocks and the live level-up."""
from datetime import datetime, timedelta, timezone

import pytest

from core.db import session_scope
from core.extensions import socketio
from relationships import affinity
from tests.relationships.conftest import character_id, set_extensions, user_id_of, user_message
from tests.support.events import collect_until, payloads

DAY1 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def _award(app, db, auth, conversation, text, now=DAY1):
    message = user_message(app, conversation["id"], text)
    with session_scope(db) as session:
        return affinity.award_exchange(session, app.config, user_id_of(app, auth.username),
                                       conversation["character_id"], message, now=now)


@pytest.mark.both_databases
def test_replies_first_chat_of_the_day_and_streaks_earn_points(app, db, auth):
    auth.signup()
    conversation = auth.start_conversation()
    first = _award(app, db, auth, conversation, "Tell me about your airship days.")
    assert first.points == 2 + 5  # a reply, and the first chat of the day
    second = _award(app, db, auth, conversation, "What did the turnip farmer say to you?")
    assert second.points == 2
    next_day = _award(app, db, auth, conversation, "Good morning, I brought some biscuits.",
                      now=DAY1 + timedelta(days=1))
    assert next_day.points == 2 + 5 + 3  # a two-day streak adds a bonus
    later = _award(app, db, auth, conversation, "I am back again after a long week away.",
                   now=DAY1 + timedelta(days=5))
    assert later.points == 2 + 5  # the streak was broken
    assert later.affinity == 7 + 2 + 10 + 7


@pytest.mark.parametrize("text, note", [
    ("hi", "too_short"),
    ("ok!!", "too_short"),
    ("lol lol lol lol lol lol", "repetitive"),
])
def test_low_effort_messages_earn_nothing(app, db, auth, text, note):
    auth.signup()
    conversation = auth.start_conversation()
    award = _award(app, db, auth, conversation, text)
    assert award.points == 0 and award.notes == [note]


def test_repeated_and_near_duplicate_messages_earn_nothing(app, db, auth):
    auth.signup()
    conversation = auth.start_conversation()
    assert _award(app, db, auth, conversation, "Can I have a cup of smoked black tea?").points > 0
    again = _award(app, db, auth, conversation, "Can I have a cup of smoked black tea?")
    nearly = _award(app, db, auth, conversation, "can i have a cup of smoked black tea please")
    assert again.points == nearly.points == 0
    assert again.notes == nearly.notes == ["duplicate"]
    other_chat = auth.start_conversation()  # farming across conversations is caught too
    assert _award(app, db, auth, other_chat, "Can I have a cup of smoked black tea!").points == 0


@pytest.mark.both_databases
def test_concurrent_awards_for_one_message_count_once(app, db, auth):
    import threading
    auth.signup()
    conversation = auth.start_conversation()
    message = user_message(app, conversation["id"], "Tell me about the storm over the Saltwinds.")
    uid, results = user_id_of(app, auth.username), []

    def award():
        with session_scope(db) as session:
            results.append(affinity.award_exchange(session, app.config, uid, 1, message, now=DAY1))

    threads = [threading.Thread(target=award) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(a.points for a in results) == 7  # 2 for the reply + 5 for the first chat today
    state = auth.call("GET", "/api/relationships/1").get_json()
    assert state["affinity"] == 7


@pytest.mark.both_databases
def test_the_same_message_never_earns_twice(app, db, auth):
    auth.signup()
    conversation = auth.start_conversation()
    message = user_message(app, conversation["id"], "Which airship did you fly the longest?")
    with session_scope(db) as session:
        uid = user_id_of(app, auth.username)
        first = affinity.award_exchange(session, app.config, uid, 1, message, now=DAY1)
        regenerated = affinity.award_exchange(session, app.config, uid, 1, message, now=DAY1)
    assert first.points > 0 and regenerated.points == 0 and regenerated.affinity == first.affinity


def test_nothing_is_earned_past_the_daily_cap_until_the_next_day(app, db, auth):
    app.config["AFFINITY_DAILY_CAP"] = 12
    auth.signup()
    conversation = auth.start_conversation()
    earned = [_award(app, db, auth, conversation, text) for text in (
        "Where did you learn to fly?", "Do you still miss the mountains sometimes?",
        "My grandmother also loved smoked tea.", "The lanterns outside look beautiful tonight.",
        "Could you teach me to read a weather map?", "Tomorrow I start a new job downtown.")]
    assert sum(a.points for a in earned) == 12
    assert earned[-1].points == 0 and earned[-1].notes == ["daily_cap"]
    tomorrow = _award(app, db, auth, conversation, "A brand new day with a brand new question.",
                      now=DAY1 + timedelta(days=1))
    assert tomorrow.points > 0


def test_levels_follow_the_configured_thresholds_and_names(app, db, auth):
    app.config["LEVEL_THRESHOLDS"] = [0, 5, 10, 20, 30, 40]
    auth.signup()
    conversation = auth.start_conversation()
    award = _award(app, db, auth, conversation, "I would love to hear about the mountains.")
    assert (award.level_before, award.level_after, award.leveled_up) == (0, 1, True)
    state = auth.call("GET", f"/api/relationships/{conversation['character_id']}").get_json()
    assert state["affinity"] == 7 and state["level"] == 1 and state["level_name"] == "Acquaintance"
    assert state["next_level_at"] == 10 and state["level_at"] == 5
    with session_scope(db) as session:
        award = affinity.award_chapter(session, app.config, user_id_of(app, auth.username),
                                       conversation["character_id"], 99, "finale", 100)
    assert award.level_after == 5
    state = auth.call("GET", f"/api/relationships/{conversation['character_id']}").get_json()
    assert state["level_name"] == "Soulmate" and state["next_level_at"] is None


def test_levels_unlock_greetings_lore_and_chapters(app, db, auth):
    app.config["LEVEL_THRESHOLDS"] = [0, 5, 10, 20, 30, 40]
    auth.signup()
    odessa = character_id(app, "Odessa Vane")
    with session_scope(db) as session:
        from characters.models import Character
        character = session.get(Character, odessa)
        book = {"entries": [{"keys": ["war"], "content": "Odessa flew supply runs in the war.",
                             "name": "The war", "extensions": {"kindred/min_level": "Friend"}}]}
        character.character_book = book
        session.add(character)
        session.commit()
    set_extensions(app, odessa, **{"kindred/greeting_levels": [0, 2]})
    assert len(auth.start_conversation(odessa)["messages"]) == 1
    listed = auth.call("GET", f"/api/conversations/{auth.start_conversation(odessa)['id']}"
                       ).get_json()["conversation"]["messages"][0]["sibling_ids"]
    assert len(listed) == 2  # first_mes and the open alternate greeting; the level-2 one is shut
    state = auth.call("GET", f"/api/relationships/{odessa}").get_json()
    assert {(i["type"], i["level"]) for i in state["locked"]} == {("greeting", 2), ("lore", 2)}
    assert state["unlocked"] == []
    with session_scope(db) as session:
        award = affinity.award_chapter(session, app.config, user_id_of(app, auth.username),
                                       odessa, 1, "x", 10)
    assert award.level_after == 2
    state = auth.call("GET", f"/api/relationships/{odessa}").get_json()
    assert sorted((i["type"], i["level"]) for i in state["unlocked"]) == [("greeting", 2),
                                                                          ("lore", 2)]
    assert {i["label"] for i in state["unlocked"]} >= {"The war"} and state["locked"] == []
    fresh = auth.start_conversation(odessa)
    siblings = auth.call("GET", f"/api/conversations/{fresh['id']}").get_json()[
        "conversation"]["messages"][0]["sibling_ids"]
    assert len(siblings) == 3


def test_the_level_its_meaning_and_creator_notes_shape_the_prompt(app, db, auth, inference):
    from conversations.prompt import build_prompt
    from conversations.models import Conversation, Message
    from characters.models import Character
    auth.signup(username="sam")
    odessa = character_id(app, "Odessa Vane")
    set_extensions(app, odessa, **{"kindred/levels": {"Stranger": "Do not pour {{user}} tea yet.",
                                                      "5": "Pour {{user}} the secret blend."}})
    book = {"entries": [{"keys": ["war"], "content": "SECRET-WAR-LORE", "name": "The war",
                         "extensions": {"kindred/min_level": 5}}]}
    with session_scope(db) as session:
        character = session.get(Character, odessa)
        character.character_book = book
        session.add(character)
        session.commit()
    conversation = auth.start_conversation(odessa)

    def prompt_text():
        with session_scope(db) as session:
            convo = session.get(Conversation, conversation["id"])
            character = session.get(Character, odessa)
            history = [session.get(Message, conversation["messages"][0]["id"]),
                       Message(role="user", content="Tell me about the war.")]
            extras = app.extensions["kindred.replies"].prompt_extras(
                session, convo, character, history, "sam")
            return build_prompt(character, history, "sam", inference, 2048, 50, extras=extras).text

    stranger = prompt_text()
    assert "level 0 of 5" in stranger and "(Stranger)" in stranger and "polite but reserved" in stranger
    assert "Do not pour sam tea yet." in stranger and "SECRET-WAR-LORE" not in stranger
    with session_scope(db) as session:
        affinity.award_chapter(session, app.config, user_id_of(app, "sam"), odessa, 1, "x", 1000)
    soulmate = prompt_text()
    assert "(Soulmate)" in soulmate and "deepest bond" in soulmate
    assert "Pour sam the secret blend." in soulmate and "SECRET-WAR-LORE" in soulmate
    assert "Do not pour" not in soulmate


def test_a_level_up_is_pushed_live_to_the_conversation(app, socket_client, auth, story_app):
    app.config["LEVEL_THRESHOLDS"] = [0, 5, 100, 200, 300, 400]
    bramble = character_id(app, "Bramble")
    conversation = auth.start_conversation(bramble)
    socket_client.emit("chat:send", {"conversation_id": conversation["id"],
                                     "content": "I love watching the leaves turn in autumn."})
    events = collect_until(socket_client, names=("relationship:update",))
    assert payloads(events, "chat:done")
    update = payloads(events, "relationship:update")[0]
    assert update["points"] == 7 and update["level"] == 1
    level_up = payloads(collect_until(socket_client, names=("relationship:level_up",)),
                        "relationship:level_up")[0]
    assert level_up["character_id"] == bramble and level_up["level"] == 1
    assert level_up["level_name"] == "Acquaintance"
    assert [(u["type"], u["label"]) for u in level_up["unlocked"]] == [
        ("chapter", "The First Frost: The Glow Under the Oak")]
    socket_client.emit("chat:send", {"conversation_id": conversation["id"], "content": "ok"})
    quiet = payloads(collect_until(socket_client, names=("relationship:update",)),
                     "relationship:update")[0]
    assert quiet["points"] == 0 and quiet["notes"] == ["too_short"]


def test_another_users_socket_hears_nothing_of_my_level_up(app, socket_client, auth):
    app.config["LEVEL_THRESHOLDS"] = [0, 5, 100, 200, 300, 400]
    conversation = auth.start_conversation()
    intruder = app.test_client()
    intruder.post("/api/auth/signup", json={"username": "intruder", "password": "password1"})
    other = socketio.test_client(app, flask_test_client=intruder)
    socket_client.emit("chat:send", {"conversation_id": conversation["id"],
                                     "content": "I have three cats and a very old kettle."})
    collect_until(socket_client, names=("relationship:level_up",))
    assert not [e for e in other.get_received() if e["name"].startswith("relationship:")]
    other.disconnect()


def test_relationship_of_an_unknown_or_private_character_is_a_404(app, auth):
    auth.signup()
    assert auth.call("GET", "/api/relationships/999999").status_code == 404
    created = auth.call("POST", "/api/characters", json={"name": "Mine"}).get_json()["character"]
    other = app.test_client()
    other.post("/api/auth/signup", json={"username": "someone", "password": "password1"})
    response = other.get(f"/api/relationships/{created['id']}")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
