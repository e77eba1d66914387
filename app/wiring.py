"""How the domains meet: the reply streamer, its prompt sections and every domain event
subscriber, built with the app's settings. This is the one place that knows who reacts to what
(docs/architecture.md lists it)."""
import threading
from datetime import timedelta

from flask import Flask

from analytics import subscribers as analytics_subscribers
from app.shutdown import Shutdown
from assistant import tickets as help_tickets
from assistant.docs_index import shared_index
from assistant.helpdesk import HelpDesk
from billing.ads import check_ads
from billing.entitlements import entitlements_for
from billing import paid as paid_content
from community import notifications as community_notifications
from community import report_targets as community_targets
from community import members as community_members
from community import scheduler as community_scheduler
from community.events import live_notifier
from community.topics import TopicRun, never_answered
from conversations import inspector
from conversations import live as live_claims
from conversations.events import DISCONNECT_HOOKS
from conversations.guard import ChatGuard, SupportSection
from conversations.replies import ReplyPlan, ReplyStreamer, recover_interrupted_replies
from conversations.sections import PromptSections
from core.auth.fingerprint import check_mode as check_fingerprint_mode
from core.event_types import RoomMemberRemoved
from core.events import EventBus
from core.extensions import socketio
from characters.service import NEW_CHARACTER_RATING
from curation import picks as curation_picks
from curation import settings as curation_settings
from discovery import subscribers as discovery_subscribers
from discovery.embeddings import default_embedder
from events.announce import Announcer
from events.scheduler import EventJobs
from gacha import rewards as gacha_rewards
from inference.scheduling import PRIORITY_HIGH, PRIORITY_NORMAL
from moderation import queue as moderation_queue
from moderation import subscribers as moderation_subscribers
from moderation.targets import register_target
from relationships import hooks as relationship_hooks
from relationships import unlocks
from rooms import events as room_events
from rooms import locks as room_locks
from rooms import report_targets as room_targets
from rooms.turns import RoomTurns, recover_interrupted_turns
from safety import build_moderator


def wire(app: Flask, bus: EventBus) -> None:
    db, inference = app.extensions["kindred.db"], app.extensions["kindred.inference"]
    settings = app.config

    def emit(event: str, payload: dict, room: str) -> None:
        socketio.emit(event, payload, to=room)

    sections = PromptSections(inference.count_tokens)
    # Which conversations have a reply being written: this process's alone, or (REDIS_URL)
    # every process's, each renewing its claims and marking a dead process's replies interrupted.
    claims = live_claims.build(settings["REDIS_URL"], settings["REPLY_LEASE_SECONDS"],
                               settings["REDIS_PREFIX"])
    replies = app.extensions["kindred.replies"] = ReplyStreamer(db, inference, emit, settings,
                                                                bus, sections, claims)
    if claims.shared and not app.testing:  # tests drive ReplyStreamer.watch themselves
        stop_watch = app.extensions["kindred.replies_watch_stop"] = threading.Event()
        socketio.start_background_task(replies.watch, stop_watch)
    app.extensions["kindred.greetings"] = (
        lambda session, user_id, character: unlocks.unlocked_greetings(session, user_id,
                                                                       character, settings))
    inspector.subscribe(bus, db, inference)
    gacha_rewards.subscribe(bus, db, settings)
    app.extensions["kindred.relationships"] = relationship_hooks.subscribe(
        bus, sections, db, settings, emit, default_embedder(), inference)
    discovery_subscribers.subscribe(bus, db, settings.get("EMBED_ON_PUBLISH", True))
    moderation_subscribers.subscribe(bus, db, settings)
    app.extensions["kindred.analytics"] = analytics_subscribers.subscribe(
        bus, db, settings, socketio.start_background_task)
    app.extensions["kindred.moderator"] = build_moderator(db, settings, default_embedder(),
                                                           inference)
    # The chat's check point: messages and replies through the Moderator, the support section
    # last among the prompt sections, and moderation's hidden messages kept out of prompts.
    app.extensions["kindred.replies"].guard = ChatGuard(
        app.extensions["kindred.moderator"], settings,
        hidden_ids=lambda session, ids: moderation_queue.hidden_ids(session, "message", ids))
    sections.register(SupportSection(settings.get("SUPPORT_SECTION_TOKENS", 200)))
    check_ads(settings["HOUSE_ADS"])  # a malformed HOUSE_ADS stops the start, saying why
    check_fingerprint_mode(settings.get("REWARDS_ALT_FINGERPRINT", "ip_ua"))  # the same
    # A reply's place in the inference queue and its context budget: the user's membership's.
    app.extensions["kindred.replies"].plan_for = lambda session, user_id: _reply_plan(
        entitlements_for(session, user_id, settings["MEMBERSHIP_TIERS"]))
    _wire_help_desk(app)
    # The community: posts and comments as report targets, notifications pushed live.
    community_targets.register()
    notifier = app.extensions["kindred.notifier"] = community_notifications.Notifier(
        db, live_notifier(socketio))
    community_notifications.subscribe(bus, notifier)
    if not app.testing and not claims.shared:  # shared: the watch marks only dead ones
        recover_interrupted_replies(db)
    _wire_community_members(app, bus)
    # Editors' picks on the feed's first page (community/feed_api.py asks for them by this name).
    app.extensions["kindred.feed_picks"] = lambda session, viewer: curation_picks.public_picks(
        session, settings.get("PICKS_LIMIT", 12))
    # The instance's name on the posts' share cards (community/api.py).
    app.extensions["kindred.instance_name"] = (
        lambda session: curation_settings.instance(session, settings)["name"])
    # A new character's rating when its creator gives none (characters/service.py).
    app.extensions[NEW_CHARACTER_RATING] = (
        lambda session: curation_settings.instance(session, settings)["default_content_rating"])
    _wire_room_turns(app, bus, emit)
    _wire_events(app)
    _wire_paid_content(app)
    # What the production server calls on SIGTERM / Ctrl-C (core/web/server.py, app/shutdown.py).
    app.extensions["kindred.shutdown"] = Shutdown(app)


