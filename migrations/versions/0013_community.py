"""community posts, comments, likes and notifications (community/)

New tables only; no existing table is altered (on SQLite a batch operation on `characters` would
recreate it and drop the search triggers of 0005).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import core.db


revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('community_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_character_id', sa.Integer(), nullable=True),
    sa.Column('character_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('excerpt', sa.JSON(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=True),
    sa.Column('pull_id', sa.Integer(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('content_rating', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('like_count', sa.Integer(), nullable=False),
    sa.Column('comment_count', sa.Integer(), nullable=False),
    sa.Column('seeded', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pull_id'], ['gacha_pulls.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_community_post_author_character_id'), 'community_post',
                    ['author_character_id'], unique=False)
    op.create_index(op.f('ix_community_post_author_id'), 'community_post', ['author_id'],
                    unique=False)
    op.create_index(op.f('ix_community_post_character_id'), 'community_post', ['character_id'],
                    unique=False)
    op.create_index(op.f('ix_community_post_created_at'), 'community_post', ['created_at'],
                    unique=False)
    op.create_index('ix_community_post_status_created_id', 'community_post',
                    ['status', 'created_at', 'id'], unique=False)

    op.create_table('community_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('author_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_character_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('edited_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['community_comment.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['community_post.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_community_comment_author_character_id'), 'community_comment',
                    ['author_character_id'], unique=False)
    op.create_index(op.f('ix_community_comment_author_id'), 'community_comment', ['author_id'],
                    unique=False)
    op.create_index(op.f('ix_community_comment_parent_id'), 'community_comment', ['parent_id'],
                    unique=False)
    op.create_index('ix_community_comment_post_created', 'community_comment',
                    ['post_id', 'created_at'], unique=False)

    op.create_table('community_post_like',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['community_post.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'post_id')
    )
    op.create_index(op.f('ix_community_post_like_post_id'), 'community_post_like', ['post_id'],
                    unique=False)

    op.create_table('community_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_character_id', sa.Integer(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('read_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['comment_id'], ['community_comment.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['community_post.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_community_notification_user_created', 'community_notification',
                    ['user_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_community_notification_user_created', table_name='community_notification')
    op.drop_table('community_notification')
    op.drop_index(op.f('ix_community_post_like_post_id'), table_name='community_post_like')
    op.drop_table('community_post_like')
    op.drop_index('ix_community_comment_post_created', table_name='community_comment')
    op.drop_index(op.f('ix_community_comment_parent_id'), table_name='community_comment')
    op.drop_index(op.f('ix_community_comment_author_id'), table_name='community_comment')
    op.drop_index(op.f('ix_community_comment_author_character_id'),
                  table_name='community_comment')
    op.drop_table('community_comment')
    op.drop_index('ix_community_post_status_created_id', table_name='community_post')
    op.drop_index(op.f('ix_community_post_created_at'), table_name='community_post')
    op.drop_index(op.f('ix_community_post_character_id'), table_name='community_post')
    op.drop_index(op.f('ix_community_post_author_id'), table_name='community_post')
    op.drop_index(op.f('ix_community_post_author_character_id'), table_name='community_post')
    op.drop_table('community_post')
