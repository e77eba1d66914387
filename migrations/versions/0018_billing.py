"""billing memberships, billing events and redeem codes (reserved: billing helper)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 20:30:00
"""
from typing import Sequence, Union


revision: str = '0018'
down_revision: Union[str, None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