def _wire_paid_content(app: Flask) -> None:
    """Paid content (billing/paid.py): story play asks whether a story's paid part is open to
    the user, the story and card lists get their price tags, the creator dashboard its sales."""
    paid_content.check_settings(app.config)
    app.extensions["kindred.story_unlocked"] = paid_content.story_unlocked
    app.extensions["kindred.price_tags"] = paid_content.price_tags
    app.extensions["kindred.paid_sales"] = paid_content.character_sales


def _wire_room_turns(app: Flask, bus: EventBus, emit) -> None:
    """Group rooms' turns: the chat's guard, the relationship level of whoever a character
    answers as the rooms' one prompt section, the per-room lock (Redis when configured), and
    the sockets of a removed member leaving the room."""
    db, inference, settings = app.extensions["kindred.db"], app.extensions["kindred.inference"], \
        app.config
    room_sections = PromptSections(inference.count_tokens)
    room_sections.register(relationship_hooks.LevelSection(settings,
                                                           settings["LEVEL_SECTION_TOKENS"]))
    turns = app.extensions["kindred.rooms"] = RoomTurns(
        db, inference, emit, settings,
        room_locks.build(settings["REDIS_URL"], settings["ROOM_LOCK_SECONDS"],
                         settings["REDIS_PREFIX"]), room_sections,
        guard=app.extensions["kindred.replies"].guard, spawn=socketio.start_background_task)
    bus.subscribe(RoomMemberRemoved,
                  lambda event: room_events.remove_sockets(turns, event.room_id, event.user_id),
                  name="rooms.removed_member_sockets")
    app.extensions.setdefault(DISCONNECT_HOOKS, []).append(room_events.on_socket_disconnect)
    room_targets.register()  # room messages: reported, queued with context, hidden, restored
    # How many rooms an owner may have and how many people each holds: their membership's.
    app.extensions["kindred.room_limits"] = (
        lambda session, user_id: entitlements_for(session, user_id, settings["MEMBERSHIP_TIERS"]))
    if not app.testing:  # with Redis: only rooms whose lock is free, and a dead one's later
        recover_interrupted_turns(db, turns)
        if turns.coordination.locks.shared:
            stop_watch = app.extensions["kindred.rooms_watch_stop"] = threading.Event()
            socketio.start_background_task(turns.watch, stop_watch)


