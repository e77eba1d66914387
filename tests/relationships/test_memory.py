"""Memories: extracted after replies with their source, retrieved into the prompt, editable."""
import pytest

from conversations.prompt import build_prompt
from core.db import session_scope
from conversations.models import Conversation, Message
from characters.models import Character
from relationships import memory
from relationships.memory import extract_facts
from relationships.models import Memory
from tests.relationships.conftest import user_id_of
from tests.support.chat import add_turn
from tests.support.events import collect_until, payloads


@pytest.mark.parametrize("text, facts", [
    ("My dog is called Miso.", ["Sam's dog is called Miso"]),
    ("I love hiking in the rain! And I'm allergic to cats.",
     ["Sam loves hiking in the rain", "Sam is allergic to cats"]),
    ("I live in Lyon with my sister", ["Sam lives in Lyon with their sister"]),
    ("I'm tired.", []),
    ("Do you like my hat?", []),
    ("If I had a boat I would love sailing.", []),
    ("I think my boss is mean.", []),
])
def test_only_durable_first_person_facts_are_extracted(text, facts):
    assert [f.content for f in extract_facts(text, "Sam")] == facts


def test_facts_are_remembered_after_a_reply_with_their_source_message(app, socket_client, auth):
    app.config["MEMORY_EXTRACTION"] = "rules"  # the model's path: test_memory_model.py
    conversation = auth.start_conversation()
    socket_client.emit("chat:send", {"conversation_id": conversation["id"],
                                     "content": "My dog is called Miso. I love hiking."})
    events = collect_until(socket_client, names=("memory:added",))
    user_message = payloads(events, "chat:message")[0]["message"]
    added = payloads(events, "memory:added")[0]["memories"]
    assert [m["content"] for m in added] == [f"{auth.username}'s dog is called Miso",
                                             f"{auth.username} loves hiking"]
    for item in added:
        assert item["source"] == {"message_id": user_message["id"],
                                  "conversation_id": conversation["id"],
                                  "excerpt": item["source"]["excerpt"]}
    listed = auth.call("GET", f"/api/memories?character_id={conversation['character_id']}"
                       ).get_json()["memories"]
    assert {m["content"] for m in listed} == {m["content"] for m in added}
    assert listed[0]["character_name"] == conversation["character_name"]


def test_a_newer_fact_about_the_same_thing_replaces_the_older_one(app, auth):
    auth.signup(username="sam")
    conversation = auth.start_conversation()
    with session_scope(app.extensions["kindred.db"]) as session:
        for text in ("My dog is called Miso.", "My dog is called Bean now."):
            question, _ = add_turn(app, conversation["id"], text, "Nice.")
            memory.remember_from_message(session, None, user_id_of(app, "sam"), 1,
                                         session.get(Message, question), "sam")
        remembered = memory.list_memories(session, user_id_of(app, "sam"), 1)
    assert [m.content for m in remembered] == ["sam's dog is called Bean now"]


def test_memories_can_be_edited_pinned_and_deleted(app, auth):
    auth.signup(username="sam")
    conversation = auth.start_conversation()
    _remember(app, conversation, "My favourite tea is oolong.")
    item = auth.call("GET", "/api/memories").get_json()["memories"][0]
    edited = auth.call("PATCH", f"/api/memories/{item['id']}",
                       json={"content": "sam's favourite tea is smoked oolong", "pinned": True})
    assert edited.status_code == 200
    body = edited.get_json()["memory"]
    assert body["content"] == "sam's favourite tea is smoked oolong"
    assert body["pinned"] is True and body["edited"] is True
    assert auth.call("DELETE", f"/api/memories/{item['id']}").status_code == 200
    assert auth.call("GET", "/api/memories").get_json()["memories"] == []


@pytest.mark.parametrize("body, status", [
    ({"content": ""}, 400), ({"content": "x" * 301}, 400), ({"pinned": "yes"}, 400),
    ({"colour": "red"}, 400), ({}, 400), ("just text", 400),
])
def test_bad_memory_edits_are_refused_and_change_nothing(app, auth, body, status):
    auth.signup(username="sam")
    conversation = auth.start_conversation()
    _remember(app, conversation, "My favourite tea is oolong.")
    before = auth.call("GET", "/api/memories").get_json()["memories"][0]
    response = auth.call("PATCH", f"/api/memories/{before['id']}", json=body)
    assert response.status_code == status and response.get_json()["error"]["message"]
    assert auth.call("GET", "/api/memories").get_json()["memories"][0] == before


