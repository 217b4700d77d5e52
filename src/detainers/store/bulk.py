"""Bulk writes on each engine's fast path, inside the caller's transaction.

SQLite: the driver's executemany (no per-row SQLAlchemy work). PostgreSQL: COPY,
and for updates COPY into a temporary table and one UPDATE … FROM. Anything
else: SQLAlchemy's executemany. All three write the same values.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import psycopg
from sqlalchemy import Connection, Table, bindparam, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

#: What a refused write raises: through SQLAlchemy, or from the drivers' own cursors used here.
DATABASE_ERRORS = (DBAPIError, sqlite3.Error, psycopg.Error)

#: Below this many new rows, keeping the indexes while writing costs little.
DEFER_INDEXES_FROM = 50_000


def _dialect(conn: Connection) -> str:
    return conn.dialect.name


# Dates as the text SQLAlchemy's Date type writes on SQLite, so rows written here and through
# SQLAlchemy read back alike. The driver converts each value in C as it binds it (these are also
# the driver's own defaults, which Python 3.12 deprecates: registered here, they stay).
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, lambda value: value.isoformat(sep=" "))


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert rows (tuples in `columns` order); returns how many."""
    rows = list(rows)
    if not rows:
        return 0
    dialect = _dialect(conn)
    if dialect == "sqlite":
        sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({", ".join("?" for _ in columns)})'
        cursor = conn.connection.driver_connection.cursor()
        cursor.executemany(sql, rows)
        cursor.close()
    elif dialect == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()
    else:
        conn.execute(insert(table), [dict(zip(columns, row)) for row in rows])
    return len(rows)


#: The schema names staging files are attached under (`insert_staged`).
_STAGED_PREFIX = "staged_"


def insert_staged(conn: Connection, table: Table, staged: Path, source: str, constants: dict[str, object]) -> int:
    """Copy every row of table `source` of a staging file (`datapackage.stored.stage`) into `table`, with
    `constants` (column: value) added to each; returns how many.

    SQLite copies the rows of a staging database itself, in one statement, without handing them to
    Python and back, and lets other threads run meanwhile. The file stays attached until
    `detach_staged`, after the transaction ends (SQLite cannot detach a file a transaction has read).
    PostgreSQL is sent the COPY text of `staged_part(staged, source)` as it is, a block at a time.
    """
    if _dialect(conn) == "postgresql":
        return _copy_staged(conn, table, staged_part(staged, source), constants)
    driver = conn.connection.driver_connection
    alias = _STAGED_PREFIX + staged.stem
    if alias not in _attached(driver):
        driver.execute(f'ATTACH DATABASE ? AS "{alias}"', (str(staged),))
    columns = [r[1] for r in driver.execute(f'PRAGMA "{alias}".table_info("{source}")')]
    if not columns:
        raise ValueError(f"{staged} has no table {source}")
    names = ", ".join(f'"{c}"' for c in [*columns, *constants])
    picked = ", ".join([*(f'"{c}"' for c in columns), *("?" for _ in constants)])
    cursor = driver.execute(f'INSERT INTO main."{table.name}" ({names}) SELECT {picked} FROM "{alias}"."{source}"',
                            tuple(constants.values()))
    return cursor.rowcount


