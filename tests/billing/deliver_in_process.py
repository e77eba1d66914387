"""One webhook delivery in a process of its own, for the two-process race in test_webhook.py:

    python -m tests.billing.deliver_in_process DATABASE_URL START_AT < {"body", "header", "tiers", "secret"}

It waits until the wall clock reaches START_AT (so two processes deliver at the same moment),
handles the delivery as the route does (billing.webhooks.handle_generic on its own engine) and
prints {"duplicate": bool} or {"error": code}."""
import json
import sys
import time

from billing import webhooks
from core.db import make_engine, session_scope
from core.errors import KindredError


def main(database_url: str, start_at: float) -> int:
    job = json.load(sys.stdin)
    engine = make_engine(database_url)
    with engine.connect():
        pass  # connected before the start, so both race on the grant and not on connecting
    time.sleep(max(0.0, start_at - time.time()))
    try:
        with session_scope(engine) as session:
            granted = webhooks.handle_generic(session, job["tiers"], job["secret"],
                                              job["body"].encode(), job["header"])
            session.commit()
        print(json.dumps({"duplicate": granted.duplicate}))
    except KindredError as exc:
        print(json.dumps({"error": exc.code}))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2])))
