"""Alembic upgrades run from code (set-up, tests, the card import CLI)."""
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

ROOT = Path(__file__).resolve().parent.parent


def upgrade_database(url: str) -> None:
    """Bring the database at `url` to the newest migration (idempotent)."""
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
