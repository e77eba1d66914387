"""analytics_event.dataset: 'live' for the real log, 'demo' for the simulated population of
`flask --app app.cli analytics simulate` (never mixed: every figure reads one data set)

One column with a server default, added in place (no table is recreated).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 17:15:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0017'
down_revision: Union[str, None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('analytics_event',
                  sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=8),
                            server_default='live', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('analytics_event') as batch:  # analytics_event has no triggers
        batch.drop_column('dataset')