def test_other_users_memories_and_unknown_ids_are_404(app, auth):
    auth.signup(username="sam")
    conversation = auth.start_conversation()
    _remember(app, conversation, "My favourite tea is oolong.")
    mine = auth.call("GET", "/api/memories").get_json()["memories"][0]
    other = app.test_client()
    csrf = other.post("/api/auth/signup", json={"username": "eve", "password": "password1"}
                      ).get_json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    assert other.patch(f"/api/memories/{mine['id']}", json={"pinned": True},
                       headers=headers).status_code == 404
    assert other.delete(f"/api/memories/{mine['id']}", headers=headers).status_code == 404
    assert other.get("/api/memories").get_json()["memories"] == []
    assert auth.call("DELETE", "/api/memories/999999").status_code == 404
    assert auth.call("GET", "/api/memories?character_id=999999").status_code == 404
    assert auth.call("GET", "/api/memories?character_id=abc").status_code == 400
    assert auth.call("GET", "/api/memories").get_json()["memories"] == [mine]


def test_relevant_and_pinned_memories_reach_the_prompt_within_the_budget(app, auth, inference):
    auth.signup(username="sam")
    conversation = auth.start_conversation()
    hooks = app.extensions["kindred.relationships"]
    for text in ("My dog is called Miso.", "My favourite colour is deep green.",
                 "I work as a night-shift nurse at the hospital.", "I collect old brass keys."):
        _remember(app, conversation, text, embedder=hooks.embedder)
    keys = next(m for m in auth.call("GET", "/api/memories").get_json()["memories"]
                if "keys" in m["content"])
    auth.call("PATCH", f"/api/memories/{keys['id']}", json={"pinned": True})
    app.config["MEMORY_TOKEN_BUDGET"] = 30
    text = _prompt(app, conversation, "Does your puppy like going for walks in the park?")
    assert "What Odessa Vane remembers about sam:" in text
    assert "sam's dog is called Miso" in text  # the most relevant
    assert "sam collects old brass keys" in text  # pinned: always
    assert "deep green" not in text and "nurse" not in text  # unrelated, or over the budget
    nurse = _prompt(app, conversation, "Long shifts at the hospital must be tiring.")
    assert "night-shift nurse" in nurse and "sam collects old brass keys" in nurse


def test_older_history_that_no_longer_fits_is_summarised(app, auth, inference):
    auth.signup(username="sam")
    conversation = auth.start_conversation()
    for n in range(30):
        add_turn(app, conversation["id"], f"Question {n}: what happened on voyage {n}? " + "more " * 20,
                 f"Answer {n}. It rained on voyage {n}. " + "words " * 20)
    app.config["MAX_CONTEXT_TOKENS"] = 700
    with session_scope(app.extensions["kindred.db"]) as session:
        convo = session.get(Conversation, conversation["id"])
        character = session.get(Character, convo.character_id)
        from conversations.service import active_path
        history = active_path(session, convo)
        extras = app.extensions["kindred.replies"].prompt_extras(
            session, convo, character, history, "sam")
        prompt = build_prompt(character, history, "sam", inference, 700, 50, extras=extras)
    assert prompt.history_dropped > 0 and prompt.token_count <= 650
    assert "Earlier in this conversation (summary):" in prompt.text
    last_dropped = history[prompt.history_dropped - 1]  # the newest turn that did not fit
    first_sentence = last_dropped.content.split("?")[0].split(".")[0]
    assert prompt.summary.splitlines()[-1].startswith(
        ("sam: " if last_dropped.role == "user" else "Odessa Vane: ") + first_sentence)
    assert "Question 0:" not in prompt.summary  # the oldest ones give way within the budget
    assert "more more" not in prompt.summary and "words words" not in prompt.summary


def _remember(app, conversation, text, embedder=None):
    question, _ = add_turn(app, conversation["id"], text, "Noted.")
    with session_scope(app.extensions["kindred.db"]) as session:
        owner = session.get(Conversation, conversation["id"]).user_id
        from core.users import User
        name = session.get(User, owner).username
        return memory.remember_from_message(session, embedder, owner, conversation["character_id"],
                                            session.get(Message, question), name)


def _prompt(app, conversation, latest):
    with session_scope(app.extensions["kindred.db"]) as session:
        convo = session.get(Conversation, conversation["id"])
        character = session.get(Character, convo.character_id)
        history = [Message(role="user", content=latest)]
        extras = app.extensions["kindred.replies"].prompt_extras(session, convo, character, history, "sam")
        return build_prompt(character, history, "sam", hooks_engine(app), 2048, 50, extras=extras).text


def hooks_engine(app):
    return app.extensions["kindred.inference"]


def test_memory_rows_keep_their_source_when_the_message_is_deleted(app, auth):
    auth.signup(username="sam")
    conversation = auth.start_conversation()
    stored = _remember(app, conversation, "My sister is called Ada.")
    auth.call("DELETE", f"/api/messages/{stored[0].source_message_id}")
    with session_scope(app.extensions["kindred.db"]) as session:
        row = session.get(Memory, stored[0].id)
    assert row.content == "sam's sister is called Ada" and row.source_message_id is None
    assert row.source_excerpt == "My sister is called Ada."
