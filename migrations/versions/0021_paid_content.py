"""paid content: creators price a story or a character card in gems (reserved, filled by its branch)

New tables only (paid_prices, paid_purchases; billing/models.py); no existing table is altered.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 01:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0021'
down_revision: Union[str, None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('paid_prices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('gems', sa.Integer(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'item_id', name='uq_paid_prices_kind_item')
    )
    op.create_index(op.f('ix_paid_prices_character_id'), 'paid_prices', ['character_id'],
                    unique=False)
    op.create_table('paid_purchases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('character_id', sa.Integer(), nullable=True),
    sa.Column('creator_id', sa.Integer(), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('gems', sa.Integer(), nullable=False),
    sa.Column('creator_gems', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('refund_transaction_id', sa.Integer(), nullable=True),
    sa.Column('refunded_by', sa.Integer(), nullable=True),
    sa.Column('refund_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('refunded_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id']),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id']),
    sa.ForeignKeyConstraint(['transaction_id'], ['gacha_transactions.id']),
    sa.ForeignKeyConstraint(['refund_transaction_id'], ['gacha_transactions.id']),
    sa.ForeignKeyConstraint(['refunded_by'], ['users.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transaction_id')
    )
    op.create_index(op.f('ix_paid_purchases_buyer_id'), 'paid_purchases', ['buyer_id'],
                    unique=False)
    op.create_index(op.f('ix_paid_purchases_character_id'), 'paid_purchases', ['character_id'],
                    unique=False)
    op.create_index(op.f('ix_paid_purchases_creator_id'), 'paid_purchases', ['creator_id'],
                    unique=False)
    # One active purchase per buyer and item (a refunded one may be bought again).
    op.create_index('uq_paid_purchases_active', 'paid_purchases', ['buyer_id', 'kind', 'item_id'],
                    unique=True, sqlite_where=sa.text("status = 'active'"),
                    postgresql_where=sa.text("status = 'active'"))


def downgrade() -> None:
    op.drop_index('uq_paid_purchases_active', table_name='paid_purchases')
    op.drop_index(op.f('ix_paid_purchases_creator_id'), table_name='paid_purchases')
    op.drop_index(op.f('ix_paid_purchases_character_id'), table_name='paid_purchases')
    op.drop_index(op.f('ix_paid_purchases_buyer_id'), table_name='paid_purchases')
    op.drop_table('paid_purchases')
    op.drop_index(op.f('ix_paid_prices_character_id'), table_name='paid_prices')
    op.drop_table('paid_prices')
