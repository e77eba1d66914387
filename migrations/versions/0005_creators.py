"""creators: character versions, follows and likes, prompt reports, full-text search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:10:00

Search is native full-text on each backend:
- SQLite: an FTS5 table `character_search` (name, tags, description) with external content from
  `characters`, kept in sync by triggers on that table. NOTE: a later SQLite batch migration that
  recreates `characters` drops these triggers; such a migration must re-run
  `create_sqlite_search()` from here (it is idempotent and rebuilds the index).
- PostgreSQL: a GIN index on the same to_tsvector expression the search query uses.
The FTS5 tables are not in the models; `app.schema.include_object` keeps autogenerate from
proposing to drop them.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import core.db


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Must match studio.search.PG_DOCUMENT exactly, or PostgreSQL will not use the index.
PG_DOCUMENT = ("to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || "
               "coalesce(tags::text, '') || ' ' || coalesce(description, ''))")


def upgrade() -> None:
    op.create_table('character_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('visibility', sa.String(length=20), nullable=False),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('character_id', 'version')
    )
    with op.batch_alter_table('character_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_character_versions_character_id'), ['character_id'], unique=False)

    for table in ('character_follows', 'character_likes'):
        op.create_table(table,
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('character_id', sa.Integer(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'character_id')
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_character_id'), ['character_id'], unique=False)

    op.create_table('creator_follows',
    sa.Column('follower_id', sa.Integer(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['follower_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('follower_id', 'creator_id')
    )
    with op.batch_alter_table('creator_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_creator_follows_creator_id'), ['creator_id'], unique=False)

    op.create_table('prompt_reports',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('character_id', sa.Integer(), nullable=False),
    sa.Column('character_version', sa.Integer(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['character_id'], ['characters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id')
    )
    with op.batch_alter_table('prompt_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prompt_reports_character_id'), ['character_id'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        create_sqlite_search()
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_characters_search ON characters "
                   f"USING GIN ({PG_DOCUMENT})")


def create_sqlite_search() -> None:
    op.execute("CREATE VIRTUAL TABLE IF NOT EXISTS character_search USING fts5("
               "name, tags, description, content='characters', content_rowid='id', "
               "tokenize='unicode61 remove_diacritics 2')")
    op.execute("DROP TRIGGER IF EXISTS characters_search_insert")
    op.execute("DROP TRIGGER IF EXISTS characters_search_delete")
    op.execute("DROP TRIGGER IF EXISTS characters_search_update")
    op.execute("CREATE TRIGGER characters_search_insert AFTER INSERT ON characters BEGIN "
               "INSERT INTO character_search(rowid, name, tags, description) "
               "VALUES (new.id, new.name, new.tags, new.description); END")
    op.execute("CREATE TRIGGER characters_search_delete AFTER DELETE ON characters BEGIN "
               "INSERT INTO character_search(character_search, rowid, name, tags, description) "
               "VALUES ('delete', old.id, old.name, old.tags, old.description); END")
    op.execute("CREATE TRIGGER characters_search_update AFTER UPDATE OF name, tags, description "
               "ON characters BEGIN "
               "INSERT INTO character_search(character_search, rowid, name, tags, description) "
               "VALUES ('delete', old.id, old.name, old.tags, old.description); "
               "INSERT INTO character_search(rowid, name, tags, description) "
               "VALUES (new.id, new.name, new.tags, new.description); END")
    op.execute("INSERT INTO character_search(character_search) VALUES ('rebuild')")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS characters_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS character_search")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_characters_search")
    for table, index in (('prompt_reports', 'character_id'), ('creator_follows', 'creator_id'),
                         ('character_likes', 'character_id'), ('character_follows', 'character_id'),
                         ('character_versions', 'character_id')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_{index}'))
        op.drop_table(table)
