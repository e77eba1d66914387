"""Schema for Alembic: every table module imported once, and what autogenerate leaves alone."""

def load_all_models() -> None:
    import core.users  # noqa: F401
    import core.auth.logins  # noqa: F401
    import conversations.models  # noqa: F401
    import characters.models  # noqa: F401
    import discovery.models  # noqa: F401
    import gacha.models  # noqa: F401
    import relationships.models  # noqa: F401
    import safety.models  # noqa: F401
    import moderation.models  # noqa: F401
    import analytics.models  # noqa: F401
    import community.member_models  # noqa: F401
    import community.models  # noqa: F401
    import rooms.models  # noqa: F401
    import assistant.models  # noqa: F401
    import curation.models  # noqa: F401
    import billing.models  # noqa: F401


# Objects managed by raw SQL in migrations, not by the models (SQLite's FTS5 search table and its
# shadow tables, PostgreSQL's GIN search index; see migrations/versions/0005_creators.py):
# autogenerate must leave them alone.
UNMODELLED_PREFIXES = ("character_search", "ix_characters_search")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic include_object hook: skip the unmodelled tables and indexes."""
    return not (type_ in ("table", "index") and reflected and compare_to is None
                and str(name).startswith(UNMODELLED_PREFIXES))
