"""Curation: the instance's own settings (name, tagline, featured tags, default content rating,
positioning text) and editors' picks (docs/curation.md). It reads characters, community posts
and stories through their services, and the feed gets its picks injected (app/wiring.py)."""
