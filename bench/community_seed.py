"""How long the cold start's seeding takes (docs/community.md, "Cold start"): the seeded cast's
introductions, loading the model, and the first topic of the day (answers batched, a scene), on
a fresh SQLite database in a temporary folder, with the packaged SmolLM2 unless a model folder is
given. Prints `name: value` lines (wall seconds, and CPU seconds of this process).

    python -m bench.community_seed [MODEL_PATH]"""
import sys
import tempfile
import time
from pathlib import Path

from app import engine_from_settings
from characters.service import seed_characters
from community.seed import seed_feed
from config import Config
from core.db import make_engine, session_scope
from core.migrate import upgrade_database
from inference import load_model
from safety import build_moderator


def main(argv: list[str]) -> int:
    model_path = argv[0] if argv else Config.MODEL_PATH
    settings = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'kindred.db'}"
        upgrade_database(url)
        db = make_engine(url)
        with session_scope(db) as session:
            seed_characters(session, Path(folder) / "avatars")
        moderator = build_moderator(db, settings)
        intros = _timed("seed_intros", lambda: seed_feed(db, settings, moderator))
        engine = _timed("seed_model_load", lambda: engine_from_settings(
            load_model(model_path, Config.MODEL_CACHE_DIR), settings))
        topic = _timed("seed_first_topic", lambda: seed_feed(db, settings, moderator,
                                                             lambda: engine))
        again = _timed("seed_again", lambda: seed_feed(db, settings, moderator, lambda: engine))
        engine.close()
        db.dispose()
    print(f"seed_intros_posted: {intros['intros']}")
    print(f"seed_topic_answers_posted: {topic['answers']}")
    print(f"seed_again_posted: {again['intros'] + again['answers']}")
    return 0


def _timed(name: str, work):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{name}_wall_s: {time.perf_counter() - wall:.1f}")
    print(f"{name}_cpu_s: {time.process_time() - cpu:.1f}")
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
