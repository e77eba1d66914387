"""analytics_user_day: the daily-activity rollup of analytics_event, one row per (data set, user,
UTC day) with an event, backfilled here from the events already logged (analytics/models.py)

A new table only; analytics_event is not altered.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 20:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0020'
down_revision: Union[str, None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The UTC calendar day of occurred_at as days since 1970-01-01: analytics.retention.utc_day.
UTC_DAY = {
    'postgresql': "(CAST(timezone('UTC', occurred_at) AS DATE) - DATE '1970-01-01')",
    'sqlite': "CAST(julianday(date(occurred_at)) - 2440587.5 AS INTEGER)",
}


def upgrade() -> None:
    op.create_table('analytics_user_day',
    sa.Column('dataset', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('dataset', 'user_id', 'day')
    )
    op.execute(
        "INSERT INTO analytics_user_day (dataset, user_id, day) "
        f"SELECT DISTINCT dataset, user_id, {UTC_DAY[op.get_bind().dialect.name]} "
        "FROM analytics_event WHERE user_id IS NOT NULL")
    op.create_index('ix_analytics_user_day_dataset_day_user_id', 'analytics_user_day',
                    ['dataset', 'day', 'user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_analytics_user_day_dataset_day_user_id', table_name='analytics_user_day')
    op.drop_table('analytics_user_day')
