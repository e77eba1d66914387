"""users.display_name and users.bio: the public profile others see on a creator's page

Plain add_column / drop_column, not batch_alter_table: on SQLite a batch operation recreates
`users`, and with foreign keys on, dropping the old table would cascade into every table that
references it. SQLite (3.35 and later) adds and drops these plain columns in place.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 13:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('users', sa.Column('display_name',
                                     sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    op.add_column('users', sa.Column('bio', sqlmodel.sql.sqltypes.AutoString(length=500),
                                     nullable=True))


def downgrade() -> None:
    op.drop_column('users', 'bio')
    op.drop_column('users', 'display_name')
