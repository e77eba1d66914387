"""The safety pipeline in chat (issue 13), over the Flask-SocketIO test client with the tiny
model: blocked, masked and self-harm messages, blocked replies, escalation, suspension and bans,
hidden messages, and the wellbeing nudge."""
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from conversations.guard import CHECK_IN_INSTRUCTION, NEUTRAL_LINE, SUPPORT_INSTRUCTION
from conversations.models import Conversation, Message
from core.db import utcnow
from core.users import User
from safety import Decision
from safety.rules import add_rule, seed_default_rules
from tests.moderation.conftest import Person, act
from tests.support.users import update_user
from tests.support.events import collect_until, payloads

BLOCKED_WORD = "zorblax"


@pytest.fixture
def db(app):
    return app.extensions["kindred.db"]


@pytest.fixture
def guard(app):
    return app.extensions["kindred.replies"].guard


@pytest.fixture
def rules(app, db):
    """The shipped rules plus a word rule (hate: block) the tiny model never writes."""
    with Session(db) as session:
        seed_default_rules(session)
        add_rule(session, "hate", "word", BLOCKED_WORD, None)
    app.extensions["kindred.moderator"].rules.invalidate()


@pytest.fixture
def prompts(app, monkeypatch):
    """Every prompt text the engine is handed, in order."""
    engine, seen = app.extensions["kindred.inference"], []
    submit = engine.submit

    def recording(text, *args, **kwargs):
        seen.append(text)
        return submit(text, *args, **kwargs)
    monkeypatch.setattr(engine, "submit", recording)
    return seen


def _send(sio, conversation_id, content):
    sio.emit("chat:send", {"conversation_id": conversation_id, "content": content})
    return collect_until(sio)


def _stored(db, conversation_id):
    with Session(db) as session:
        return list(session.exec(select(Message).where(Message.conversation_id == conversation_id)
                                 .order_by(Message.id)))


def _me(db, username):
    with Session(db) as session:
        return session.exec(select(User).where(User.username == username)).one()


def _decision(action, category, text, scores=None, rule=None, flagged=None):
    categories = {"sexual_minors": 0.0, "self_harm": 0.0, "sexual": 0.0, "hate": 0.0,
                  "harassment": 0.0, "violent_crime": 0.0, "privacy": 0.0, "spam": 0.0,
                  **(scores or {})}
    return Decision(action=action, category=category, categories=categories,
                    flagged=flagged if flagged is not None else ((category,) if category else ()),
                    stage="rules", rule=rule, text=text)


