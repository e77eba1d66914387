"""gacha: currency ledger, banners, cards, server seeds, pulls, pity, collection

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 13:39:46.897338
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('gacha_banners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('featured_character_ids', sa.JSON(), nullable=False),
    sa.Column('starts_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('pool', sa.JSON(), nullable=False),
    sa.Column('pool_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pull_cost', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('gacha_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gacha_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gacha_accounts_code'), ['code'], unique=True)
        batch_op.create_index(batch_op.f('ix_gacha_accounts_user_id'), ['user_id'], unique=False)

    op.create_table('gacha_pity',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('banner_id', sa.Integer(), nullable=False),
    sa.Column('pulls_since_ssr', sa.Integer(), nullable=False),
    sa.Column('pulls_since_sr', sa.Integer(), nullable=False),
    sa.Column('lost_5050', sa.Boolean(), nullable=False),
    sa.Column('total_pulls', sa.Integer(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['banner_id'], ['gacha_banners.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'banner_id')
    )
    op.create_table('gacha_server_seeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seed', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seed_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client_seed', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('next_nonce', sa.BigInteger(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revealed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gacha_server_seeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gacha_server_seeds_user_id'), ['user_id'], unique=False)

    op.create_table('gacha_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'idempotency_key', name='uq_gacha_transactions_user_key')
    )
    with op.batch_alter_table('gacha_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gacha_transactions_user_id'), ['user_id'], unique=False)

    op.create_table('gacha_wallets',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('gacha_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('rarity', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('character_id', 'rarity', name='uq_gacha_cards_character_rarity')
    )
    with op.batch_alter_table('gacha_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gacha_cards_character_id'), ['character_id'], unique=False)

    op.create_table('gacha_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['gacha_accounts.id'], ),
    sa.ForeignKeyConstraint(['transaction_id'], ['gacha_transactions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gacha_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gacha_entries_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gacha_entries_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('gacha_collection',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_obtained_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['gacha_cards.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'card_id')
    )
    op.create_table('gacha_pulls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('banner_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('server_seed_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('client_seed', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('rarity', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('featured', sa.Boolean(), nullable=False),
    sa.Column('duplicate', sa.Boolean(), nullable=False),
    sa.Column('shards', sa.Integer(), nullable=False),
    sa.Column('pity_before', sa.Integer(), nullable=False),
    sa.Column('pulls_since_sr_before', sa.Integer(), nullable=False),
    sa.Column('lost_5050_before', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['banner_id'], ['gacha_banners.id'], ),
    sa.ForeignKeyConstraint(['card_id'], ['gacha_cards.id'], ),
    sa.ForeignKeyConstraint(['server_seed_id'], ['gacha_server_seeds.id'], ),
    sa.ForeignKeyConstraint(['transaction_id'], ['gacha_transactions.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('server_seed_id', 'nonce', name='uq_gacha_pulls_seed_nonce')
    )
    with op.batch_alter_table('gacha_pulls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gacha_pulls_banner_id'), ['banner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gacha_pulls_server_seed_id'), ['server_seed_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gacha_pulls_transaction_id'), ['transaction_id'], unique=False)
        batch_op.create_index('ix_gacha_pulls_user_created', ['user_id', 'created_at'], unique=False)
def downgrade() -> None:
    with op.batch_alter_table('gacha_pulls', schema=None) as batch_op:
        batch_op.drop_index('ix_gacha_pulls_user_created')
        batch_op.drop_index(batch_op.f('ix_gacha_pulls_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_gacha_pulls_server_seed_id'))
        batch_op.drop_index(batch_op.f('ix_gacha_pulls_banner_id'))

    op.drop_table('gacha_pulls')
    op.drop_table('gacha_collection')
    with op.batch_alter_table('gacha_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gacha_entries_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_gacha_entries_account_id'))

    op.drop_table('gacha_entries')
    with op.batch_alter_table('gacha_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gacha_cards_character_id'))

    op.drop_table('gacha_cards')
    op.drop_table('gacha_wallets')
    with op.batch_alter_table('gacha_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gacha_transactions_user_id'))

    op.drop_table('gacha_transactions')
    with op.batch_alter_table('gacha_server_seeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gacha_server_seeds_user_id'))

    op.drop_table('gacha_server_seeds')
    op.drop_table('gacha_pity')
    with op.batch_alter_table('gacha_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gacha_accounts_user_id'))
        batch_op.drop_index(batch_op.f('ix_gacha_accounts_code'))

    op.drop_table('gacha_accounts')
    op.drop_table('gacha_banners')
