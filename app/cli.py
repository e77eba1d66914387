"""Flask command-line tasks that need no model: `flask --app app.cli cards import PATH`,
`flask --app app.cli users grant-role USERNAME ROLE`,
`flask --app app.cli analytics simulate --users N --days D --seed S`,
`flask --app app.cli billing codes --tier plus --days 30 -n 10`,
`flask --app app.cli rewards run --month 2026-11`,
`flask --app app.cli events judge EVENT_ID`;
and one that loads it: `flask --app app.cli worker --name NAME` (an inference worker)."""
import sys
from contextlib import contextmanager

import click
from flask import Flask

from characters import import_cards
from config import Config
from core.auth.roles import ROLES, grant_role
from core.db import make_engine, session_scope
from core.errors import KindredError

app = Flask(__name__)


@contextmanager
def database_session(log_events: bool = False):
    """A session on the configured database, committed when the block ends; a KindredError
    raised inside becomes the command's one-line error. `log_events`: the domain events its
    commits record reach the analytics event log (written before the command exits), as they
    would in the server, so what a command paid can be audited from events.jsonl."""
    engine = make_engine(Config.DATABASE_URL)
    log = _bind_event_log(engine) if log_events else None
    try:
        with session_scope(engine) as session:
            yield session
        if log is not None:
            log.flush()
    except KindredError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()


def _bind_event_log(engine):
    import threading
    from analytics import subscribers as analytics_subscribers
    from core import events as domain_events
    bus = domain_events.EventBus()
    domain_events.bind(engine, bus)
    settings = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    return analytics_subscribers.subscribe(
        bus, engine, settings, lambda work: threading.Thread(target=work, daemon=True).start())


@app.cli.group()
def cards():
    """Character cards."""