def _wire_community_members(app: Flask, bus: EventBus) -> None:
    """Characters as members: their replies and welcomes (background subscribers), and the
    daily topic run by the in-server scheduler (not in tests), locked in Redis when configured,
    else in the database, so one process runs each day."""
    db, inference, settings = app.extensions["kindred.db"], app.extensions["kindred.inference"], \
        app.config
    moderator = app.extensions["kindred.moderator"]

    def notify(*args, **kwargs):  # the community's notifier, wherever it is wired
        notifier = app.extensions.get("kindred.notifier")
        return notifier.notify(*args, **kwargs) if notifier is not None else None

    if settings["COMMUNITY_MEMBERS"]:
        community_members.subscribe(bus, community_members.Members(db, inference, moderator,
                                                                   settings, notify))
    if app.testing or not settings["COMMUNITY_SCHEDULER"]:
        return
    stale = timedelta(minutes=settings["COMMUNITY_LOCK_STALE_MINUTES"])
    if settings["REDIS_URL"]:
        import redis
        lock = community_scheduler.RedisLock(redis.Redis.from_url(settings["REDIS_URL"]), stale)
    else:
        lock = community_scheduler.DatabaseLock(db, stale)
    topic_run = TopicRun(db, inference, moderator, settings)

    def topic_of_the_day(day):  # the first one ever is the cold start's: marked seeded
        return topic_run.run(day, seeded=never_answered(db))

    scheduler = community_scheduler.Scheduler(lock, {"topic": topic_of_the_day},
                                              settings["COMMUNITY_TOPIC_HOUR"],
                                              early=lambda: never_answered(db))
    stop = app.extensions["kindred.community_scheduler_stop"] = threading.Event()
    socketio.start_background_task(scheduler.run_forever, stop,
                                   settings["COMMUNITY_SCHEDULER_POLL_SECONDS"])


def _wire_events(app: Flask) -> None:
    """Community events: their announcements (feed post and notifications) and the background
    jobs that announce, judge and pay once, locked like the topic of the day."""
    db, settings = app.extensions["kindred.db"], app.config
    stale = timedelta(minutes=settings["COMMUNITY_LOCK_STALE_MINUTES"])
    if settings["REDIS_URL"]:
        import redis
        lock = community_scheduler.RedisLock(redis.Redis.from_url(settings["REDIS_URL"]), stale,
                                             prefix="kindred:events")
    else:
        lock = community_scheduler.DatabaseLock(db, stale)
    announcer = app.extensions["kindred.event_announcer"] = Announcer(
        db, app.extensions["kindred.moderator"], app.extensions["kindred.notifier"].notify, lock)
    jobs = app.extensions["kindred.event_jobs"] = EventJobs(db, announcer, lock)
    if app.testing or not settings["COMMUNITY_SCHEDULER"]:
        return
    stop = app.extensions["kindred.events_scheduler_stop"] = threading.Event()
    socketio.start_background_task(jobs.run_forever, stop, settings["EVENTS_POLL_SECONDS"])


def _reply_plan(entitled) -> ReplyPlan:
    priority = PRIORITY_HIGH if entitled.queue_priority == "high" else PRIORITY_NORMAL
    return ReplyPlan(priority, entitled.max_context_tokens, entitled.memory_tokens)


def _wire_help_desk(app: Flask) -> None:
    """The help desk over docs/ (its index is built on the first question), and its support
    tickets as a target of the moderation queue."""
    settings = app.config
    app.extensions["kindred.helpdesk"] = HelpDesk(
        shared_index(settings["HELP_DOCS_DIR"], default_embedder(),
                     settings["HELP_INDEX_CACHE_DIR"]),
        app.extensions["kindred.inference"], settings["HELP_CONFIDENCE_THRESHOLD"],
        settings["HELP_MAX_NEW_TOKENS"])
    register_target(help_tickets.TARGET, help_tickets.provider())
