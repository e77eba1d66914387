"""Relationships: affinity and levels per (user, character), long-term memories, story mode."""
