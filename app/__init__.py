"""Kindred: the Flask application factory. It builds the app, binds the extensions, registers
every domain's blueprint and Socket.IO handlers, and wires the domains together through the
event bus (app/wiring.py)."""
import logging
import secrets

from flask import Flask

# Socket.IO handlers register on import, before socketio.init_app, so every app gets them.
import characters.events  # noqa: F401  (studio:draft)
import conversations.events  # noqa: F401  (chat:*)
import rooms.events  # noqa: F401  (room:*)
from analytics.api import bp as analytics_bp
from assistant.api import bp as assistant_bp
from app import wiring
from app.main import bp as main_bp
from billing.api import bp as billing_bp
from billing.rewards_api import bp as billing_rewards_bp
from billing.paid_api import bp as paid_bp
from characters.api import bp as characters_bp
from community.api import bp as community_bp
from community.feed_api import bp as community_feed_bp
from community.member_api import bp as community_members_bp
from community.pages import bp as community_pages_bp
from config import Config
from conversations.api import bp as conversations_bp
from core import events
from core.auth import account_bp, bp as auth_bp
from core.db import make_engine
from core.extensions import limiter, login_manager, socketio
from core.web import errors as web_errors
from core.web import headers as web_headers
from core.web import ids as web_ids
from core.web import proxy as web_proxy
from core.web.request_body import check_request
from core.web.websocket_limit import bound_socket_queues, bound_websocket_messages
from core.web.db import close_db_session
from curation.api import bp as curation_bp
from discovery.api import bp as discovery_bp
from events.api import bp as events_bp
from gacha.api import bp as gacha_bp
from moderation.api import bp as moderation_bp
from relationships.api import bp as relationships_bp
from rooms.api import bp as rooms_bp
from safety.api import bp as safety_bp
from studio.api import bp as studio_bp

log = logging.getLogger(__name__)

BLUEPRINTS = (auth_bp, account_bp, conversations_bp, characters_bp, studio_bp, gacha_bp, rooms_bp,
              discovery_bp, relationships_bp, moderation_bp, safety_bp, analytics_bp, billing_bp,
              assistant_bp, curation_bp, main_bp,
              community_members_bp, community_pages_bp, community_feed_bp, community_bp,
              events_bp, paid_bp, billing_rewards_bp)


def create_app(config_class=Config, inference=None) -> Flask:
    """Build the app. `inference` lets tests share one engine; otherwise the model loads here,
    so a missing or broken model stops start-up with one clear error."""
    app = Flask(__name__)
    app.config.from_object(config_class)
    app.config["INSTANCE_DIR"].mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or _instance_secret(app)
    redis_url = app.config["REDIS_URL"]
    app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = app.config["REDIS_PREFIX"]  # one deployment's keys

    db = app.extensions["kindred.db"] = make_engine(
        app.config["DATABASE_URL"], pool_size=app.config["DB_POOL_SIZE"],
        max_overflow=app.config["DB_MAX_OVERFLOW"])
    bus = app.extensions["kindred.events"] = events.EventBus(spawn=socketio.start_background_task)
    events.bind(db, bus)
    app.teardown_appcontext(close_db_session)
    login_manager.init_app(app)
    limiter.init_app(app)
    socketio.server_options.pop("client_manager", None)  # a previous app's Redis queue
    socketio.init_app(app, async_mode="threading", message_queue=redis_url,  # same origin only
                      channel=f"{app.config['REDIS_PREFIX']}:socketio",
                      max_http_buffer_size=app.config["SOCKETIO_MAX_MESSAGE_BYTES"])
    bound_websocket_messages(socketio.server.eio, app.config["SOCKETIO_MAX_MESSAGE_BYTES"])
    bound_socket_queues(socketio.server.eio, app.config["SOCKETIO_MAX_QUEUED_PACKETS"])
    web_proxy.install(app)

    app.extensions["kindred.inference"] = inference or _load_inference(app)
    wiring.wire(app, bus)
    web_ids.install(app)
    app.before_request(check_request)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    web_errors.register(app)
    web_headers.register(app)
    return app


class InferenceSettingsError(RuntimeError):
    """INFERENCE and the settings it needs do not fit; the message says what to set."""


