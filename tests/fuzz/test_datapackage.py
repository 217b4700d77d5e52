"""The data package: the reader on mutated copies of tests/corpus/packages/_base, the cross-row checks
against a SQLite database that holds the base package, and (fewer examples) the whole import."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detainers.datapackage import spec
from detainers.datapackage.checks import check_package
from detainers.datapackage.importer import import_package
from detainers.datapackage.reader import read_package
from detainers.store.db import make_engine, migrate
from tests.fuzz.support import (CORPUS, FUZZ, HEAVY, assert_dates_in_bounds, encoded, mutated_table, no_hang,
                                reads_cleanly, read_rows, text_cell, to_csv)

BASE = CORPUS / "packages" / "_base"
FILES = sorted(p.name for p in BASE.glob("*.csv"))
ROWS = {name: read_rows(BASE / name) for name in FILES}
#: Cells a package holds: ids of other rows, vocabulary words, dates, besides anything at all.
_WORDS = sorted({c for rows in ROWS.values() for r in rows[1:] for c in r if c})
CELL = st.one_of(text_cell(), st.sampled_from(_WORDS), st.sampled_from(["'=1+1", "'+1", "' x", "2019-02-30",
                                                                        "1949-12-31", "2100-12-31", "x" * 129]))


@st.composite
def mutated_package(draw):
    """{file name: bytes} for one to three files of the base package, each mutated."""
    names = draw(st.lists(st.sampled_from(FILES + ["package.toml"]), min_size=1, max_size=3, unique=True))
    out = {}
    for name in names:
        if name == "package.toml":
            text = draw(st.sampled_from(['synthetic = true\ntitle = "x"\n', 'as_of = "2019-02-30"\n', "as_of = 1\n",
                                         "synthetic = 'yes'\n", "as_of = 2019-01-01T00:00:00\n", "= broken",
                                         'title = "\\u202e"\nas_of = "20190101"\n']) | text_cell())
        else:
            text = to_csv(draw(mutated_table(ROWS[name], cell=CELL, max_ops=6)))
        out[name] = draw(encoded(text))
    return out


def _copy(folder: str, files: dict[str, bytes]) -> Path:
    package = Path(folder) / "package"
    shutil.copytree(BASE, package)
    for name, data in files.items():
        (package / name).write_bytes(data)
    return package


def _names(files: dict[str, bytes]) -> list[str]:
    """An error names the file it is about (by its package name) or the folder."""
    return list(files) + FILES + ["package.toml"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """A SQLite database in a temporary folder, holding the base package."""
    path = tmp_path_factory.mktemp("fuzz-db") / "fuzz.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    import_package(engine, BASE)
    yield engine
    engine.dispose()


@FUZZ
@given(files=mutated_package())
def test_read_and_check(engine, files):
    with tempfile.TemporaryDirectory() as folder:
        package = _copy(folder, files)
        pkg = reads_cleanly(lambda: read_package(package), *_names(files))
        if pkg is None:
            return
        for f in pkg.files.values():
            assert_dates_in_bounds(f.rows)
        with no_hang(), engine.connect() as conn:
            problems = check_package(conn, pkg)  # returns problems, never raises
            conn.rollback()
        for problem in problems.items:
            assert problem.file in _names(files) and problem.expected


@HEAVY
@given(files=mutated_package())
def test_import(engine, files):
    """The whole import: done, or refused with InputError (nothing half-written, nothing else raised)."""
    with tempfile.TemporaryDirectory() as folder:
        package = _copy(folder, files)
        reads_cleanly(lambda: import_package(engine, package), *_names(files))


@FUZZ
@given(raw=CELL)
def test_cell_readers(raw):
    """Every column reader returns its value or raises CellError, whatever the cell holds."""
    readers = [spec.read_text, spec.read_id, spec.read_date, spec.read_event_date, spec.read_year, spec.read_state,
               spec.read_fips, spec.one_of(("honors", "limited", "declines"))]
    for read in readers:
        try:
            value = read(raw)
        except spec.CellError as exc:
            assert str(exc)
            continue
        if read in (spec.read_date, spec.read_event_date):
            assert spec.date(1900, 1, 1) <= value <= spec.date(2100, 12, 31)
