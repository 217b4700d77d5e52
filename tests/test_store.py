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


def test_upgrading_a_database_with_data_keeps_it(db_url):
    from sqlalchemy import text

    from detainers.store.db import make_engine, open_store, upgrade

    engine = make_engine(db_url)
    with engine.begin() as conn:  # start from an empty database at the first migration
        for table in ("agreements", "roster_entries"):
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        for table in reversed(metadata.sorted_tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}"' + (" CASCADE" if "postgresql" in db_url else "")))
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO jurisdictions (jurisdiction_id, name, state, kind) VALUES "
                          "('nc-wake', 'Wake County', 'NC', 'county')"))
        conn.execute(text("INSERT INTO facilities (facility_id, name, jurisdiction_id) VALUES "
                          "('nc-wake-jail', 'Wake County Detention Center', 'nc-wake')"))
        conn.execute(text("INSERT INTO people (person_id, sex) VALUES ('p1', 'M')"))
        conn.execute(text("INSERT INTO bookings (booking_id, person_id, facility_id, booked_on) VALUES "
                          "('b1', 'p1', 'nc-wake-jail', '2019-01-02')"))
        conn.execute(text("INSERT INTO charges (charge_id, booking_id, description, level, stage, category, "
                          "category_origin, is_detainer_line) VALUES ('c1', 'b1', 'DWI', 'unknown', 'pending', "
                          "'dui', 'classifier', false)"))
    engine.dispose()
    upgraded = open_store(db_url)
    assert current_revision(upgraded) == head_revision()
    with upgraded.connect() as conn:
        assert conn.execute(text("SELECT booking_id, detainer_id FROM charges")).one() == ("b1", None)
        assert conn.execute(text("SELECT origin FROM policies")).all() == []
    upgraded.dispose()


def test_a_failed_migration_leaves_the_schema_as_it_was(tmp_path):
    import pytest
    from sqlalchemy import inspect, text

    from detainers.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, "0001")
    with engine.begin() as conn:  # something in the way of the second migration's second table
        conn.execute(text("CREATE TABLE agreements (x INTEGER)"))
    with pytest.raises(Exception):
        upgrade(engine, "0002")
    assert current_revision(engine) == "0001"
    assert "roster_entries" not in inspect(engine).get_table_names()  # the first table it made is gone too
