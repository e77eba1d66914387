"""Every dashboard figure on a hand-made event set, the answer worked out by hand: DAU, WAU, MAU
and DAU/MAU; session length and messages per session (median, p90); the three funnels; and what
the community adds, with its 95% confidence interval. On SQLite and PostgreSQL."""
from datetime import datetime, timezone

import pytest

from tests.analytics.conftest import insert_rows


def at(day: str, clock: str = "12:00") -> datetime:
    return datetime.fromisoformat(f"2026-{day}T{clock}").replace(tzinfo=timezone.utc)


def event(user, name, when, session=None, **properties):
    return (user, name, when, session or f"s{user}", properties)


# Activity. u1 on 12-01, 12-03, 12-09; u2 on 12-09, 12-10; u3 on 11-15; u4 on 12-05.
#   12-08: DAU 0; WAU (12-02..12-08) u1 u4 = 2; MAU (11-09..12-08) u1 u3 u4 = 3
#   12-09: DAU u1 u2 = 2; WAU (12-03..) u1 u2 u4 = 3; MAU (11-10..) all four = 4; DAU/MAU 0.5
#   12-10 (today, not over): DAU u2 = 1; WAU (12-04..) u1 u2 u4 = 3; MAU (11-11..) 4
ACTIVITY = [event(1, "message_sent", at("12-01")), event(1, "message_sent", at("12-03")),
            event(1, "swipe_made", at("12-09", "08:00")), event(1, "message_sent", at("12-09")),
            event(2, "user_signed_up", at("12-09", "23:59")),
            event(2, "message_sent", at("12-10", "00:01")),
            event(3, "message_sent", at("11-15")), event(4, "cards_drawn", at("12-05")),
            event(None, "character_published", at("12-08"))]


@pytest.mark.both_databases
def test_dau_wau_mau_and_stickiness_per_day(admin_at, app):
    admin = admin_at(at("12-10"))
    insert_rows(app, ACTIVITY)
    insert_rows(app, [event(9, "message_sent", at("12-08"))], dataset="demo")
    response = admin.get("/api/admin/analytics/activity?from=2026-12-08&to=2026-12-10")
    assert response.status_code == 200, response.get_json()
    assert [(d["day"], d["dau"], d["wau"], d["mau"], d["stickiness"], d["incomplete"])
            for d in response.get_json()["days"]] == [
        ("2026-12-08", 0, 2, 3, 0.0, False), ("2026-12-09", 2, 3, 4, 0.5, False),
        ("2026-12-10", 1, 3, 4, 0.25, True)]
    demo = admin.get("/api/admin/analytics/activity?from=2026-12-08&to=2026-12-08"
                     "&dataset=demo").get_json()["days"]
    assert [(d["dau"], d["mau"]) for d in demo] == [(1, 1)]  # user 9 only, no real user


# Engagement, sessions by the day of their first event (from 12-09 to 12-10):
#   a (u1) 12-09 10:00 .. 10:10, 2 messages: 600 s     b (u2) 12-09 12:00, 1 message: 0 s
#   c (u1) 12-09 23:50 .. 12-10 00:20, 1 message: 1800 s (a 12-09 session)
#   d (u2) 12-10 08:00 .. 08:40, 3 messages: 2400 s     e (u4) 12-05, 0 messages: out of range
# Lengths [0, 600, 1800, 2400]: median 1200, p90 at rank 2.7 = 1800 + 0.7 * 600 = 2220.
# Messages [1, 1, 2, 3]: median 1.5, p90 2 + 0.7 * 1 = 2.7.
# 12-09 alone: [0, 600, 1800] median 600, p90 at rank 1.8 = 600 + 0.8 * 1200 = 1560.
ENGAGEMENT = [
    event(1, "session_started", at("12-09", "10:00"), "a"),
    event(1, "message_sent", at("12-09", "10:01"), "a"),
    event(1, "message_sent", at("12-09", "10:05"), "a"),
    event(1, "reply_finished", at("12-09", "10:10"), "a"),
    event(2, "message_sent", at("12-09", "12:00"), "b"),
    event(1, "session_started", at("12-09", "23:50"), "c"),
    event(1, "message_sent", at("12-10", "00:20"), "c"),
    event(2, "session_started", at("12-10", "08:00"), "d"),
    *[event(2, "message_sent", at("12-10", f"08:{m}"), "d") for m in ("20", "30", "40")],
    event(4, "session_started", at("12-05"), "e"),
]


