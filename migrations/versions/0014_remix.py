"""remix lineage and per-character community settings (characters/, community/)

Reserved slot: filled in by the change that adds these tables. Never batch-alter `characters` on
SQLite (it recreates the table and drops the search triggers of 0005).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:00:00
"""
from typing import Sequence, Union


revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
