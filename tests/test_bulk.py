"""Large first loads drop and rebuild indexes (and PostgreSQL foreign keys) inside their transaction."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import inspect, select, func

from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.store import bulk
from detainers.store.db import open_store
from detainers.store.schema import bookings, people
from tests.conftest import BACKENDS
from tests.test_import import dump


def shape(engine) -> dict:
    """Every index and foreign key of the record tables, by table."""
    found = {}
    insp = inspect(engine)
    for table in ("people", "bookings", "detainers", "charges", "person_identities"):
        found[table] = (sorted((i["name"], tuple(i["column_names"])) for i in insp.get_indexes(table)),
                        sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"])
                               for f in insp.get_foreign_keys(table)))
    return found


@pytest.fixture
def small_batches(monkeypatch):
    """Treat 100 rows as a large batch, so a small package takes the first-load path."""
    monkeypatch.setattr(bulk, "DEFER_INDEXES_FROM", 100)


def test_first_load_rebuilds_every_index_and_key(engine, tmp_path, small_batches):
    before = shape(engine)
    write_demo_package(tmp_path / "demo")
    import_package(engine, tmp_path / "demo")
    assert shape(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(people)).scalar() > 100


def test_a_failed_batch_leaves_indexes_and_rows_as_they_were(engine, small_batches):
    before, rows = shape(engine), dump(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        with bulk.deferred_indexes(conn, bookings, 1000) as deferred:
            assert deferred
            raise RuntimeError("stopped halfway")
    assert shape(engine) == before and dump(engine) == rows


def test_small_batches_and_full_tables_keep_their_indexes(engine, tmp_path, monkeypatch):
    with engine.begin() as conn:
        with bulk.deferred_indexes(conn, bookings, 10) as deferred:
            assert not deferred  # below DEFER_INDEXES_FROM
    write_demo_package(tmp_path / "demo")
    import_package(engine, tmp_path / "demo")
    monkeypatch.setattr(bulk, "DEFER_INDEXES_FROM", 100)
    with engine.begin() as conn:
        stored = conn.execute(select(func.count()).select_from(bookings)).scalar()
        with bulk.deferred_indexes(conn, bookings, stored) as deferred:
            assert not deferred  # a batch smaller than twice what the table holds


def _cache_size(conn) -> int:
    return conn.connection.driver_connection.execute("PRAGMA cache_size").fetchone()[0]


def test_large_writes_get_a_bigger_sqlite_cache_and_give_it_back(tmp_path):
    """SQLite only: on PostgreSQL the server's own cache serves every connection."""
    engine = open_store(f"sqlite:///{tmp_path / 'cache.db'}")
    with engine.begin() as conn:
        usual = _cache_size(conn)
        with bulk.large_write(conn, 10):
            assert _cache_size(conn) == usual  # small writes keep the usual cache
        with bulk.large_write(conn, 10 ** 6):
            assert _cache_size(conn) == -bulk.LARGE_WRITE_CACHE_KIB != usual
        assert _cache_size(conn) == usual
    with pytest.raises(RuntimeError), engine.begin() as conn, bulk.large_write(conn, 10 ** 6):
        driver = conn.connection.driver_connection
        raise RuntimeError("a load that fails")
    assert driver.execute("PRAGMA cache_size").fetchone()[0] == usual  # the same connection, put back
    engine.dispose()


NASTY = [
    ("plain", None, date(2019, 1, 2), 7, True),
    ("tab\there", "back\\slash", None, 0, False),
    ("new\nline", "carriage\rreturn", date(1950, 1, 1), -3, None),
    ("\\N", "looks like NULL", None, None, True),  # a value that reads as NULL unless escaped
    ("\\.", "ends COPY data on a line of its own", None, 1, False),
    ("ünïcödé — ✓", "", date(2100, 12, 31), 2**40, True),
]


class _Count(int):
    """An int of a type copy_text's fast path does not know by name."""


@pytest.mark.parametrize("rows", [NASTY, [NASTY[0]] * 3, NASTY[1:2], [*NASTY[:1], ("n", "m", None, _Count(5), True)]],
                         ids=["mixed", "no-escapes", "one-tab", "int-subclass"])
def test_copy_text_is_copy_line_row_by_row(rows):
    assert bulk.copy_text(rows, 5) == "".join(bulk.copy_line(r) for r in rows)


def test_copy_text_refuses_values_it_cannot_write():
    with pytest.raises(TypeError, match="datetime"):
        bulk.copy_text([("a", datetime(2020, 1, 1, 12, 0))], 2)


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL only (DETAINERS_TEST_BACKENDS has no postgresql)")
def test_staged_copy_text_reads_back_as_the_values_it_was_made_from(pg_database, tmp_path):
    """What a reading process stages for PostgreSQL is read back value for value, escapes and all, with
    the import's constants (the source id) leading each row."""
    from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, MetaData, Table, Text, create_engine

    engine = create_engine(pg_database)
    meta = MetaData()
    table = Table("copy_check", meta, Column("source_id", Integer), Column("i", Integer), Column("a", Text),
                  Column("b", Text), Column("d", Date), Column("n", BigInteger), Column("f", Boolean))
    rows = [(i, *r) for i, r in enumerate(NASTY)]
    staged = tmp_path / "copy_check.tsv"
    bulk.staged_part(staged, "staged").write_text("i\ta\tb\td\tn\tf\n" + bulk.copy_text(rows, 6),
                                                  encoding="utf-8")
    try:
        with engine.begin() as conn:
            meta.create_all(conn)
            assert bulk.insert_staged(conn, table, staged, "staged", {"source_id": 42}) == len(rows)
            back = conn.execute(select(*table.c).order_by(table.c.i)).all()
        assert [tuple(r) for r in back] == [(42, *r) for r in rows]
    finally:
        with engine.begin() as conn:
            meta.drop_all(conn)
        engine.dispose()
