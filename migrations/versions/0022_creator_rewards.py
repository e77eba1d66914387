"""creator rewards: the monthly pool split by retained user-days (billing/rewards.py)

Adds users.signup_fingerprint (nullable: users who signed up before it have none and are
nobody's alt) and the tables reward_runs and reward_payouts.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 01:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0022'
down_revision: Union[str, None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): no copy of the users table the others point at.
    op.add_column('users', sa.Column('signup_fingerprint',
                                     sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index(op.f('ix_users_signup_fingerprint'), 'users', ['signup_fingerprint'],
                    unique=False)
    op.create_table('reward_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('pool', sa.Integer(), nullable=False),
    sa.Column('user_days', sa.Integer(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('excluded', sa.JSON(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('finished_at', core.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month')
    )
    op.create_table('reward_payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('user_days', sa.Integer(), nullable=False),
    sa.Column('characters', sa.JSON(), nullable=False),
    sa.Column('gems', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['reward_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'creator_id', name='uq_reward_payouts_run_creator')
    )
    op.create_index(op.f('ix_reward_payouts_creator_id'), 'reward_payouts', ['creator_id'],
                    unique=False)
    op.create_index(op.f('ix_reward_payouts_run_id'), 'reward_payouts', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reward_payouts_run_id'), table_name='reward_payouts')
    op.drop_index(op.f('ix_reward_payouts_creator_id'), table_name='reward_payouts')
    op.drop_table('reward_payouts')
    op.drop_table('reward_runs')
    op.drop_index(op.f('ix_users_signup_fingerprint'), table_name='users')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('signup_fingerprint')
