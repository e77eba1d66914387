"""Once, however many processes: two schedulers (each with a lock owner of its own, as two
server processes have) announcing the same event at the same moment post it once and notify
each person once; two judges of the same contest at the same moment pay each winner once."""
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from community.models import Notification, Post
from community.scheduler import DatabaseLock
from events.announce import Announcer
from events.judging import judge
from tests.events.conftest import created, iso, now, set_window, stored
from tests.events.test_contest import chats, entered, ledger_is_balanced

pytestmark = pytest.mark.both_databases


def together(*work):
    """Run each callable in its own thread, started at the same moment; their results."""
    barrier, results = threading.Barrier(len(work)), [None] * len(work)

    def run(i, job):
        barrier.wait()
        results[i] = job()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_processes_announce_an_event_once(app, admin, member):
    starts = now() + timedelta(hours=1)
    event = created(admin, starts_at=iso(starts), ends_at=iso(starts + timedelta(days=1)))
    set_window(app, event["id"], now() - timedelta(minutes=1), now() + timedelta(days=1))
    db = app.extensions["kindred.db"]
    mine = app.extensions["kindred.event_announcer"]
    announcers = [Announcer(db, mine.moderator, mine.notify,
                            DatabaseLock(db, timedelta(minutes=60))) for _ in range(2)]
    results = together(*[lambda a=a: a.started(event["id"]) for a in announcers])
    assert sorted(results) == [False, True]
    with Session(db) as session:
        posts = session.exec(select(Post).where(Post.body.contains("Winter Lights"))).all()
        told = session.exec(select(Notification.user_id).where(Notification.kind == "event")).all()
    assert len(posts) == 1
    assert sorted(told) == sorted(set(told)) and member.id in told
    assert all(a.started(event["id"]) is False for a in announcers)


def test_two_judges_at_once_pay_each_winner_once(app, admin, person):
    a, b = person(), person()
    first, second = a.character(name="Ember"), b.character(name="Flint")
    event = created(admin, prizes=[90, 30])
    entered(a, event["id"], first)
    entered(b, event["id"], second)
    start = now() - timedelta(days=3)
    set_window(app, event["id"], start, now() - timedelta(minutes=1))
    d0, d1 = start + timedelta(hours=2), start + timedelta(days=1, hours=2)
    chats(app, [(40001, first, d0, 1), (40001, first, d1, 1), (40002, first, d0, 1),
                (40002, first, d1, 1), (40003, second, d0, 1), (40003, second, d1, 1)])
    db = app.extensions["kindred.db"]

    def judging():
        with Session(db, expire_on_commit=False) as session:
            return judge(session, event["id"]).judged_at is not None

    assert together(judging, judging) == [True, True]
    assert stored(app)["prizes"] == [(a.id, f"event:{event['id']}:place:1", 90),
                                     (b.id, f"event:{event['id']}:place:2", 30)]
    assert ledger_is_balanced(app)
