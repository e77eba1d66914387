"""group rooms, members, invites and room messages (rooms/)

Reserved slot: filled in by the change that adds these tables. Never batch-alter `characters` on
SQLite (it recreates the table and drops the search triggers of 0005).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 17:00:00
"""
from typing import Sequence, Union


revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