@pytest.mark.both_databases
def test_session_length_and_messages_per_session_median_and_p90(admin_at, app):
    admin = admin_at(at("12-10"))
    insert_rows(app, ENGAGEMENT)
    data = admin.get("/api/admin/analytics/engagement?from=2026-12-09&to=2026-12-10").get_json()
    assert data["sessions"] == 4
    assert data["session_seconds"] == {"median": 1200, "p90": pytest.approx(2220)}
    assert data["messages_per_session"] == {"median": 1.5, "p90": pytest.approx(2.7)}
    first_day = data["days"][0]
    assert first_day["day"] == "2026-12-09" and first_day["sessions"] == 3
    assert first_day["session_seconds"] == {"median": 600, "p90": pytest.approx(1560)}
    assert data["days"][1]["session_seconds"] == {"median": 2400, "p90": 2400}


# Funnels from 12-01 to 12-09, today 12-10:
#   sign-up: a 12-01 10:00, chats 10:05, back 12-02 -> 3 steps; b 12-01 22:00, chats 12-02 21:00
#     (23 h later) which is day 1 too -> 3; c 12-02 10:00, chats 12-03 11:00 (25 h) -> 1;
#     d 12-03, never chats -> 1; e 12-03 08:00 chats 08:10, not back -> 2; f 12-09: day 1 not
#     over -> pending; g signed up 11-20 (before `from`), h 11-01: not in it.
#     => 5, 3, 2; pending 1
#   swipe: a 12-01 10:02 (chat 10:05, back) -> 3; c 12-02 10:30 (chat 24.5 h later) -> 1;
#     h 12-04 09:00 (chat 09:30, not back 12-05) -> 2  => 3, 2, 1
#   post: a posts 12-01 11:00, b comments 23:00, a back -> 3; e posts 12-03 09:00, comments on
#     it herself, a character comments 12-04 10:00 (25 h) -> 1; d posts 12-03 13:00, a character
#     comments 14:00, d not back -> 2  => 3, 2, 1
A, B, C, D, E, F, G, H = 201, 202, 203, 204, 205, 206, 207, 208
FUNNELS = [
    event(A, "user_signed_up", at("12-01", "10:00")), event(A, "swipe_made", at("12-01", "10:02")),
    event(A, "message_sent", at("12-01", "10:05")),
    event(A, "post_published", at("12-01", "11:00"), post_id=1),
    event(A, "session_started", at("12-02", "09:00")),
    event(B, "user_signed_up", at("12-01", "22:00")),
    event(B, "comment_added", at("12-01", "23:00"), post_id=1, comment_id=1),
    event(B, "message_sent", at("12-02", "21:00")),
    event(C, "user_signed_up", at("12-02", "10:00")), event(C, "swipe_made", at("12-02", "10:30")),
    event(C, "message_sent", at("12-03", "11:00")),
    event(D, "user_signed_up", at("12-03")),
    event(D, "post_published", at("12-03", "13:00"), post_id=3),
    event(None, "comment_added", at("12-03", "14:00"), post_id=3, comment_id=3),
    event(E, "user_signed_up", at("12-03", "08:00")),
    event(E, "message_sent", at("12-03", "08:10")),
    event(E, "post_published", at("12-03", "09:00"), post_id=2),
    event(E, "comment_added", at("12-03", "09:05"), post_id=2, comment_id=2),
    event(None, "comment_added", at("12-04", "10:00"), post_id=2, comment_id=4),
    event(F, "user_signed_up", at("12-09", "10:00")),
    event(F, "message_sent", at("12-09", "10:05")),
    event(G, "user_signed_up", at("11-20")), event(G, "message_sent", at("11-20")),
    event(H, "user_signed_up", at("11-01")), event(H, "swipe_made", at("12-04", "09:00")),
    event(H, "message_sent", at("12-04", "09:30")),
]


