"""remix lineage and per-character community settings (characters/), the topic of the day and
the daily-run lock of characters as members (community/member_models.py)

New tables only; no existing table is altered (on SQLite a batch operation on `characters` would
recreate it and drop the search triggers of 0005). A character without a `character_community`
row has the defaults: remixing allowed, community replies off.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('character_remixes',
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('parent_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('parent_creator', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['characters.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('character_id')
    )
    op.create_index(op.f('ix_character_remixes_parent_id'), 'character_remixes', ['parent_id'],
                    unique=False)
    op.create_table('character_community',
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('allow_remix', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('community_replies', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('character_id')
    )
    op.create_index(op.f('ix_character_community_community_replies'), 'character_community',
                    ['community_replies'], unique=False)
    op.create_table('community_topic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('prompt', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day')
    )
    op.create_table('community_topic_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['community_post.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['community_topic.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('topic_id', 'kind', 'character_id')
    )
    op.create_table('community_daily_run',
    sa.Column('job', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('started_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('job', 'day')
    )


def downgrade() -> None:
    op.drop_table('community_daily_run')
    op.drop_table('community_topic_post')
    op.drop_table('community_topic')
    op.drop_index(op.f('ix_character_community_community_replies'),
                  table_name='character_community')
    op.drop_table('character_community')
    op.drop_index(op.f('ix_character_remixes_parent_id'), table_name='character_remixes')
    op.drop_table('character_remixes')
