"""The store: migrations match the schema on both backends; the database URL is resolved as documented."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from detainers.config import database_url, redact_url
from detainers.store.db import current_revision, head_revision
from detainers.store.schema import metadata


def test_migrations_build_exactly_the_declared_schema(engine):
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


def test_database_url_resolution(monkeypatch):
    monkeypatch.delenv("DETAINERS_DB", raising=False)
    assert database_url(None) == "sqlite:///detainers.db"
    monkeypatch.setenv("DETAINERS_DB", "postgresql://u@h/db")
    assert database_url(None) == "postgresql+psycopg://u@h/db"
    assert database_url("other.db") == "sqlite:///other.db"
    assert redact_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u@h/db"
