"""moderation rules: the safety pipeline's operator-editable word and pattern lists

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('moderation_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('pattern', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('moderation_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_rules_category'), ['category'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('moderation_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_rules_category'))
    op.drop_table('moderation_rules')
