"""roles and account standing: a user's role, birth year, suspension and ban

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default='user'))
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('suspended_until', core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('banned_at', core.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('banned_at')
        batch_op.drop_column('suspended_until')
        batch_op.drop_column('birth_year')
        batch_op.drop_column('role')
