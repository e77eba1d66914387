"""The queue: held and blocked content from the safety pipeline, reports grouped by target with
their context, and conversation-level escalation."""
import pytest
from sqlmodel import Session, select

from conversations.models import Message
from core import events
from core.event_types import ContentFlagged
from moderation.models import Flag, QueueItem
from tests.moderation.conftest import act


def flag(app, target_type, target_id, user_id, action="hold", category="sexual_minors",
         scores=None, rule=None):
    """Record ContentFlagged the way a check point does: on a session, delivered at commit."""
    with Session(app.extensions["kindred.db"]) as session:
        events.record(session, ContentFlagged(
            surface="chat_message", target_type=target_type, target_id=target_id,
            user_id=user_id, action=action, category=category,
            scores=scores if scores is not None else {category: 0.97}, stage="classifier",
            rule=rule))
        session.commit()


@pytest.mark.both_databases
def test_a_held_message_is_in_the_queue_hidden_with_its_scores_and_thread(app, person):
    moderator, alice = person("moderator"), person()
    before = alice.message("first")
    held = alice.message("the held one")
    flag(app, "message", held, alice.id, scores={"sexual_minors": 0.97, "sexual": 0.4})
    items = moderator.get("/api/moderation/queue").get_json()["items"]
    assert len(items) == 1
    item = items[0]
    assert (item["target_type"], item["target_id"], item["source"], item["hidden"],
            item["rule"], item["category"]) == ("message", held, "flagged", True, "R1",
                                                "sexual_minors")
    assert item["scores"] == {"sexual_minors": 0.97, "sexual": 0.4}
    assert item["author"]["id"] == alice.id and item["author"]["standing"] == "ok"
    assert [f["action"] for f in item["flags"]] == ["hold"]
    target = [line for line in item["context"] if line["target"]]
    assert [line["id"] for line in target] == [held]
    assert before not in [line["id"] for line in item["context"]]  # another conversation
    assert item["context"][0]["role"] == "assistant"  # the greeting before it


def test_reports_and_flags_of_one_target_are_one_item(app, person):
    moderator, alice, bob, carol = person("moderator"), person(), person(), person()
    character_id = alice.character()
    for reporter, reason in ((bob, "sexual"), (carol, "sexual_minors")):
        assert reporter.call("POST", "/api/reports", json={
            "target_type": "character", "target_id": character_id,
            "reason": reason}).status_code == 201
    flag(app, "character", character_id, alice.id, action="block", category="sexual")
    items = moderator.get("/api/moderation/queue").get_json()["items"]
    assert len(items) == 1
    assert [r["reason"] for r in items[0]["reports"]] == ["sexual", "sexual_minors"]
    assert [f["action"] for f in items[0]["flags"]] == ["block"]
    assert items[0]["context"][0] == {"field": "name", "text": "Moddy"}


def test_a_mask_or_support_flag_is_recorded_but_not_queued(app, person):
    moderator, alice = person("moderator"), person()
    message_id = alice.message("my number is 555")
    flag(app, "message", message_id, alice.id, action="mask", category="privacy")
    assert moderator.get("/api/moderation/queue").get_json()["items"] == []
    with alice.session() as session:
        assert len(session.exec(select(Flag)).all()) == 1


def _conversation_of(person, message_id):
    with person.session() as session:
        return session.get(Message, message_id).conversation_id


@pytest.mark.both_databases
def test_repeated_blocked_attempts_in_one_conversation_escalate_it(app, person):
    moderator, alice = person("moderator"), person()
    conversation = alice.auth.start_conversation(1)
    from conversations import service
    from conversations.models import Conversation
    ids = []
    with alice.session() as session:
        found = session.get(Conversation, conversation["id"])
        for text in ("try one", "try two", "try three"):
            ids.append(service.append_message(session, found, "user", text).id)
    for message_id in ids[:2]:
        flag(app, "message", message_id, alice.id, action="block", category="violent_crime")
    escalated = lambda: [i for i in moderator.get("/api/moderation/queue").get_json()["items"]
                         if i["target_type"] == "conversation"]
    assert escalated() == []
    flag(app, "message", ids[2], alice.id, action="block", category="violent_crime")
    items = escalated()
    assert len(items) == 1
    item = items[0]
    assert item["target_id"] == conversation["id"] and item["source"] == "escalated"
    assert item["scores"]["blocked_attempts"] == 3
    assert len(item["flags"]) == 3 and item["author"]["id"] == alice.id
    assert [line["id"] for line in item["context"]][-3:] == ids


def test_below_threshold_minor_scores_add_up_to_an_escalation(app, person):
    """No message is blocked, but the conversation keeps steering toward a minor persona: the
    check point's low-score signals add up (MODERATION_ESCALATE_MINOR_SCORE, 1.5)."""
    moderator, alice = person("moderator"), person()
    first = alice.message("one")
    conversation_id = _conversation_of(alice, first)
    for score in (0.55, 0.5, 0.52):
        flag(app, "message", first, alice.id, action="signal", category="sexual_minors",
             scores={"sexual_minors": score})
    items = moderator.get("/api/moderation/queue").get_json()["items"]
    assert [(i["target_type"], i["target_id"], i["rule"]) for i in items] == [
        ("conversation", conversation_id, "R1")]
    assert items[0]["scores"]["sexual_minors_sum"] == pytest.approx(1.57)


def test_an_action_resolves_the_item_and_a_new_report_reopens_it(app, person):
    moderator, alice, bob, carol = person("moderator"), person(), person(), person()
    bob.call("POST", "/api/reports", json={"target_type": "user", "target_id": alice.id,
                                           "reason": "harassment"})
    assert act(moderator, "warn", "user", alice.id).status_code == 201  # rule from the report
    assert moderator.get("/api/moderation/queue").get_json()["items"] == []
    resolved = moderator.get("/api/moderation/queue?state=resolved").get_json()["items"]
    assert resolved[0]["actions"][0]["rule"] == "R5"
    carol.call("POST", "/api/reports", json={"target_type": "user", "target_id": alice.id,
                                             "reason": "spam"})
    with alice.session() as session:
        assert session.exec(select(QueueItem)).one().state == "open"


def test_a_failing_flag_subscriber_never_undoes_the_producer(app, person, monkeypatch):
    from moderation import queue
    alice = person()
    message_id = alice.message("hi")
    monkeypatch.setattr(queue, "record_flag", lambda *a, **k: 1 / 0)
    flag(app, "message", message_id, alice.id)  # logged, not raised
    with alice.session() as session:
        assert session.get(Message, message_id) is not None
