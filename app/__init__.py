"""Kindred: the Flask application factory."""
import logging
import secrets

from flask import Flask

from app.database import close_db_session
from app.db import make_engine
from app.extensions import limiter, login_manager, socketio
from config import Config

log = logging.getLogger(__name__)


def create_app(config_class=Config, inference=None) -> Flask:
    """Build the app. `inference` lets tests share one engine; otherwise the model loads here,
    so a missing or broken model stops start-up with one clear error."""
    app = Flask(__name__)
    app.config.from_object(config_class)
    app.config["INSTANCE_DIR"].mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or _instance_secret(app)
    redis_url = app.config["REDIS_URL"]
    app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"

    app.extensions["kindred.db"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_db_session)
    login_manager.init_app(app)
    limiter.init_app(app)
    # Handlers must be registered before init_app so every app (tests make many) gets them.
    from app.chat import events  # noqa: F401
    from characters import events as _studio_events  # noqa: F401  (studio:draft)
    socketio.server_options.pop("client_manager", None)  # a previous app's Redis queue
    socketio.init_app(app, async_mode="threading", message_queue=redis_url)  # same origin only

    app.extensions["kindred.inference"] = inference or _load_inference(app)
    _wire_replies(app)

    from app.auth import bp as auth_bp
    from app.api import bp as api_bp
    from app.main import bp as main_bp
    from characters.api import bp as characters_bp
    from gacha.api import bp as gacha_bp
    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(characters_bp)
    app.register_blueprint(gacha_bp)
    from characters.discovery.api import bp as discovery_bp
    app.register_blueprint(discovery_bp)
    from relationships.api import bp as relationships_bp
    app.register_blueprint(relationships_bp)
    app.register_blueprint(main_bp)
    from app import errors_http
    errors_http.register(app)
    return app


def _load_inference(app: Flask):
    from app.inference import LocalEngine, load_model
    loaded = load_model(app.config["MODEL_PATH"], app.config["MODEL_CACHE_DIR"])
    log.info("Model loaded from %s", loaded.source)
    return LocalEngine(loaded, threads=app.config["TORCH_THREADS"])


def _wire_replies(app: Flask) -> None:
    from app.chat.replies import ReplyStreamer, recover_interrupted_replies

    def emit(event: str, payload: dict, room: str) -> None:
        socketio.emit(event, payload, to=room)

    db = app.extensions["kindred.db"]
    app.extensions["kindred.replies"] = ReplyStreamer(db, app.extensions["kindred.inference"],
                                                      emit, app.config)
    from characters.inspector import install as install_inspector
    install_inspector(app.extensions["kindred.replies"], db, app.extensions["kindred.inference"])
    from relationships.hooks import install as install_relationships
    app.extensions["kindred.relationships"] = install_relationships(
        app.extensions["kindred.replies"], db, app.config, emit, app.extensions["kindred.inference"])
    if not app.testing:
        recover_interrupted_replies(db)


def _instance_secret(app: Flask) -> str:
    path = app.config["INSTANCE_DIR"] / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
