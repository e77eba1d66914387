"""Set-up steps run by the Makefile: `python -m app.setup migrate|seed|model|native|help-index`,
one or several in order (`migrate seed`: one process, one round of imports)."""
import argparse
import logging
import sys

from core.db import make_engine, session_scope
from core.migrate import upgrade_database
from config import Config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.setup")
    parser.add_argument("steps", nargs="+", metavar="step",
                        choices=["migrate", "seed", "model", "native", "help-index"])
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    Config.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    for step in parser.parse_args(argv).steps:
        failed = _run(step)
        if failed:
            return failed
    return 0


def _run(step: str) -> int:
    if step == "migrate":
        upgrade_database(Config.DATABASE_URL)
    elif step == "seed":
        from characters.service import seed_characters
        from gacha.banners import seed_gacha
        from relationships.seed import seed_stories
        from safety.rules import seed_default_rules
        with session_scope(make_engine(Config.DATABASE_URL)) as session:
            added = seed_characters(session, Config.INSTANCE_DIR / "avatars")
            seed_stories(session)
            seed_gacha(session)
            rules = seed_default_rules(session)
        print(f"seeded {len(added)} new characters, {rules} new moderation rules")
        if Config.COMMUNITY_SEED_POSTS:
            feed = _seed_feed()
            print(f"seeded the feed: {feed['intros']} introductions, {feed['answers']} answers "
                  f"to the topic of the day{', a scene' if feed['scene'] else ''}")
    elif step == "native":
        from inference.native import NativeUnavailable, build  # torch: only for this step
        try:
            build(Config.NATIVE_BUILD_DIR)
        except NativeUnavailable as exc:  # the engine decodes in Python then: slower, not broken
            print(f"kindred: {exc}; the engine will use its Python decode step", file=sys.stderr)
        else:
            print(f"C++ decode step ready in {Config.NATIVE_BUILD_DIR}")
    elif step == "help-index":
        from assistant.docs_index import DocsIndex  # MiniLM: only for this step
        index = DocsIndex(Config.HELP_DOCS_DIR, cache_dir=Config.HELP_INDEX_CACHE_DIR)
        index.search("warm up", 1)
        print(f"help desk index ready: {len(index.pages())} pages in {Config.HELP_INDEX_CACHE_DIR}")
    else:
        from inference import ModelLoadError, load_model  # torch: only for this step
        try:
            loaded = load_model(Config.MODEL_PATH, Config.MODEL_CACHE_DIR)
        except ModelLoadError as exc:
            print(f"kindred: {exc}", file=sys.stderr)
            return 1
        print(f"model ready: {loaded.source}")
    return 0


def _seed_feed() -> dict:
    """The seeded cast's introductions (community/seed.py), through the safety pipeline without
    its judge; with COMMUNITY_SEED_TOPIC=1 also, on a fresh install, their answers to the day's
    topic, loading the model only then (otherwise the server's scheduler writes them at start)."""
    from community.seed import seed_feed
    from safety import build_moderator
    settings = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    db = make_engine(Config.DATABASE_URL)
    engines = []

    def load_engine():
        from app import engine_from_settings
        from inference import load_model
        engines.append(engine_from_settings(load_model(Config.MODEL_PATH, Config.MODEL_CACHE_DIR),
                                            settings))
        return engines[-1]

    try:
        return seed_feed(db, settings, build_moderator(db, settings),
                         load_engine if Config.COMMUNITY_SEED_TOPIC else None)
    finally:
        for engine in engines:
            engine.close()
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
