"""Metadata (SQLite or PostgreSQL, migrated by Alembic) and content-addressed blobs (fsspec)."""