def staged_part(staged: Path, source: str) -> Path:
    """The file of COPY text staged at `staged` (PostgreSQL) that holds the rows of table `source`."""
    return staged.with_name(f"{staged.stem}.{source}{staged.suffix}")


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_value(value) -> str:
    """One value as PostgreSQL's COPY text takes it (as psycopg would send it): NULL as \\N, booleans as
    t/f, dates ISO, and in text a backslash, tab, newline or carriage return escaped."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_ESCAPES)
        return value
    if isinstance(value, (int, date)) and not isinstance(value, datetime):
        return str(value)
    raise TypeError(f"cannot stage a {type(value).__name__} as COPY text: {value!r}")


def copy_line(values: Sequence) -> str:
    """One row of COPY text, ending in a newline (the only newline in it: those in values are escaped)."""
    return "\t".join(map(copy_value, values)) + "\n"


#: How `copy_text` writes the values that are not text, by their exact type (others: `copy_value`).
_PLAIN = {int: int.__str__, date: date.isoformat, bool: {True: "t", False: "f"}.__getitem__}


def copy_text(rows: Sequence[Sequence], width: int) -> str:
    """The COPY text of `rows` (each `width` values), as `copy_line` gives it, made a batch at a time.

    Text is rarely escaped: each row is joined as it is, and the batch is checked to hold exactly the
    tabs, newlines and backslashes the joins and NULLs put there (and no carriage return). If a value
    brought one of its own, or is of a type `_PLAIN` does not know, the batch is made again value by
    value (`copy_line`: escaped, or refused).
    """
    plain = _PLAIN
    try:
        text = "\n".join(["\t".join([v if v.__class__ is str else "\\N" if v is None else plain[v.__class__](v)
                                     for v in row]) for row in rows]) + "\n"
    except KeyError:
        return "".join(map(copy_line, rows))
    nulls = sum(row.count(None) for row in rows)
    if (text.count("\t") == len(rows) * (width - 1) and text.count("\n") == len(rows)
            and text.count("\\") == nulls and "\r" not in text):
        return text
    return "".join(map(copy_line, rows))


#: Bytes of staged COPY text sent to PostgreSQL at a time.
_COPY_BLOCK = 8 << 20


def _copy_staged(conn: Connection, table: Table, path: Path, constants: dict[str, object]) -> int:
    """PostgreSQL: COPY the staged text at `path` (a first line naming its columns) into `table`, each row
    led by `constants`."""
    lead = "".join(copy_value(v) + "\t" for v in constants.values()).encode()
    count = 0
    cursor = conn.connection.driver_connection.cursor()
    with path.open("rb") as f:
        columns = [*constants, *f.readline().decode("utf-8").rstrip("\n").split("\t")]
        with cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
            left = b""
            while block := f.read(_COPY_BLOCK):
                block = left + block
                cut = block.rfind(b"\n") + 1
                block, left = block[:cut], block[cut:]
                if block:
                    count += block.count(b"\n")
                    copy.write(lead + block[:-1].replace(b"\n", b"\n" + lead) + b"\n")
            if left:
                raise ValueError(f"{path} ends in the middle of a row")
    cursor.close()
    return count


def detach_staged(conn: Connection) -> None:
    """Detach the staging files `insert_staged` attached (once the caller's transaction has ended)."""
    if _dialect(conn) != "sqlite":
        return
    driver = conn.connection.driver_connection
    if driver.in_transaction:  # a refused COMMIT (a foreign key checked at commit) leaves its transaction open
        driver.rollback()
    for alias in _attached(driver):
        driver.execute(f'DETACH DATABASE "{alias}"')


def _attached(driver) -> list[str]:
    return [r[1] for r in driver.execute("PRAGMA database_list") if r[1].startswith(_STAGED_PREFIX)]


def update_rows(conn: Connection, table: Table, key: Sequence[str], columns: Sequence[str],
                rows: Iterable[Sequence]) -> int:
    """Update by key: each row is (key values…, column values…)."""
    rows = list(rows)
    if not rows:
        return 0
    dialect = _dialect(conn)
    if dialect == "sqlite":
        sets = ", ".join(f"{c} = ?" for c in columns)
        where = " AND ".join(f"{k} = ?" for k in key)
        sql = f'UPDATE "{table.name}" SET {sets} WHERE {where}'
        n = len(key)
        cursor = conn.connection.driver_connection.cursor()
        cursor.executemany(sql, [(*row[n:], *row[:n]) for row in rows])
        cursor.close()
    elif dialect == "postgresql":
        temp = f"tmp_update_{table.name}"
        all_cols = [*key, *columns]
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute(f'CREATE TEMP TABLE "{temp}" ON COMMIT DROP AS '
                       f'SELECT {", ".join(all_cols)} FROM "{table.name}" WITH NO DATA')
        with cursor.copy(f'COPY "{temp}" ({", ".join(all_cols)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        sets = ", ".join(f"{c} = t.{c}" for c in columns)
        where = " AND ".join(f'"{table.name}".{k} = t.{k}' for k in key)
        cursor.execute(f'UPDATE "{table.name}" SET {sets} FROM "{temp}" t WHERE {where}')
        cursor.execute(f'DROP TABLE "{temp}"')
        cursor.close()
    else:
        stmt = (update(table)
                .where(*(table.c[k] == bindparam(f"k_{k}") for k in key))
                .values({c: bindparam(f"v_{c}") for c in columns}))
        n = len(key)
        conn.execute(stmt, [{**{f"k_{k}": row[i] for i, k in enumerate(key)},
                             **{f"v_{c}": row[n + i] for i, c in enumerate(columns)}} for row in rows])
    return len(rows)


#: SQLite page cache while a large load writes, in KiB (the default is 2 MiB).
LARGE_WRITE_CACHE_KIB = 256 * 1024


@contextmanager
def large_write(conn: Connection, rows: int, cache_kib: int | None = None) -> Iterator[None]:
    """On SQLite, a bigger page cache while a load of `rows` rows writes, and the usual one after.

    Rows whose keys come in no particular order (an ICE release's hashed ids) touch pages all over the
    key indexes; with the default 2 MiB cache every insert goes to disk for them. The cache only holds
    pages while this connection uses them, and the old size is put back (freeing the rest) at the end.
    `cache_kib` overrides LARGE_WRITE_CACHE_KIB.
    """
    if _dialect(conn) != "sqlite" or rows < DEFER_INDEXES_FROM:
        yield
        return
    driver = conn.connection.driver_connection  # also usable after a failed statement, to put it back
    before = driver.execute("PRAGMA cache_size").fetchone()[0]
    driver.execute(f"PRAGMA cache_size = {-(cache_kib or LARGE_WRITE_CACHE_KIB)}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {int(before)}")


@contextmanager
def deferred_indexes(conn: Connection, table: Table, incoming: int,
                     foreign_later: list[tuple[Table, list[tuple[str, str]]]] | None = None) -> Iterator[bool]:
    """Drop a table's secondary indexes (and, on PostgreSQL, its foreign keys) while a large batch is
    written into it, and build them again after.

    Building an index once over all rows, or checking a foreign key with one join, is several times
    faster than keeping it up to date row by row; re-adding a foreign key checks every row. Only done
    when the batch is large and at least twice the size of the table (a first load); the drop and the
    rebuild happen in the caller's transaction, so a failure leaves the indexes as they were and
    readers never see the table without them. Yields whether indexes were deferred.

    `foreign_later`, if given, takes the (table, foreign keys) to add again instead (PostgreSQL): the
    caller writes the rows they refer to after these, and then calls `add_foreign_keys`.
    """
    if incoming < DEFER_INDEXES_FROM:
        yield False
        return
    stored = conn.execute(select(func.count()).select_from(table)).scalar_one()
    if stored * 2 > incoming:
        yield False
        return
    definitions = _secondary_indexes(conn, table)
    foreign = _foreign_keys(conn, table)
    for name, _ in definitions:
        conn.execute(text(f'DROP INDEX "{name}"'))
    for name, _ in foreign:  # PostgreSQL checks these row by row; once over the whole table is far cheaper
        conn.execute(text(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{name}"'))
    yield True
    if foreign:  # PostgreSQL: sort for the rebuilds in memory rather than on disk (this transaction only)
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _, sql in definitions:
        conn.execute(text(sql))
    if foreign_later is not None:
        if foreign:
            foreign_later.append((table, foreign))
    else:
        add_foreign_keys(conn, table, foreign)


def add_foreign_keys(conn: Connection, table: Table, foreign: list[tuple[str, str]]) -> None:
    """Add back foreign keys `deferred_indexes` dropped (each checks every row once)."""
    for name, definition in foreign:
        conn.execute(text(f'ALTER TABLE "{table.name}" ADD CONSTRAINT "{name}" {definition}'))


def foreign_keys_at_commit(conn: Connection) -> None:
    """On SQLite, check foreign keys at the commit of the caller's transaction instead of at each
    statement (until that transaction ends), so rows may be written before the rows they refer to. A
    parent row written later then looks up its children by index (the child's foreign key columns are
    indexed). PostgreSQL: nothing (there a large first load drops the foreign keys it writes under,
    `deferred_indexes`)."""
    if _dialect(conn) == "sqlite":
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")


def _foreign_keys(conn: Connection, table: Table) -> list[tuple[str, str]]:
    """(name, definition) of the table's foreign keys on PostgreSQL (SQLite does not enforce them)."""
    if _dialect(conn) != "postgresql":
        return []
    rows = conn.execute(text(
        "SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = CAST(:t AS regclass)"), {"t": table.name})
    return [(r.name, r.definition) for r in rows]


def _secondary_indexes(conn: Connection, table: Table) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the indexes that do not back a primary key or constraint."""
    dialect = _dialect(conn)
    if dialect == "sqlite":
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                                 "AND sql IS NOT NULL"), {"t": table.name})
        return [(r.name, r.sql) for r in rows]
    if dialect == "postgresql":
        rows = conn.execute(text(
            "SELECT i.indexname AS name, i.indexdef AS sql FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = :t AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c WHERE c.conindid = ("
            "    SELECT oid FROM pg_class WHERE relname = i.indexname AND relnamespace = "
            "    (SELECT oid FROM pg_namespace WHERE nspname = i.schemaname)))"), {"t": table.name})
        return [(r.name, r.sql) for r in rows]
    return []


def analyze(conn: Connection, tables: Sequence[Table]) -> None:
    """Refresh the planner's statistics for tables that just grew a lot (in the caller's transaction).

    Without them, the first queries after a large first load can pick a scan over an index. SQLite
    samples at most 1,000 rows per index (`analysis_limit`), so this costs little at any size.
    """
    dialect = _dialect(conn)
    names = ", ".join(f'"{t.name}"' for t in tables)
    if dialect == "sqlite":
        conn.execute(text("PRAGMA analysis_limit = 1000"))
        for table in tables:
            conn.execute(text(f'ANALYZE "{table.name}"'))
    elif dialect == "postgresql" and names:
        conn.execute(text(f"ANALYZE {names}"))


def streamed(query):
    """A query whose rows come in batches as they are read (a server-side cursor on PostgreSQL), for
    scans of whole tables: memory then follows what the caller keeps, not the size of the table."""
    return query.execution_options(stream_results=True, yield_per=20_000)
