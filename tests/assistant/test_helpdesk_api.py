"""POST /api/help/ask and POST /api/help/tickets through the real app (tiny model: the answer's
words are noise, so these check what retrieval and the routes decide), and the docs pages the
sources link to."""
from datetime import timedelta

from sqlmodel import Session, select

from assistant.helpdesk import MAX_ANSWER_CHARS
from assistant.models import HelpTicket
from core.db import utcnow
from moderation.models import QueueItem
from tests.moderation.conftest import act
from tests.support.users import update_user

PASSWORD_QUESTION = "How do I change my password?"
OFF_TOPIC = "What is the capital of Australia?"


def ask(person, question):
    return person.call("POST", "/api/help/ask", json={"question": question})


def tickets(app) -> list[HelpTicket]:
    with Session(app.extensions["kindred.db"]) as session:
        return list(session.exec(select(HelpTicket)))


def test_a_docs_question_is_answered_citing_the_page_that_holds_it(person):
    response = ask(person(), PASSWORD_QUESTION)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["confident"] is True
    assert 0 < len(body["answer"]) <= MAX_ANSWER_CHARS
    first = body["sources"][0]
    assert first["page"] == "api" and first["heading"] == "Accounts"
    assert first["url"] == "/help/docs/api#accounts"
    assert len({(s["page"], s["heading"]) for s in body["sources"]}) == len(body["sources"])


def test_a_source_link_opens_its_page_at_the_heading(person):
    asker = person()
    url = ask(asker, PASSWORD_QUESTION).get_json()["sources"][0]["url"]
    path, anchor = url.split("#")
    page = asker.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="{anchor}"' in html and "POST /api/auth/password" in html


def test_an_off_topic_question_says_it_is_not_sure_and_offers_a_ticket(person):
    body = ask(person(), OFF_TOPIC).get_json()
    assert body["confident"] is False and body["sources"] == []
    assert "not sure" in body["answer"] and "support ticket" in body["answer"]


def test_bad_questions_are_refused_with_a_json_error(person, client):
    asker = person()
    for question, code in ((None, "empty_question"), ("", "empty_question"),
                           ("   \n ", "empty_question"), (42, "empty_question"),
                           ("why? " * 101, "question_too_long"), ("a\x00b", "bad_text")):
        response = ask(asker, question)
        assert response.status_code == 400, question
        assert response.get_json()["error"]["code"] == code
    assert asker.call("POST", "/api/help/ask", data="question",
                      content_type="text/plain").status_code == 400
    assert client.post("/api/help/ask", json={"question": PASSWORD_QUESTION}).status_code == 401
    no_csrf = asker.client.post("/api/help/ask", json={"question": PASSWORD_QUESTION})
    assert no_csrf.status_code == 403


def test_a_question_moderation_refuses_is_a_422_and_nothing_is_answered(person):
    response = ask(person(), "FREE GEMS!!! claim them at www.free-gems-now.biz")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "blocked_content"


def test_a_ticket_goes_to_the_moderation_queue_for_admins(app, person):
    asker, admin = person(), person("admin")
    response = asker.call("POST", "/api/help/tickets",
                          json={"question": OFF_TOPIC, "details": "I looked everywhere."})
    assert response.status_code == 201, response.get_json()
    ticket = response.get_json()["ticket"]
    assert ticket["question"] == OFF_TOPIC and ticket["details"] == "I looked everywhere."
    queue = admin.get("/api/moderation/queue").get_json()["items"]
    item = next(i for i in queue if i["target_type"] == "ticket")
    assert item["target_id"] == ticket["id"] and item["source"] == "ticket"
    assert item["author"]["id"] == asker.id
    assert {"field": "question", "text": OFF_TOPIC} in item["context"]
    assert asker.get("/api/moderation/queue").status_code == 403
    closed = act(admin, "dismiss", "ticket", ticket["id"], reason="Answered by e-mail.")
    assert closed.status_code == 201, closed.get_json()
    open_now = admin.get("/api/moderation/queue").get_json()["items"]
    assert all(i["target_type"] != "ticket" for i in open_now)


def test_a_ticket_masks_private_details_and_refuses_what_moderation_blocks(app, person):
    asker = person()
    made = asker.call("POST", "/api/help/tickets", json={
        "question": "How do I change my display name?",
        "details": "Mail me at sam.doe@example.com"})
    assert made.status_code == 201
    assert "sam.doe@example.com" not in made.get_json()["ticket"]["details"]
    assert "sam.doe@example.com" not in tickets(app)[0].details
    blocked = asker.call("POST", "/api/help/tickets", json={
        "question": "Help", "details": "FREE GEMS!!! claim them at www.free-gems-now.biz"})
    assert blocked.status_code == 422 and len(tickets(app)) == 1


def test_bad_tickets_are_refused_and_nothing_is_stored(app, person, client):
    asker = person()
    for body, code in (({}, "empty_question"), ({"question": " "}, "empty_question"),
                       ({"question": "x" * 501}, "question_too_long"),
                       ({"question": "Help", "details": 3}, "bad_details"),
                       ({"question": "Help", "details": "d" * 4001}, "details_too_long")):
        response = asker.call("POST", "/api/help/tickets", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == code
    assert client.post("/api/help/tickets", json={"question": "Help"}).status_code == 401
    update_user(app.extensions["kindred.db"], asker.username,
                suspended_until=utcnow() + timedelta(days=1))
    suspended = asker.call("POST", "/api/help/tickets", json={"question": "Help"})
    assert suspended.status_code == 403
    assert suspended.get_json()["error"]["code"] == "suspended"
    with Session(app.extensions["kindred.db"]) as session:
        assert tickets(app) == []
        assert session.exec(select(QueueItem).where(QueueItem.target_type == "ticket")).first() \
            is None


def test_the_help_pages_need_a_login_and_unknown_docs_are_404(person, client):
    assert client.get("/help").status_code == 302
    assert client.get("/help/docs/api").status_code == 302
    reader = person()
    page = reader.get("/help").get_data(as_text=True)
    assert 'id="help-form"' in page and "js/help.js" in page and "<script>" not in page
    for missing in ("nope", "..%2Fconfig", "README"):
        assert reader.get(f"/help/docs/{missing}").status_code == 404