def _load_inference(app: Flask):
    if app.config["INFERENCE"] == "redis":
        return redis_engine_from_settings(app.config)
    if app.config["INFERENCE"] == "openai":
        return _openai_engine(app.config)
    if app.config["INFERENCE"] != "local":
        raise InferenceSettingsError(f"INFERENCE={app.config['INFERENCE']!r} is not a choice: "
                                     "use 'local' (the model in this process), 'redis' "
                                     "(inference workers) or 'openai' (an OpenAI-compatible "
                                     "server), docs/deploy.md.")
    from inference import load_model  # torch: loaded only when the app needs it
    loaded = load_model(app.config["MODEL_PATH"], app.config["MODEL_CACHE_DIR"])
    log.info("Model loaded from %s", loaded.source)
    return engine_from_settings(loaded, app.config)


def engine_from_settings(loaded, settings):
    """An in-process engine with the inference settings of `settings` (the app's config)."""
    from inference import LocalEngine
    return LocalEngine(loaded, threads=settings["TORCH_THREADS"],
                        quant=settings["INFERENCE_QUANT"], kv_cache_mb=settings["KV_CACHE_MB"],
                        max_batch=settings["INFERENCE_MAX_BATCH"],
                        native=settings["NATIVE_DECODE"],
                        native_build_dir=settings["NATIVE_BUILD_DIR"],
                        priority_burst=settings["INFERENCE_PRIORITY_BURST"])


def redis_engine_from_settings(settings):
    """The web side of INFERENCE=redis: the tokenizer only, jobs to the workers via REDIS_URL."""
    url = settings.get("INFERENCE_REDIS_URL") or settings.get("REDIS_URL")
    if not url:
        raise InferenceSettingsError(
            "INFERENCE=redis needs REDIS_URL (or INFERENCE_REDIS_URL): the Redis the inference "
            "workers read their jobs from (e.g. REDIS_URL=redis://127.0.0.1:6379/0), the same "
            "for the web processes and every `flask --app app.cli worker`.")
    import redis
    from inference.loader import load_tokenizer
    from inference.redis_engine import RedisEngine
    loaded = load_tokenizer(settings["MODEL_PATH"], settings["MODEL_CACHE_DIR"])
    log.info("Replies are generated by inference workers through Redis (%s)",
             settings["INFERENCE_REDIS_PREFIX"])
    return RedisEngine(loaded, redis.Redis.from_url(url, decode_responses=True),
                       prefix=settings["INFERENCE_REDIS_PREFIX"],
                       job_ttl=settings["INFERENCE_JOB_TTL_SECONDS"],
                       stream_maxlen=settings["INFERENCE_STREAM_MAXLEN"],
                       no_worker_seconds=settings["INFERENCE_NO_WORKER_SECONDS"])


def _openai_engine(settings):
    """INFERENCE=openai: a remote OpenAI-compatible server, prompted with MODEL_PATH's tokenizer
    (docs/deploy.md "Remote models")."""
    from inference import ModelLoadError
    from inference.loader import load_tokenizer
    from inference.openai_engine import OpenAIEngine
    if not settings["OPENAI_BASE_URL"]:
        raise ModelLoadError("INFERENCE=openai needs OPENAI_BASE_URL, the server's OpenAI API "
                             "root, e.g. http://127.0.0.1:8000/v1 (docs/deploy.md, Remote models).")
    log.info("Replies come from %s (INFERENCE=openai)", settings["OPENAI_BASE_URL"])
    tokenizer = load_tokenizer(settings["MODEL_PATH"], settings["MODEL_CACHE_DIR"]).tokenizer
    return OpenAIEngine(settings["OPENAI_BASE_URL"], tokenizer,
                        model=settings["OPENAI_MODEL"], api_key=settings["OPENAI_API_KEY"],
                        context_window=settings["OPENAI_CONTEXT_TOKENS"],
                        timeout=settings["OPENAI_TIMEOUT_SECONDS"],
                        max_streams=settings["INFERENCE_MAX_BATCH"],
                        priority_burst=settings["INFERENCE_PRIORITY_BURST"])


def _instance_secret(app: Flask) -> str:
    path = app.config["INSTANCE_DIR"] / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
