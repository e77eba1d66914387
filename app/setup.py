"""Set-up steps run by the Makefile: `python -m app.setup migrate|seed|model|native`."""
import argparse
import logging
import sys

from core.db import make_engine, session_scope
from core.migrate import upgrade_database
from config import Config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.setup")
    parser.add_argument("step", choices=["migrate", "seed", "model", "native"])
    step = parser.parse_args(argv).step
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    Config.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
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
    elif step == "native":
        from inference.native import NativeUnavailable, build  # torch: only for this step
        try:
            build(Config.NATIVE_BUILD_DIR)
        except NativeUnavailable as exc:  # the engine decodes in Python then: slower, not broken
            print(f"kindred: {exc}; the engine will use its Python decode step", file=sys.stderr)
        else:
            print(f"C++ decode step ready in {Config.NATIVE_BUILD_DIR}")
    else:
        from inference import ModelLoadError, load_model  # torch: only for this step
        try:
            loaded = load_model(Config.MODEL_PATH, Config.MODEL_CACHE_DIR)
        except ModelLoadError as exc:
            print(f"kindred: {exc}", file=sys.stderr)
            return 1
        print(f"model ready: {loaded.source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
