"""ICE's 287(g) participating-agency lists: mutated typed rows (as calamine reads them) and mutated workbooks."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from detainers.ingest import agreements_287g as g
from detainers.ingest.base import IngestOptions
from tests.fuzz.support import (DATA, FUZZ, HEAVY, assert_dates_in_bounds, mutated_bytes, mutated_table, no_hang,
                                reads_cleanly, typed_cell)

LISTS = [DATA / "287g-participating-2021-layout.xlsx", DATA / "287g-participating-2025-layout.xlsx"]
SHEETS = [[list(r) for r in CalamineWorkbook.from_path(str(p)).get_sheet_by_index(0).to_python(skip_empty_area=False)]
          for p in LISTS]
OPTIONS = IngestOptions(as_of=datetime(2025, 8, 1))
CELL = st.one_of(typed_cell, st.sampled_from(["Jail Enforcement Model", "WSO", "tfm", "NORTH CAROLINA", "nc", "Guam",
                                              "Bay County Sheriff's Office", "Office of the Sheriff, Cobb County",
                                              "May 17, 2020", "17-May-20", "STATE", "SUPPORT TYPE", "COUNTY"]))


def _check(extract) -> None:
    if extract is not None:
        assert_dates_in_bounds(extract.extra["roster_entries"])


@FUZZ
@given(rows=st.sampled_from(SHEETS).flatmap(lambda rows: mutated_table(rows[:25], cell=CELL, header_rows=(0,),
                                                                        max_ops=8)))
def test_list_rows(rows):
    path = Path("/fuzz/participatingAgencies.xlsx")
    with mock.patch.object(g, "_read_sheet", return_value=("Sheet1", rows)):
        _check(reads_cleanly(lambda: g.read(path, OPTIONS), path))


@FUZZ
@given(value=CELL)
def test_cleaning_functions(value):
    """SIGNED is a date in 1900–2100 or ValueError; names, models and keys never fail."""
    with no_hang(2.0):
        try:
            signed = g.signed_date(value)
        except ValueError:
            signed = None
        assert signed is None or datetime(1900, 1, 1).date() <= signed <= datetime(2100, 12, 31).date(), signed
        g.model_code(value)
        name = g.agency_name(value)
        if name:
            g.agency_key("NC", name)
            county = g.county_from_agency(name)
            g.county_fips(county, "NC")


@HEAVY
@given(data=st.sampled_from(LISTS).map(Path.read_bytes).flatmap(mutated_bytes))
def test_workbook_bytes(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.xlsx"
        path.write_bytes(data)
        _check(reads_cleanly(lambda: g.read(path, OPTIONS), path))