class ReplyBlocker:
    """In place of the guard's judge-free moderator, which checks replies: it blocks every
    reply (hate, R4) and hands the user's messages to the real one; `calls` are the reply
    texts it checked."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def moderate(self, text, surface, context=None):
        if surface != "chat_reply":
            return self.real.moderate(text, surface, context)
        self.calls.append(text)
        return _decision("block", "hate", text, {"hate": 1.0}, "R4")


def _block_replies(guard, monkeypatch) -> ReplyBlocker:
    blocker = ReplyBlocker(guard.quick)
    monkeypatch.setattr(guard, "quick", blocker)
    monkeypatch.setattr(guard, "check_replies", True)  # off in TestConfig (config.py says why)
    return blocker


@pytest.mark.both_databases
def test_a_blocked_message_is_stored_blocked_and_never_reaches_the_model(
        app, db, rules, prompts, socket_client, auth):
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"], f"you are a {BLOCKED_WORD}")
    shown = payloads(events, "chat:message")[0]["message"]
    error = payloads(events, "chat:error")[0]
    assert shown["status"] == "blocked" and shown["role"] == "user"
    assert (error["code"], error["category"], error["rule"]) == ("blocked_content", "hate", "R4")
    assert error["message_id"] == shown["id"] and error["message"]
    assert not payloads(events, "chat:token") and prompts == []  # the engine got no job
    stored = _stored(db, conversation["id"])
    assert [(m.role, m.status) for m in stored if m.parent_id is not None] == [("user", "blocked")]

    # The next message goes on below the blocked one; its prompt leaves the blocked one out.
    events = _send(socket_client, conversation["id"], "Tell me about the weather.")
    done = payloads(events, "chat:done")[0]
    assert done["message"]["status"] == "complete"
    assert len(prompts) == 1 and BLOCKED_WORD not in prompts[0]
    assert "Tell me about the weather." in prompts[0]
    report = auth.call("GET", f"/api/messages/{done['message']['id']}/prompt").get_json()[
        "prompt"]
    assert [t["role"] for t in report["history_turns"]] == ["assistant", "user"]
    page = auth.call("GET", f"/api/conversations/{conversation['id']}").get_json()
    assert [m["status"] for m in page["conversation"]["messages"]] == [
        "complete", "blocked", "complete", "complete"]


def test_regenerating_right_after_a_blocked_message_is_refused(rules, prompts, socket_client,
                                                                auth):
    conversation = auth.start_conversation()
    _send(socket_client, conversation["id"], f"{BLOCKED_WORD}!")
    socket_client.emit("chat:regenerate", {"conversation_id": conversation["id"]})
    error = payloads(collect_until(socket_client), "chat:error")[0]
    assert error["code"] == "blocked_content" and prompts == []


@pytest.mark.both_databases
def test_an_email_address_is_stored_masked(db, rules, prompts, socket_client, auth):
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"], "Write to me at sam.smith@example.com")
    shown = payloads(events, "chat:message")[0]["message"]
    assert shown["content"] == "Write to me at [email hidden]"
    assert shown["moderation"] == "privacy" and payloads(events, "chat:done")
    user_message = [m for m in _stored(db, conversation["id"]) if m.role == "user"][0]
    assert user_message.content == "Write to me at [email hidden]"
    assert "example.com" not in prompts[0]


def test_self_harm_gets_support_resources_and_a_supportive_reply(rules, prompts, socket_client,
                                                                  auth):
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"], "I want to kill myself tonight")
    notice = payloads(events, "chat:notice")[0]
    assert notice["kind"] == "support" and notice["conversation_id"] == conversation["id"]
    assert notice["level"] == "urgent"  # the shipped rules are sure: out of role
    assert any("116 123" in line for line in notice["resources"])
    assert any("988" in line for line in notice["resources"])
    assert payloads(events, "chat:done") and not payloads(events, "chat:error")  # not silent
    assert SUPPORT_INSTRUCTION.split("{{user}}")[0] in prompts[0]
    # The next, ordinary message's prompt no longer carries the support section.
    _send(socket_client, conversation["id"], "Thanks. Let's talk about tea.")
    assert SUPPORT_INSTRUCTION.split("{{user}}")[0] not in prompts[1]


def test_support_resources_follow_the_locale_and_the_setting(app, guard):
    guard.resources = {**guard.resources, "de": ["Telefonseelsorge: 0800 111 0 111"]}
    assert guard.support_resources("de-DE,de;q=0.9,en;q=0.8") == [
        "Telefonseelsorge: 0800 111 0 111"]
    assert any("988" in line for line in guard.support_resources("fr-FR"))


@pytest.mark.both_databases
def test_a_blocked_reply_is_replaced_and_its_original_kept_for_moderators(
        app, db, guard, monkeypatch, socket_client, auth):
    blocker = _block_replies(guard, monkeypatch)
    moderator = Person(app, "moderator")
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"], "Hello there")
    streamed = "".join(t["text"] for t in payloads(events, "chat:token")).strip()
    done = payloads(events, "chat:done")[0]
    line = NEUTRAL_LINE.replace("{{char}}", conversation["character_name"])
    assert done["moderated"] is True and done["message"]["moderated"] is True
    assert done["message"]["content"] == line and done["message"]["status"] == "complete"
    assert blocker.calls[-1].strip() == streamed
    reply = _stored(db, conversation["id"])[-1]
    assert (reply.content, reply.original_content, reply.status) == (line, streamed, "complete")
    page = auth.call("GET", f"/api/conversations/{conversation['id']}").get_json()
    shown = page["conversation"]["messages"][-1]  # the original is for moderators only
    assert shown["content"] == line and "original_content" not in shown

    items = moderator.get("/api/moderation/queue").get_json()["items"]
    item = next(i for i in items if (i["target_type"], i["target_id"]) == ("message", reply.id))
    assert [(f["surface"], f["action"], f["category"]) for f in item["flags"]] == [
        ("chat_reply", "block", "hate")]


def test_a_reply_that_turns_bad_is_cancelled_while_it_streams(app, db, guard, monkeypatch,
                                                               socket_client, auth):
    app.config["MAX_NEW_TOKENS"] = 400
    quick = _block_replies(guard, monkeypatch)
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"], "Tell me a long story")
    done = payloads(events, "chat:done")[0]
    assert len(quick.calls) == 1 and len(quick.calls[0]) >= 200  # checked once, then cancelled
    assert done["moderated"] is True and done["stopped"] is False
    assert done["tokens"] < 400
    reply = _stored(db, conversation["id"])[-1]
    streamed = "".join(t["text"] for t in payloads(events, "chat:token"))
    assert streamed.startswith(quick.calls[0])  # the check ran beside the stream
    assert reply.original_content == streamed.strip()


@pytest.mark.both_databases
def test_repeated_blocked_attempts_escalate_the_conversation(app, rules, socket_client, auth):
    moderator = Person(app, "moderator")
    conversation = auth.start_conversation()
    for attempt in range(3):
        _send(socket_client, conversation["id"], f"{BLOCKED_WORD} number {attempt}")
    items = moderator.get("/api/moderation/queue").get_json()["items"]
    escalated = [i for i in items if i["target_type"] == "conversation"]
    assert [(i["target_id"], i["source"]) for i in escalated] == [(conversation["id"],
                                                                   "escalated")]
    assert escalated[0]["scores"]["blocked_attempts"] == 3
    assert sum(i["target_type"] == "message" for i in items) == 3


def test_steering_toward_a_minor_below_the_threshold_escalates(app, guard, monkeypatch,
                                                               socket_client, auth):
    """No message is blocked, but their sexual_minors scores add up (moderation's signal)."""
    real = guard.moderator

    class Steering:
        def moderate(self, text, surface, context=None):
            if surface == "chat_message":
                return _decision("allow", None, text, {"sexual_minors": 0.6})
            return real.moderate(text, surface, context)
    monkeypatch.setattr(guard, "moderator", Steering())
    moderator = Person(app, "moderator")
    conversation = auth.start_conversation()
    for turn in range(3):
        events = _send(socket_client, conversation["id"], f"pretend you are younger {turn}")
        assert not payloads(events, "chat:error")
    items = moderator.get("/api/moderation/queue").get_json()["items"]
    escalated = [i for i in items if i["target_type"] == "conversation"]
    assert len(escalated) == 1 and escalated[0]["category"] == "sexual_minors"
    assert escalated[0]["scores"]["sexual_minors_sum"] >= 1.5
    assert [f["action"] for f in escalated[0]["flags"]
            if f["surface"] == "chat_message"] == ["signal"] * 3


@pytest.mark.both_databases
@pytest.mark.parametrize("standing", ["suspended", "banned"])
def test_a_suspended_or_banned_user_cannot_chat_and_nothing_is_stored(
        db, prompts, socket_client, auth, standing):
    conversation = auth.start_conversation()
    until = utcnow() + timedelta(days=3)
    update_user(db, auth.username, **({"suspended_until": until} if standing == "suspended"
                                     else {"banned_at": utcnow()}))
    for event in ("chat:send", "chat:regenerate"):
        socket_client.emit(event, {"conversation_id": conversation["id"], "content": "Hi"})
        error = payloads(collect_until(socket_client), "chat:error")[0]
        assert error["code"] == standing and error["message"]
        if standing == "suspended":
            assert error["until"].startswith(until.date().isoformat())
    assert not [m for m in _stored(db, conversation["id"]) if m.role == "user"]
    assert prompts == []


def test_a_message_a_moderator_hid_shows_as_hidden_and_leaves_the_prompt(
        app, db, prompts, socket_client, auth):
    moderator = Person(app, "moderator")
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"], "My secret word is pumpernickel")
    hidden_id = payloads(events, "chat:message")[0]["message"]["id"]
    assert act(moderator, "hide", "message", hidden_id, rule="R5").status_code == 201
    page = auth.call("GET", f"/api/conversations/{conversation['id']}").get_json()
    shown = next(m for m in page["conversation"]["messages"] if m["id"] == hidden_id)
    assert shown["hidden"] is True and shown["content"] == ""
    events = _send(socket_client, conversation["id"], "Tell me about the weather.")
    assert payloads(events, "chat:done"), events
    assert "pumpernickel" in prompts[0] and "pumpernickel" not in prompts[1]


def test_an_edit_that_breaks_the_rules_becomes_a_blocked_branch(db, rules, prompts,
                                                                 socket_client, auth):
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"], "Hello")
    user_id = payloads(events, "chat:message")[0]["message"]["id"]
    answer = auth.call("PATCH", f"/api/messages/{user_id}",
                       json={"content": f"Hello {BLOCKED_WORD}"}).get_json()
    assert answer["message"]["status"] == "blocked"
    assert answer["blocked"]["code"] == "blocked_content"
    greeting = conversation["messages"][0]["id"]
    refused = auth.call("PATCH", f"/api/messages/{greeting}", json={"content": BLOCKED_WORD})
    assert refused.status_code == 422 and refused.get_json()["error"]["category"] == "hate"
    assert BLOCKED_WORD not in _stored(db, conversation["id"])[0].content


def test_moderation_failing_refuses_the_message_and_stores_nothing(db, guard, monkeypatch,
                                                                    prompts, socket_client, auth):
    class Broken:
        def moderate(self, *_args, **_kwargs):
            raise RuntimeError("classifier down")
    monkeypatch.setattr(guard, "moderator", Broken())
    conversation = auth.start_conversation()
    error = payloads(_send(socket_client, conversation["id"], "Hi"), "chat:error")[0]
    assert error["code"] == "moderation_unavailable"
    assert not [m for m in _stored(db, conversation["id"]) if m.role == "user"]
    assert prompts == []


def _back_date_session(db, conversation_id, minutes):
    """User messages every 10 minutes from `minutes` ago until 5 minutes ago."""
    with Session(db) as session:
        conversation = session.get(Conversation, conversation_id)
        parent = conversation.active_leaf_id
        for ago in range(minutes, 4, -10):
            message = Message(conversation_id=conversation_id, parent_id=parent, role="user",
                              content=f"earlier {ago}", created_at=utcnow() - timedelta(
                                  minutes=ago))
            session.add(message)
            session.flush()
            parent = message.id
        conversation.active_leaf_id = parent
        session.add(conversation)
        session.commit()


@pytest.mark.both_databases
def test_an_under_18_account_gets_the_wellbeing_nudge_once_per_session(db, socket_client, auth):
    conversation = auth.start_conversation()  # no birth year given: counts as under 18
    _back_date_session(db, conversation["id"], 125)
    notices = payloads(_send(socket_client, conversation["id"], "Still here"), "chat:notice")
    assert [(n["kind"], n["minutes"]) for n in notices] == [("wellbeing", 120)]
    assert "2 hours" in notices[0]["message"]
    assert not payloads(_send(socket_client, conversation["id"], "And again"), "chat:notice")


def test_a_short_session_gets_no_nudge(db, socket_client, auth):
    conversation = auth.start_conversation()
    _back_date_session(db, conversation["id"], 60)
    assert not payloads(_send(socket_client, conversation["id"], "Hi"), "chat:notice")


def test_adults_get_the_nudge_only_when_the_setting_asks(app, db, guard, socket_client, auth):
    update_user(db, auth.username, birth_year=utcnow().year - 30)
    conversation = auth.start_conversation()
    _back_date_session(db, conversation["id"], 125)
    assert not payloads(_send(socket_client, conversation["id"], "Hi"), "chat:notice")
    guard.nudge_adults = True
    notices = payloads(_send(socket_client, conversation["id"], "Hi again"), "chat:notice")
    assert [n["kind"] for n in notices] == ["wellbeing"]


def test_self_harm_blocked_for_something_else_still_gets_support(guard, monkeypatch, prompts,
                                                                 socket_client, auth):
    class Both:
        def moderate(self, text, surface, context=None):
            return Decision(action="block", category="violent_crime",
                            categories={"self_harm": 0.9, "violent_crime": 0.9},
                            flagged=("self_harm", "violent_crime"), stage="classifier",
                            rule="R6", text=text, support=True)
    monkeypatch.setattr(guard, "moderator", Both())
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"], "something dark")
    assert [n["kind"] for n in payloads(events, "chat:notice")] == ["support"]
    assert payloads(events, "chat:error")[0]["code"] == "blocked_content" and prompts == []
    assert payloads(events, "chat:message")[0]["message"]["moderation"] == "violent_crime"


def test_a_borderline_self_harm_score_gets_a_gentle_in_role_check_in(guard, monkeypatch, prompts,
                                                                     socket_client, auth):
    """The head alone, just over its threshold (venting such as "this exam is killing me"
    scores there too): the helplines are offered, and the character stays in role."""
    class Borderline:
        def moderate(self, text, surface, context=None):
            return Decision(action="support", category="self_harm",
                            categories={"self_harm": 0.5}, flagged=("self_harm",),
                            stage="classifier", rule="R2", text=text, support=True,
                            stages={"self_harm": "classifier"})
    monkeypatch.setattr(guard, "moderator", Borderline())
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"], "this week is killing me")
    notice = payloads(events, "chat:notice")[0]
    assert (notice["kind"], notice["level"]) == ("support", "check_in") and notice["resources"]
    assert payloads(events, "chat:done") and not payloads(events, "chat:error")
    assert CHECK_IN_INSTRUCTION.split("{{user}}")[1][:60] in prompts[0]
    assert SUPPORT_INSTRUCTION.split("{{user}}")[1][:60] not in prompts[0]
    assert payloads(events, "chat:message")[0]["message"]["moderation"] == "self_harm_check_in"


def test_a_self_harm_message_with_a_phone_number_is_stored_masked(db, rules, prompts,
                                                                 socket_client, auth):
    conversation = auth.start_conversation()
    events = _send(socket_client, conversation["id"],
                   "I want to kill myself tonight, my number is 312-555-0187")
    assert payloads(events, "chat:notice")[0]["kind"] == "support"
    sent = payloads(events, "chat:message")[0]["message"]
    assert sent["content"] == "I want to kill myself tonight, my number is [phone hidden]"
    assert "555-0187" not in prompts[0]
    assert all("555-0187" not in m.content for m in _stored(db, conversation["id"]))
