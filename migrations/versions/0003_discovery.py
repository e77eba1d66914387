"""discovery: swipes, dealt cards, interests, preferences, embeddings, stats

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 13:47:34.979573
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('discovery_interests',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tag', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'tag')
    )
    op.create_table('discovery_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('show_mature', sa.Boolean(), nullable=False),
    sa.Column('blocked_creator_ids', sa.JSON(), nullable=False),
    sa.Column('onboarded_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('discovery_character_embeddings',
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('text_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source_updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('character_id')
    )
    with op.batch_alter_table('discovery_character_embeddings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discovery_character_embeddings_updated_at'), ['updated_at'], unique=False)

    op.create_table('discovery_character_stats',
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('impressions', sa.Integer(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=False),
    sa.Column('passes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('character_id')
    )
    op.create_table('discovery_dealt_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('swipe_id', sa.Integer(), nullable=True),
    sa.Column('dealt_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('discovery_dealt_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discovery_dealt_cards_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_discovery_dealt_user_character', ['user_id', 'character_id'], unique=False)

    op.create_table('discovery_swipes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('dealt_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('undone', sa.Boolean(), nullable=False),
    sa.Column('undone_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['discovery_dealt_cards.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('discovery_swipes', schema=None) as batch_op:
        batch_op.create_index('ix_discovery_swipes_user_character', ['user_id', 'character_id'], unique=False)
        batch_op.create_index('ix_discovery_swipes_user_created', ['user_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('discovery_swipes', schema=None) as batch_op:
        batch_op.drop_index('ix_discovery_swipes_user_created')
        batch_op.drop_index('ix_discovery_swipes_user_character')

    op.drop_table('discovery_swipes')
    with op.batch_alter_table('discovery_dealt_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_discovery_dealt_user_character')
        batch_op.drop_index(batch_op.f('ix_discovery_dealt_cards_user_id'))

    op.drop_table('discovery_dealt_cards')
    op.drop_table('discovery_character_stats')
    with op.batch_alter_table('discovery_character_embeddings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discovery_character_embeddings_updated_at'))

    op.drop_table('discovery_character_embeddings')
    op.drop_table('discovery_preferences')
    op.drop_table('discovery_interests')