@pytest.mark.both_databases
def test_the_three_funnels_count_each_step(admin_at, app):
    admin = admin_at(at("12-10"))
    insert_rows(app, FUNNELS)
    data = admin.get("/api/admin/analytics/funnels?from=2026-12-01&to=2026-12-09").get_json()
    found = {f["name"]: ([s["users"] for s in f["steps"]], f["pending"]) for f in data["funnels"]}
    assert found == {"signup": ([5, 3, 2], 1), "swipe": ([3, 2, 1], 0), "post": ([3, 2, 1], 0)}
    signup = data["funnels"][0]["steps"]
    assert [s["of_previous"] for s in signup] == [1.0, 0.6, pytest.approx(2 / 3)]
    assert signup[2]["of_first"] == 0.4


# The community effect, today 12-20, cohorts 12-01 .. 12-15 (D7 over up to 12-12's):
#   p1 12-01 posts, back 12-08 (R)         p2 12-01 draws cards, not back
#   p3 12-02 reaches level 2, back 12-09 (R)
#   p4 12-02 reaches level 2 only on 12-03 (day 1: not on their first day), back 12-09 (R)
#   p5 12-03 posts and p6 comments on it (received a comment), back 12-10 (R)
#   p6 12-03 comments (not one of the behaviours), not back
#   p7 12-04 joins a room, not back           p8 12-04 chats, back 12-11 (R)
#   p9 12-05 chats, not back                  p10 12-15: day 7 not over (pending)
#   p11 11-20: before `from`
# Took part: p1 p2 p3 p5 p7, 3 of 5 retained; did not: p4 p6 p8 p9, 2 of 4.
# Wilson 95%: 3/5 -> [0.2307, 0.8824]; 2/4 -> [0.1500, 0.8500]. Difference 0.1, Newcombe:
#   0.1 - sqrt((0.6 - 0.2307)^2 + (0.8500 - 0.5)^2) = -0.4088
#   0.1 + sqrt((0.8824 - 0.6)^2 + (0.5 - 0.1500)^2) = 0.5497
P = {n: 300 + n for n in range(1, 12)}
COMMUNITY = [
    event(P[1], "post_published", at("12-01"), post_id=11),
    event(P[1], "message_sent", at("12-08")),
    event(P[2], "cards_drawn", at("12-01")),
    event(P[3], "user_signed_up", at("12-02", "09:00")),
    event(P[3], "level_changed", at("12-02"), level_before=1, level_after=2),
    event(P[3], "message_sent", at("12-09")),
    event(P[4], "user_signed_up", at("12-02")),
    event(P[4], "level_changed", at("12-03"), level_before=1, level_after=2),
    event(P[4], "message_sent", at("12-09")),
    event(P[5], "post_published", at("12-03", "09:00"), post_id=12),
    event(P[6], "comment_added", at("12-03", "10:00"), post_id=12, comment_id=21),
    event(P[5], "message_sent", at("12-10")),
    event(P[7], "room_joined", at("12-04"), room_id=1),
    event(P[8], "message_sent", at("12-04")), event(P[8], "message_sent", at("12-11")),
    event(P[9], "message_sent", at("12-05")),
    event(P[10], "post_published", at("12-15"), post_id=13),
    event(P[11], "post_published", at("11-20"), post_id=14),
]


@pytest.mark.both_databases
def test_what_the_community_adds_with_its_confidence_interval(admin_at, app):
    admin = admin_at(at("12-20"))
    insert_rows(app, COMMUNITY)
    data = admin.get("/api/admin/analytics/community-effect?from=2026-12-01&to=2026-12-15"
                     ).get_json()
    community, others = data["community"], data["others"]
    assert (community["users"], community["retained"], community["rate"]) == (5, 3, 0.6)
    assert (others["users"], others["retained"], others["rate"]) == (4, 2, 0.5)
    assert community["ci"] == pytest.approx([0.2307, 0.8824], abs=1e-4)
    assert others["ci"] == pytest.approx([0.1500, 0.8500], abs=1e-4)
    assert data["difference"]["value"] == pytest.approx(0.1)
    assert data["difference"]["ci"] == pytest.approx([-0.4088, 0.5497], abs=1e-4)
    assert data["pending"] == 1
    assert {b["name"]: (b["users"], b["retained"]) for b in data["behaviours"]} == {
        "posted": (2, 2), "received_comment": (1, 1), "drew_cards": (1, 0),
        "reached_level_2": (1, 1), "joined_room": (1, 0)}
