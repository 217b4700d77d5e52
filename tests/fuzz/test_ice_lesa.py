"""ICE ERO-LESA releases: the CSV reader on mutated files, the sheet reader on mutated typed rows,
and the workbook reader on mutated workbook bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from detainers.ingest import ice_lesa
from detainers.ingest.base import Extract, IngestOptions, is_redacted
from tests.fuzz.support import (DATA, FUZZ, HEAVY, assert_dates_in_bounds, encoded, mutated_bytes, mutated_table,
                                no_hang, reads_cleanly, read_rows, redaction_text, to_csv,
                                typed_cell)

CSV_ROWS = read_rows(DATA / "ice-lesa" / "us-dates-bom.csv")
WORKBOOK = DATA / "ice-lesa-detainers-sample.xlsx"
_all = list(CalamineWorkbook.from_path(str(WORKBOOK)).get_sheet_by_index(0).iter_rows())
# Title rows, the header (row 7), a dozen detainers and the notes below them.
SHEET_ROWS = _all[:19] + _all[-4:]
HEADER = SHEET_ROWS[6]
_READ = {h for names in ice_lesa.COLUMNS.values() for h in names}
HOT = tuple(i for i, h in enumerate(HEADER) if h in _READ)


def _check(extract: Extract | None) -> None:
    if extract is not None:
        assert_dates_in_bounds(extract.rows)
        for row in extract.rows.get("detainers.csv", []):
            assert row["detainer_id"].startswith("lesa:") and row["facility_id"]


@FUZZ
@given(table=mutated_table(CSV_ROWS, header_rows=(2,)), data=st.data(),
       name=st.sampled_from(["release.csv", "release.CSV", "release.txt", "release.xlsx"]))
def test_csv_release(table, data, name):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data.draw(encoded(to_csv(table))))
        _check(reads_cleanly(lambda: ice_lesa.read(path, IngestOptions()), path))


@FUZZ
@given(table=mutated_table(SHEET_ROWS, cell=typed_cell, header_rows=(6,), hot_columns=HOT),
       name=st.sampled_from([None, "Detainers", "Sheet 2", "\u202eevil"]))
def test_sheet_rows(table, name):
    """The sheet reader on rows as calamine hands them back (datetimes, floats, bools, times …)."""
    path = Path("/fuzz/release.xlsx")
    extract = Extract(ice_lesa.KIND, path)

    def read():
        reader = ice_lesa._Rows(path, extract, None)
        reader.sheet(name, iter(enumerate(table, start=1)), required=True)
        reader.finish()
        return extract

    _check(reads_cleanly(read, path))


@FUZZ
@given(value=typed_cell)
def test_cleaning_functions(value):
    """The small cell readers give a value within bounds, or raise what the reader catches (ValueError,
    TypeError, OverflowError) and nothing else."""
    allowed = {ice_lesa.birth_year: lambda y: y is None or (type(y) is int and 1900 <= y <= 2100),
               ice_lesa.threat_level: lambda t: t in (None, "1", "2", "3")}
    for function, within_bounds in allowed.items():
        try:
            read = function(value)
        except (ValueError, TypeError, OverflowError):
            continue
        assert within_bounds(read), (function.__name__, value, read)
    for function in (ice_lesa.country_name, ice_lesa.sex_code, ice_lesa.form_of, ice_lesa.charge_code,
                     ice_lesa.is_withheld, ice_lesa._is_date):
        try:
            hash(value)
        except TypeError:
            continue
        function(value)


@HEAVY
@given(data=mutated_bytes(WORKBOOK.read_bytes()))
def test_workbook_bytes(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "release.xlsx"
        path.write_bytes(data)
        _check(reads_cleanly(lambda: ice_lesa.read(path, IngestOptions()), path))


@FUZZ
@given(text=redaction_text())
def test_withheld_markers(text):
    """Long runs of exemption markers are recognised (or not) at once, never by backtracking for minutes."""
    with no_hang(2.0):
        ice_lesa.is_withheld(text)
        is_redacted(text)
