"""How a package row is stored: its columns, the values derived from it, and a staged copy.

A large first load spends most of its time handing values to the database one row at a time. The
processes that read the files (and the one that links detainers to bookings) can do that part: each
writes the rows of its file, exactly as they will be stored, into a staging file of its own, and the
import copies a whole staging file into its table inside its transaction (`bulk.insert_staged`):
on SQLite a database file copied with one statement, on PostgreSQL the text of a COPY, sent as it
is. A staged file holds the rows as `_upsert` would write them, less the source id (the import's
own): the same values, read back the same.

The process that staged a file then sends back only the columns that checks across files need
(`KEPT`), once it has made the checks of that file alone: rows sent between processes are pickled
and unpickled, and at a national size that costs more than reading them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

from detainers import outcomes
from detainers.datapackage.spec import IDENTITY_COLUMNS, FileSpec
from detainers.offenses import active_version, classify
from detainers.store import bulk  # also registers how dates are written to SQLite, here as in the import

#: From this many rows, a file read on another core is also staged there (below, staging costs more
#: than it saves).
STAGE_FROM = 50_000

#: The tables whose rows can be staged: those a large first load fills.
STAGEABLE = frozenset({"people", "bookings", "detainers", "charges"})

#: The staging file's table of rows, and (people) of identity fields.
ROWS, IDENTITIES = "staged", "identities"

#: Staging files: a SQLite database, or (PostgreSQL) COPY text (`bulk.staged_part`).
SQLITE, COPY_TEXT = ".db", ".tsv"

#: Of a file whose rows are staged, the columns the checks across files read (with `source_row`);
#: the other files are sent whole. (Bookings' and detainers' are staged when the process that reads
#: them links them, `PackageReading`.)
KEPT = {"people.csv": ("person_id",),
        "bookings.csv": ("booking_id", "person_id", "facility_id", "booked_on", "released_on"),
        "detainers.csv": ("detainer_id", "person_id", "facility_id", "booking_id", "lodged_on", "lifted_on"),
        "charges.csv": ("booking_id", "detainer_id")}


@dataclass(frozen=True)
class Staged:
    """A staged copy of one file's rows: where it is, how many rows, how many of them are detainer lines
    (charges) or have identity fields (people)."""

    path: Path
    rows: int
    detainer_lines: int = 0
    identities: int = 0  # people: how many have identity fields


def given_columns(spec: FileSpec, derived: tuple[str, ...]) -> list[str]:
    """The columns of `spec` stored as given: less identity fields (kept apart) and less what is derived."""
    return [c.stored_as for c in spec.columns
            if c.stored_as not in derived and not (spec.table == "people" and c.stored_as in IDENTITY_COLUMNS)]


def derivation(table: str, deriver=None) -> tuple[tuple[str, ...], Callable[[dict], tuple] | None]:
    """The derived columns of a table's stored rows, and the function giving their values for a row
    (None when there are none). Derived values replace given ones of the same name. Detainers' values
    come from `deriver` (their links to bookings); without one, detainers have none."""
    if table == "charges":
        version = active_version()

        def charge(row: dict) -> tuple:
            c = classify(row["description"], code=row["code"], level=row["level"])
            category = row["category"]
            return (category or c.category, "source" if category else "classifier", c.rule, version,
                    c.is_detainer, row["level"] or c.level, row["stage"] or "unknown")

        return ("category", "category_origin", "classifier_rule", "classifier_version", "is_detainer_line",
                "level", "stage"), charge
    if table == "policies":
        return ("agreement",), lambda row: (row["agreement"] or "none",)
    if table == "detainers" and deriver is not None:
        return outcomes.DERIVED, deriver
    return (), None


def stage(path: Path, spec: FileSpec, rows: list[dict], hashes: list[str], deriver=None) -> Staged:
    """Write `rows` (with their fingerprints `hashes`) as they are to be stored into a new staging file at
    `path` (its suffix says which kind: SQLITE or COPY_TEXT); people's identity fields go to a table of
    their own."""
    from detainers.datapackage.reader import getter

    derived, derive = derivation(spec.table, deriver)
    given = given_columns(spec, derived)
    columns = [*given, "source_row", "row_hash", *derived]
    given_of = getter(given)
    if derive is None:
        values: Iterable[tuple] = ((*given_of(row), row["source_row"], fingerprint)
                                   for row, fingerprint in zip(rows, hashes))
    else:
        values = ((*given_of(row), row["source_row"], fingerprint, *derive(row))
                  for row, fingerprint in zip(rows, hashes))
    lines = [0]
    if "is_detainer_line" in columns:
        values = _counting(values, columns.index("is_detainer_line"), lines)
    if path.suffix == COPY_TEXT:
        _write_text(bulk.staged_part(path, ROWS), columns, values)
        identities = 0
        if spec.table == "people":
            identities = _write_text(bulk.staged_part(path, IDENTITIES), _IDENTITY_COLUMNS, _identities(rows))
        return Staged(path, len(rows), lines[0], identities)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")  # a scratch file: written once, by this process only
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        _write(db, ROWS, columns, values)
        identities = 0
        if spec.table == "people":
            given = list(_identities(rows))
            _write(db, IDENTITIES, _IDENTITY_COLUMNS, given)
            identities = len(given)
        db.execute("COMMIT")
    finally:
        db.close()
    return Staged(path, len(rows), lines[0], identities)


_IDENTITY_COLUMNS = ["person_id", "name", "date_of_birth", "source_row"]


def _identities(rows: list[dict]) -> Iterator[tuple]:
    """The identity fields of the people of `rows` who have any (`_IDENTITY_COLUMNS`)."""
    return ((r["person_id"], r["name"], r["date_of_birth"], r["source_row"]) for r in rows
            if r["name"] is not None or r["date_of_birth"] is not None)


def _write_text(path: Path, columns: list[str], values: Iterable[tuple]) -> int:
    """COPY text of `values` at `path`, after a first line naming the columns; returns how many rows."""
    count = 0
    width = len(columns)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("\t".join(columns) + "\n")
        batch = []
        for v in values:
            batch.append(v)
            if len(batch) == 10_000:
                out.write(bulk.copy_text(batch, width))
                count += len(batch)
                batch.clear()
        if batch:
            out.write(bulk.copy_text(batch, width))
            count += len(batch)
    return count


def kept(spec: FileSpec, rows: list[dict]) -> "Columns | list[dict]":
    """What is sent back of a staged file's rows: the columns of `KEPT` with `source_row`, as `Columns`
    (all of the rows, for a file not in `KEPT`)."""
    names = KEPT.get(spec.name)
    if names is None:
        return rows
    return Columns(("source_row", *names), rows)


class Columns:
    """Some columns of a file's rows, as one list per column: what crosses between processes. A list of
    a million dicts costs several times more to pickle and unpickle than the same values as columns.
    `rows()` gives them back as dicts (with only these keys)."""

    __slots__ = ("names", "values")

    def __init__(self, names: tuple[str, ...], rows: list[dict]) -> None:
        self.names = names
        self.values = [[row[name] for row in rows] for name in names]

    def rows(self) -> list[dict]:
        names = self.names
        return [dict(zip(names, values)) for values in zip(*self.values)]


def _counting(values: Iterable[tuple], at: int, count: list[int]) -> Iterator[tuple]:
    """`values` as they are, adding to `count[0]` each one whose item `at` is true (as they pass)."""
    for v in values:
        if v[at]:
            count[0] += 1
        yield v


#: At most this many rows per INSERT into a staging file, and at most 999 values (the least limit any
#: SQLite has had): a statement per row costs about a fifth more.
_ROWS_PER_INSERT, _VALUES_PER_INSERT = 50, 999


def _write(db: sqlite3.Connection, table: str, columns: list[str], values: Iterable[tuple]) -> None:
    """Rows `values` into a new table of the staging database `db`, in order."""
    names = ", ".join(f'"{c}"' for c in columns)
    db.execute(f'CREATE TABLE "{table}" ({names})')
    one = f'({", ".join("?" for _ in columns)})'
    per = max(1, min(_ROWS_PER_INSERT, _VALUES_PER_INSERT // len(columns)))
    rest: list[tuple] = []
    db.executemany(f'INSERT INTO "{table}" ({names}) VALUES {", ".join([one] * per)}', _flat(values, per, rest))
    db.executemany(f'INSERT INTO "{table}" ({names}) VALUES {one}', rest)


def _flat(values: Iterable[tuple], per: int, rest: list[tuple]) -> Iterator[tuple]:
    """The values of each `per` rows of `values` as one tuple; the rows left over at the end go to `rest`."""
    rows = iter(values)
    while True:
        batch = list(islice(rows, per))
        if len(batch) < per:
            rest.extend(batch)
            return
        yield tuple(chain.from_iterable(batch))
