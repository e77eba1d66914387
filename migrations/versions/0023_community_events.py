"""community events: time-boxed themes, banners and creator contests (events/models.py)

Two new tables: the events and their contests' entries. They point at users, characters, the
community's posts (the announcements) and gacha's banners (the limited banner).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 01:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0023'
down_revision: Union[str, None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('community_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('theme', sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('prizes', sa.JSON(), nullable=True),
    sa.Column('banner_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('announcement_post_id', sa.Integer(), nullable=True),
    sa.Column('announced_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('judged_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('winners_post_id', sa.Integer(), nullable=True),
    sa.Column('winners_announced_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['banner_id'], ['gacha_banners.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['announcement_post_id'], ['community_post.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['winners_post_id'], ['community_post.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_community_event_starts_at', 'community_event', ['starts_at'])
    op.create_index('ix_community_event_ends_at', 'community_event', ['ends_at'])
    op.create_table('community_event_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('place', sa.Integer(), nullable=True),
    sa.Column('prize_gems', sa.Integer(), nullable=True),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['community_event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'character_id'),
    sa.UniqueConstraint('event_id', 'creator_id')
    )
    op.create_index('ix_community_event_entry_event_id', 'community_event_entry', ['event_id'])


def downgrade() -> None:
    op.drop_index('ix_community_event_entry_event_id', table_name='community_event_entry')
    op.drop_table('community_event_entry')
    op.drop_index('ix_community_event_ends_at', table_name='community_event')
    op.drop_index('ix_community_event_starts_at', table_name='community_event')
    op.drop_table('community_event')
