"""Schema management: every table module imported once, and Alembic upgrades run from code."""
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

ROOT = Path(__file__).resolve().parent.parent


def load_all_models() -> None:
    import app.models  # noqa: F401
    import characters.models  # noqa: F401
    import characters.discovery.models  # noqa: F401
    import gacha.models  # noqa: F401
    import relationships.models  # noqa: F401


def upgrade_database(url: str) -> None:
    """Bring the database at `url` to the newest migration (idempotent)."""
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