@cards.command("import", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def import_command(args):
    """Import a folder, a .zip or one card file: PATH [--owner USERNAME] [--public]."""
    sys.exit(import_cards.main(list(args), Config))


@app.cli.group()
def users():
    """Accounts."""


@users.command("grant-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def grant_role_command(username, role):
    """Give USERNAME the role ROLE (user, moderator or admin)."""
    with database_session() as session:
        user = grant_role(session, username, role)
        click.echo(f"{user.username} is now {user.role}.")


@app.cli.group()
def moderation():
    """The safety pipeline."""


@moderation.command("classify")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def classify_command(file):
    """Classify FILE.jsonl (lines {"text", "surface"?, "context"?}; "-" reads stdin): one JSON
    line each, {"categories", "flagged", "action", ...}, from the server's pipeline without the
    judge (the chat model is not loaded here)."""
    import json
    from safety import build_moderator
    engine = make_engine(Config.DATABASE_URL)
    settings = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    moderator = build_moderator(engine, settings)
    try:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                decision = moderator.moderate(row["text"], row.get("surface", "chat_message"),
                                              row.get("context"))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise click.ClickException(f"line {number}: {exc!r}; each line must be a JSON "
                                           "object with 'text' and an optional 'surface'.")
            click.echo(json.dumps({
                "categories": decision.categories, "flagged": list(decision.flagged),
                "action": decision.action, "category": decision.category,
                "stage": decision.stage, "rule": decision.rule, "text": decision.text,
                "masked": list(decision.masked)}, ensure_ascii=False))
    finally:
        engine.dispose()


@app.cli.group()
def analytics():
    """The event log and its dashboards."""


@analytics.command("simulate")
@click.option("--users", default=2000, show_default=True, type=click.IntRange(1, 200_000))
@click.option("--days", default=60, show_default=True, type=click.IntRange(1, 400))
@click.option("--seed", default=1, show_default=True, type=int)
def simulate_command(users, days, seed):
    """Replace the demo data set (?dataset=demo on /admin/analytics) with a simulated
    population; real users' events are never touched. The same seed gives the same data."""
    from datetime import timedelta
    from analytics.simulate import simulate
    from core.db import utcnow
    engine = make_engine(Config.DATABASE_URL)
    try:
        summary = simulate(engine, users, days, seed, utcnow(),
                           timedelta(minutes=Config.ANALYTICS_SESSION_GAP_MINUTES))
        click.echo(f"Simulated {summary.users} users, {summary.events} events, "
                   f"{summary.first_day} to {summary.last_day}, into the demo data set "
                   "(/admin/analytics?dataset=demo).")
    finally:
        engine.dispose()


@app.cli.group()
def community():
    """The community: the topic of the day."""


@community.command("topic")
@click.argument("prompt")
@click.option("--day", default=None, help="YYYY-MM-DD (default: today, UTC)")
def topic_command(prompt, day):
    """Set PROMPT as the topic of the day (today unless --day), before characters answer it."""
    from datetime import date
    from community.topics import set_topic
    from core.db import utcnow
    try:
        when = date.fromisoformat(day) if day else utcnow().date()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--day") from None
    with database_session() as session:
        topic = set_topic(session, prompt, when)
        click.echo(f"The topic of {topic.day.isoformat()} is now: {topic.prompt}")


@app.cli.group()
def billing():
    """Memberships: redeem codes."""


@billing.command("codes")
@click.option("--tier", required=True, help="the paid tier the codes grant (e.g. plus)")
@click.option("--days", required=True, type=click.IntRange(1, 3660))
@click.option("-n", "count", default=1, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--expires-in-days", default=None, type=click.IntRange(1, 3660),
              help="the codes cannot be redeemed after this many days (default: never)")
def billing_codes_command(tier, days, count, expires_in_days):
    """Print N new redeem codes for TIER and DAYS, one per line (only their hashes are kept)."""
    from billing.codes import generate
    with database_session() as session:
        codes = generate(session, Config.MEMBERSHIP_TIERS, tier, days, count, expires_in_days)
    click.echo("\n".join(codes))  # once committed: a printed code always works


@app.cli.group()
def rewards():
    """Creator rewards: the monthly pool split by retained user-days (docs/billing.md)."""


@rewards.command("run")
@click.option("--month", required=True, help="the UTC month to pay, YYYY-MM (it must be over)")
@click.option("--pool", default=None, type=int,
              help="the gems to split (default: REWARDS_MONTHLY_POOL)")
def rewards_run_command(month, pool):
    """Count MONTH's retained user-days and pay its pool to creators, once: a second run of the
    same month pays nothing more and says so."""
    from billing.rewards import run_month, run_summary_line
    from core.db import utcnow
    pool = Config.REWARDS_MONTHLY_POOL if pool is None else pool
    with database_session(log_events=True) as session:  # creator_reward_paid: the event log
        try:
            outcome = run_month(session, month, pool, utcnow().date())
        except KindredError as exc:
            if exc.code in ("invalid_month", "month_not_over"):
                raise click.BadParameter(exc.message, param_hint="--month") from None
            if exc.code == "invalid_pool":
                raise click.BadParameter(exc.message, param_hint="--pool / "
                                                                 "REWARDS_MONTHLY_POOL") from None
            raise
        click.echo(run_summary_line(outcome))
        for payout in outcome.payouts:
            click.echo(f"  creator {payout.creator_id}: {payout.gems} gems for "
                       f"{payout.user_days} user-days")


@app.cli.group("events")
def events_group():
    """Community events: judging a contest."""


@events_group.command("judge")
@click.argument("event_id", type=click.IntRange(1))
def events_judge_command(event_id):
    """Judge EVENT_ID's contest once it has ended and pay its prizes through the ledger; running
    it again pays nothing more. The server announces the winners on its next check."""
    from events.judging import judge
    from events.payloads import event_json
    with database_session(log_events=True) as session:  # judged and prize-paid: the event log
        shown = event_json(session, judge(session, event_id))
        for winner in shown["contest"]["winners"]:
            name = (winner["character"] or {}).get("name", "A character")
            click.echo(f"{winner['place']}. {name} by "
                       f"{winner['creator']['username']}: {winner['score']} returning people, "
                       f"{winner['prize_gems']} gems")
        if not shown["contest"]["winners"]:
            click.echo("No entry placed: none brought a person back on two days.")


@app.cli.command("worker")
@click.option("--name", default=None, help="this worker's name in Redis (default: host-pid)")
def worker_command(name):
    """An inference worker for INFERENCE=redis: load the model once, then generate the jobs
    queued in REDIS_URL until SIGTERM (or Ctrl-C), which finishes or hands back the running
    ones within INFERENCE_WORKER_GRACE_SECONDS (docs/deploy.md "Inference workers")."""
    import logging
    import os
    import signal
    import socket
    url = Config.INFERENCE_REDIS_URL or Config.REDIS_URL
    if not url:
        raise click.ClickException("the inference worker needs REDIS_URL (or "
                                   "INFERENCE_REDIS_URL): the Redis the web processes queue "
                                   "their jobs in (e.g. REDIS_URL=redis://127.0.0.1:6379/0).")
    import redis
    from app import engine_from_settings
    from inference import ModelLoadError, load_model
    from inference.worker import Worker
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    workers = []  # the worker once made; a signal before that stops it as soon as it is
    signalled = []

    def on_signal(*_):
        signalled.append(True)
        for worker in workers:
            worker.stop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        loaded = load_model(Config.MODEL_PATH, Config.MODEL_CACHE_DIR)
    except ModelLoadError as exc:
        raise click.ClickException(str(exc)) from None
    settings = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
    engine = engine_from_settings(loaded, settings)
    worker = Worker(engine, redis.Redis.from_url(url, decode_responses=True),
                    name or f"{socket.gethostname()}-{os.getpid()}",
                    prefix=Config.INFERENCE_REDIS_PREFIX, max_batch=Config.INFERENCE_MAX_BATCH,
                    burst=Config.INFERENCE_PRIORITY_BURST,
                    claim_seconds=Config.INFERENCE_CLAIM_SECONDS,
                    max_claims=Config.INFERENCE_MAX_CLAIMS,
                    grace_seconds=Config.INFERENCE_WORKER_GRACE_SECONDS,
                    job_ttl=Config.INFERENCE_JOB_TTL_SECONDS)
    workers.append(worker)
    if signalled:
        worker.stop()
    click.echo(f"inference worker {worker.consumer} ready", err=True)
    try:
        code = worker.run()
    finally:
        engine.close()
    sys.exit(code)
