"""curation editors' picks and instance settings (reserved: curation helper)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 20:30:00
"""
from typing import Sequence, Union


revision: str = '0019'
down_revision: Union[str, None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
