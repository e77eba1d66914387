"""Reports: any user reports what they can see, once; bad input stores nothing."""
import pytest
from sqlmodel import func, select

from moderation.models import QueueItem, Report


def report(person, target_type, target_id, reason="harassment", **more):
    return person.call("POST", "/api/reports", json={"target_type": target_type,
                                                      "target_id": target_id, "reason": reason,
                                                      **more})


def count(person, model) -> int:
    with person.session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.both_databases
def test_a_report_is_created_once_and_reporting_again_returns_the_same(person):
    alice, bob = person(), person()
    response = report(alice, "user", bob.id, note="Keeps insulting me.")
    assert response.status_code == 201
    first = response.get_json()["report"]
    assert first["reason"] == "harassment" and first["status"] == "open"
    again = report(alice, "user", bob.id, reason="spam")
    assert again.status_code == 200
    assert again.get_json()["report"]["id"] == first["id"]
    assert again.get_json()["report"]["reason"] == "harassment"
    assert count(alice, Report) == 1
    with alice.session() as session:
        item = session.exec(select(QueueItem)).one()
    assert (item.target_type, item.target_id, item.state, item.source, item.author_id,
            item.rule) == ("user", bob.id, "open", "reported", bob.id, "R5")


def test_a_message_is_reported_by_its_conversation_owner_only(person):
    alice, bob = person(), person()
    message_id = alice.message("something awful")
    assert report(bob, "message", message_id).status_code == 404
    assert report(alice, "message", message_id).status_code == 201


def test_a_private_character_cannot_be_reported_by_others(person):
    alice, bob = person(), person()
    private = alice.character(visibility="private")
    public = alice.character(visibility="public")
    assert report(bob, "character", private).status_code == 404
    assert report(bob, "character", public, reason="sexual_minors").status_code == 201


@pytest.mark.parametrize("body, status, code", [
    ({"target_type": "user", "target_id": 999999}, 404, "not_found"),
    ({"target_type": "message", "target_id": 999999}, 404, "not_found"),
    ({"target_type": "character", "target_id": 999999}, 404, "not_found"),
    ({"target_type": "planet", "target_id": 1}, 400, "bad_target_type"),
    ({"target_type": "conversation", "target_id": 1}, 400, "bad_target_type"),
    ({"target_type": "user", "target_id": "x"}, 400, "bad_request"),
    ({"reason": ""}, 400, "missing_reason"),
    ({"reason": "   "}, 400, "missing_reason"),
    ({"reason": None}, 400, "missing_reason"),
    ({"reason": "x" * 21}, 400, "reason_too_long"),
    ({"reason": "x" * 100_000}, 400, "reason_too_long"),
    ({"reason": "meanness"}, 400, "bad_reason"),
    ({"note": "n" * 1001}, 400, "note_too_long"),
    ({"note": 5}, 400, "bad_note"),
])
def test_bad_reports_are_refused_and_store_nothing(person, body, status, code):
    alice, bob = person(), person()
    payload = {"target_type": "user", "target_id": bob.id, "reason": "spam", **body}
    response = alice.call("POST", "/api/reports", json=payload)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert count(alice, Report) == 0 and count(alice, QueueItem) == 0


def test_reporting_needs_a_login_and_yourself_is_refused(person, client):
    alice = person()
    anonymous = client.post("/api/reports", json={"target_type": "user", "target_id": alice.id,
                                                  "reason": "spam"})
    assert anonymous.status_code in (401, 403)  # the CSRF check comes first, then the login
    response = report(alice, "user", alice.id)
    assert response.status_code == 400 and count(alice, Report) == 0


@pytest.mark.both_databases
def test_reports_sent_at_once_make_one_report_each_and_one_queue_item(app, person):
    import threading
    from sqlmodel import Session
    from moderation.reports import report as make_report
    target, reporters = person(), [person() for _ in range(3)]
    engine = app.extensions["kindred.db"]
    barrier, results, errors = threading.Barrier(6), [], []

    def send(reporter_id):
        try:
            with Session(engine, expire_on_commit=False) as session:
                barrier.wait()
                made, new = make_report(session, reporter_id, "user", target.id, "spam")
                results.append((reporter_id, made.id, new))
        except Exception as exc:  # pragma: no cover - shown in the assertion
            errors.append(exc)
    threads = [threading.Thread(target=send, args=(r.id,)) for r in reporters * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(new for _r, _id, new in results) == 3
    by_reporter = {}
    for reporter_id, report_id, _new in results:
        by_reporter.setdefault(reporter_id, set()).add(report_id)
    assert all(len(ids) == 1 for ids in by_reporter.values())
    assert count(target, Report) == 3 and count(target, QueueItem) == 1
