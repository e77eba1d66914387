"""The community's events reach the log (a post, a comment on it, a like) and what the dashboards
compute from them: a real post that gets a real comment counts in the post funnel and as
taking part in the community, through the live app, not hand-made rows."""
from datetime import datetime, timezone

from tests.analytics.conftest import logged
from tests.community.core_support import chat_post


def test_a_post_and_a_comment_on_it_count_for_the_dashboards(app, admin_at, person, clock,
                                                             event_log):
    admin = admin_at(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    author, reader = person("user"), person("user")
    post = chat_post(author)
    clock.advance(minutes=30)
    answer = reader.call("POST", f"/api/posts/{post['id']}/comments", json={"body": "Lovely!"})
    assert answer.status_code == 201, answer.get_json()
    assert reader.call("POST", f"/api/posts/{post['id']}/like").status_code == 200
    clock.advance(days=1)
    author.auth.start_conversation()  # back on day 1
    clock.advance(days=6)
    author.auth.start_conversation()  # and on day 7
    clock.advance(days=1)
    assert event_log.flush()

    published = logged(app, name="post_published")
    assert [(row.user_id, row.properties["post_id"]) for row in published] == [
        (author.id, post["id"])]
    commented = logged(app, name="comment_added")
    assert [(row.user_id, row.properties["post_id"]) for row in commented] == [
        (reader.id, post["id"])]
    assert [row.user_id for row in logged(app, name="post_liked")] == [reader.id]

    funnels = admin.get("/api/admin/analytics/funnels?from=2026-12-01&to=2026-12-01").get_json()
    post_funnel = next(f for f in funnels["funnels"] if f["name"] == "post")
    assert [step["users"] for step in post_funnel["steps"]] == [1, 1, 1]
    effect = admin.get("/api/admin/analytics/community-effect?from=2026-12-01&to=2026-12-01"
                       ).get_json()
    assert (effect["community"]["users"], effect["community"]["retained"]) == (1, 1)  # author
    assert (effect["others"]["users"], effect["others"]["retained"]) == (1, 0)  # the reader
    behaviours = {b["name"]: b["users"] for b in effect["behaviours"]}
    assert behaviours["posted"] == 1 and behaviours["received_comment"] == 1


def test_joining_a_room_is_logged_and_counts_as_taking_part(app, admin_at, person, clock,
                                                            event_log):
    from tests.rooms.rooms_support import join, make_room
    admin = admin_at(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    owner, guest, visitor = person("user"), person("user"), person("user")
    room = make_room(owner)
    join(owner, guest, room["id"])
    listed = make_room(owner, title="Open house", visibility="listed", listed_tag="cozy")
    assert visitor.call("POST", f"/api/rooms/{listed['id']}/join").status_code == 200
    clock.advance(days=8)  # past day 7, so the cohort day's figures are complete
    assert event_log.flush()

    joined = logged(app, name="room_joined")
    assert [(row.user_id, row.properties) for row in joined] == [
        (guest.id, {"room_id": room["id"], "via": "invite"}),
        (visitor.id, {"room_id": listed["id"], "via": "listed"})]
    effect = admin.get("/api/admin/analytics/community-effect?from=2026-12-01&to=2026-12-01"
                       ).get_json()
    behaviours = {b["name"]: b["users"] for b in effect["behaviours"]}
    assert behaviours["joined_room"] == 2
