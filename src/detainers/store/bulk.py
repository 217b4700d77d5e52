"""Bulk writes on each engine's fast path, inside the caller's transaction.

SQLite: the driver's executemany (no per-row SQLAlchemy work). PostgreSQL: COPY,
and for updates COPY into a temporary table and one UPDATE … FROM. Anything
else: SQLAlchemy's executemany. All three write the same values.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import Connection, Table, bindparam, insert, update


def _dialect(conn: Connection) -> str:
    return conn.dialect.name


def _sqlite_rows(rows: list[Sequence]) -> list[tuple]:
    """Dates as the text SQLAlchemy's Date type writes on SQLite, so both paths read back alike."""
    if not rows:
        return []
    width = len(rows[0])
    # Columns hold one type (or None): find the date columns once, from the first value that is set.
    dated = []
    for i in range(width):
        sample = next((row[i] for row in rows if row[i] is not None), None)
        if isinstance(sample, (date, datetime)):
            dated.append(i)
    if not dated:
        return [tuple(row) for row in rows]
    out = []
    for row in rows:
        row = list(row)
        for i in dated:
            value = row[i]
            if value is not None:
                row[i] = value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
        out.append(tuple(row))
    return out


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert rows (tuples in `columns` order); returns how many."""
    rows = list(rows)
    if not rows:
        return 0
    dialect = _dialect(conn)
    if dialect == "sqlite":
        sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({", ".join("?" for _ in columns)})'
        cursor = conn.connection.driver_connection.cursor()
        cursor.executemany(sql, _sqlite_rows(rows))
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
        cursor.executemany(sql, _sqlite_rows([(*row[n:], *row[:n]) for row in rows]))
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
