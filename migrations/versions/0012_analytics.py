"""analytics_event: the append-only event log fed by the domain events (analytics/)

A new table only; no existing table is altered (on SQLite a batch operation on `characters` would
recreate it and drop the search triggers of 0005).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('analytics_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('occurred_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_analytics_event_name', 'analytics_event', ['name'], unique=False)
    op.create_index('ix_analytics_event_occurred_at', 'analytics_event', ['occurred_at'],
                    unique=False)
    op.create_index('ix_analytics_event_user_id_occurred_at', 'analytics_event',
                    ['user_id', 'occurred_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_analytics_event_user_id_occurred_at', table_name='analytics_event')
    op.drop_index('ix_analytics_event_occurred_at', table_name='analytics_event')
    op.drop_index('ix_analytics_event_name', table_name='analytics_event')
    op.drop_table('analytics_event')
