"""Each character's own D1/D7 retention on its creator's dashboard (GET
/api/characters/<id>/stats, `retention`): people who chatted with it again on day 1 / day 7
after their first chat with it, only when that day is over, the creator's own chats and the
demo data set left out. Worked by hand, on SQLite and PostgreSQL.

Days relative to today (T): C is the character, O another one.
  u1 first chats C on T-19, again on T-18 (D1) and T-12 (D7)
  u2 first chats C on T-19, chats O only on T-18 (not D1), C on T-12 (D7)
  u3 first chats C on T-15, never again
  u4 first chats C on T-4, again on T-3 (D1); day 7 not over
  u5 first chats C on T-1: day 1 (today) not over
  the creator chats C on T-19 and T-18: not counted; u6's rows are simulated (demo)
D1: due u1 u2 u3 u4, back u1 u4 = 2 of 4.  D7: due u1 u2 u3, back u1 u2 = 2 of 3."""
from datetime import datetime, time, timedelta, timezone

import pytest

from core.db import utcnow
from tests.analytics.conftest import insert_rows


@pytest.mark.both_databases
def test_a_creator_sees_their_characters_d1_and_d7(app, person):
    creator = person("user")
    character = creator.character()
    other = creator.character(name="Other")
    today = utcnow().date()

    def chat(user, days_ago, character_id=character, name="message_sent"):
        at = datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=timezone.utc)
        return (user, name, at, f"s{user}", {"character_id": character_id})

    insert_rows(app, [
        chat(901, 19, name="conversation_started"), chat(901, 18), chat(901, 12),
        chat(902, 19, name="conversation_started"), chat(902, 18, other), chat(902, 12),
        chat(903, 15),
        chat(904, 4), chat(904, 3),
        chat(905, 1),
        chat(creator.id, 19), chat(creator.id, 18),
    ])
    insert_rows(app, [chat(906, 19), chat(906, 18)], dataset="demo")

    response = creator.get(f"/api/characters/{character}/stats")
    assert response.status_code == 200, response.get_json()
    retention = response.get_json()["retention"]
    assert retention["d1"] == {"users": 4, "retained": 2, "rate": 0.5}
    assert retention["d7"] == {"users": 3, "retained": 2, "rate": pytest.approx(2 / 3)}
    other_retention = creator.get(f"/api/characters/{other}/stats").get_json()["retention"]
    assert other_retention["d1"] == other_retention["d7"] == {"users": 1, "retained": 0,
                                                              "rate": 0.0}  # u2, once
    fresh = creator.character(name="Fresh")
    assert creator.get(f"/api/characters/{fresh}/stats").get_json()["retention"]["d1"] == {
        "users": 0, "retained": 0, "rate": None}
