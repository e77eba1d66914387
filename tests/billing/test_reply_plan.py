"""A plus member's chat reply is queued at high priority and its prompt keeps more of the
conversation (the tier's max_context_tokens) and of what the character remembers (its
memory_tokens); a free user's is queued normally and drops its oldest turns sooner. Through Socket.IO's test client, the real engine (tiny model) and a
membership granted by the signed webhook."""
from datetime import timedelta

import pytest

from billing.models import Membership
from core.extensions import socketio
from inference.scheduling import PRIORITY_HIGH, PRIORITY_NORMAL
from relationships.models import Memory
from tests.billing.conftest import TIERS, deliver, event
from tests.support.events import collect_until, payloads

SMALL_CONTEXT = 400
LONG_MESSAGE = "Tell me everything about the lighthouse by the cold northern sea. " * 12


@pytest.fixture
def app_config(app_config):
    tiers = {"free": {**TIERS["free"], "max_context_tokens": SMALL_CONTEXT},
             "plus": {**TIERS["plus"], "max_context_tokens": 2048}}
    return type("PlanConfig", (app_config,), {"MEMBERSHIP_TIERS": tiers,
                                              "EMBED_ON_PUBLISH": False})


@pytest.fixture
def submitted(app, monkeypatch):
    """The priority of every generation the app queues, recorded on the way to the engine."""
    engine, seen = app.extensions["kindred.inference"], []
    submit = engine.submit

    def recording(prompt, params, cache_key=None, priority=PRIORITY_NORMAL):
        seen.append(priority)
        return submit(prompt, params, cache_key=cache_key, priority=priority)

    monkeypatch.setattr(engine, "submit", recording)
    return seen


def _chat_twice(app, person) -> dict:
    """Two long turns with character 1; the prompt the second reply was built from."""
    sio = socketio.test_client(app, flask_test_client=person.client)
    conversation = person.auth.start_conversation(1)
    try:
        for _ in range(2):
            sio.emit("chat:send", {"conversation_id": conversation["id"],
                                   "content": LONG_MESSAGE})
            done = payloads(collect_until(sio), "chat:done")
            assert done, "no chat:done"
    finally:
        sio.disconnect()
    reply_id = done[0]["message"]["id"]
    response = person.call("GET", f"/api/messages/{reply_id}/prompt")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["prompt"]


def test_a_plus_members_reply_goes_first_and_keeps_the_longer_context(app, client, people,
                                                                      submitted):
    free, member = people(2)
    assert deliver(client, event("evt_plan", user_id=member.id)).status_code == 200

    free_prompt = _chat_twice(app, free)
    free_priorities = list(submitted)
    member_prompt = _chat_twice(app, member)
    member_priorities = submitted[len(free_priorities):]

    assert free_priorities and set(free_priorities) == {PRIORITY_NORMAL}
    assert member_priorities and set(member_priorities) == {PRIORITY_HIGH}
    assert free_prompt["history_dropped"] > 0  # the card and the newest turn always stay
    assert member_prompt["history_dropped"] == 0
    assert member_prompt["total_tokens"] > free_prompt["total_tokens"]


def test_a_lapsed_membership_is_queued_and_budgeted_as_free(app, client, people, submitted):
    (member,) = people(1)
    assert deliver(client, event("evt_short", user_id=member.id, days=1)).status_code == 200
    with member.session() as session:  # the day has passed
        membership = session.get(Membership, member.id)
        membership.expires_at -= timedelta(days=2)
        session.add(membership)
        session.commit()
    prompt = _chat_twice(app, member)
    assert set(submitted) == {PRIORITY_NORMAL}
    assert prompt["history_dropped"] > 0


FACTS = [f"{n}. keeps a blue notebook of every lighthouse visited, number {n}" for n in range(12)]


@pytest.fixture
def prompts(app, monkeypatch):
    """The text of every prompt the app queues, recorded on the way to the engine."""
    engine, seen = app.extensions["kindred.inference"], []
    submit = engine.submit

    def recording(prompt, params, cache_key=None, priority=PRIORITY_NORMAL):
        seen.append(prompt.text if hasattr(prompt, "text") else str(prompt))
        return submit(prompt, params, cache_key=cache_key, priority=priority)

    monkeypatch.setattr(engine, "submit", recording)
    return seen


def _remembered_in_reply(app, person, prompts) -> int:
    """How many of FACTS (pinned memories of `person` with character 1) one reply's prompt
    carries."""
    with person.session() as session:
        session.add_all([Memory(user_id=person.id, character_id=1, pinned=True,
                                content=f"{person.username} {fact}") for fact in FACTS])
        session.commit()
    sio = socketio.test_client(app, flask_test_client=person.client)
    conversation = person.auth.start_conversation(1)
    before = len(prompts)
    try:
        sio.emit("chat:send", {"conversation_id": conversation["id"], "content": "Hello again!"})
        assert payloads(collect_until(sio), "chat:done"), "no chat:done"
    finally:
        sio.disconnect()
    (text,) = prompts[before:]
    return sum(f"{person.username} {fact}" in text for fact in FACTS)


def test_a_plus_members_character_remembers_more_of_them(app, client, people, prompts):
    free, member = people(2)
    assert deliver(client, event("evt_memory", user_id=member.id)).status_code == 200

    free_count = _remembered_in_reply(app, free, prompts)
    member_count = _remembered_in_reply(app, member, prompts)

    assert 0 < free_count < member_count == len(FACTS)  # free: 40 tokens; plus: 400
