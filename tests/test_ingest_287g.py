"""Reading ICE's 287(g) participating-agencies list: both layouts, their quirks, precise errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from detainers.errors import InputError
from detainers.ingest import agreements_287g as g
from detainers.ingest.base import IngestOptions

DATA = Path(__file__).parent / "data"
LISTS = DATA / "287g"
AS_OF = IngestOptions(as_of=datetime(2025, 8, 1))
KEYS = {"list_date", "state", "agency", "agency_key", "agency_type", "county", "county_fips", "model",
        "signed_on", "moa", "source_row"}


def entries(name: str, folder: Path = LISTS, options: IngestOptions = AS_OF) -> list[dict]:
    return g.read(folder / name, options).extra["roster_entries"]


def by_agency(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["agency"], r["model"]): r for r in rows}


def test_module_declares_where_its_data_comes_from():
    assert g.KIND == "287g-roster"
    assert g.TITLE and "ice.gov" in g.WHERE_FROM


def test_2021_layout_sample():
    extract = g.read(DATA / "287g-participating-2021-layout.xlsx", AS_OF)
    rows = extract.extra["roster_entries"]
    assert extract.kind == "287g-roster" and extract.records == 5 and extract.sheet == "287(g) Agreements"
    assert extract.extra["list"] == [{"list_date": date(2025, 8, 1)}]
    assert all(set(r) == KEYS for r in rows)
    etowah = rows[0]
    assert etowah == {
        "list_date": date(2025, 8, 1), "state": "AL", "agency": "Etowah County Sheriff's Office",
        "agency_key": "AL:etowah county sheriff", "agency_type": None, "county": "Etowah County",
        "county_fips": "01055", "model": "jem", "signed_on": date(2020, 5, 17),
        "moa": "https://example.org/moa.pdf", "source_row": 2,
    }
    assert [(r["state"], r["model"]) for r in rows] == [("AL", "jem"), ("FL", "wso"), ("FL", "tfm"), ("NC", "jem"),
                                                        ("NC", "wso")]
    assert not extract.quality


def test_2025_layout_sample_strips_padding_and_reads_new_columns():
    extract = g.read(DATA / "287g-participating-2025-layout.xlsx", AS_OF)
    rows = by_agency(extract.extra["roster_entries"])
    assert extract.records == 9
    bay_wso = rows[("Bay County Sheriff's Office", "wso")]
    assert bay_wso["agency_type"] == "County" and bay_wso["county"] == "Bay County"
    assert bay_wso["county_fips"] == "12005"
    assert bay_wso["signed_on"] == date(2025, 7, 3)
    assert bay_wso["moa"] == "link pending"
    assert rows[("Etowah County Sheriff's Office", "jem")]["moa"] == "link"
    doc = rows[("Arkansas Department of Corrections", "wso")]
    assert (doc["agency_type"], doc["county"], doc["county_fips"]) == ("State", "Pulaski County", "05119")
    marietta = rows[("Marietta Police Department", "tfm")]
    assert (marietta["agency_type"], marietta["county_fips"], marietta["agency_key"]) == (
        "Municipality", "13067", "GA:marietta police")
    assert "Columns not kept: ADDENDUM." in extract.notes


def test_same_agency_gets_the_same_key_in_both_layouts():
    old = {(r["agency_key"], r["model"]) for r in entries("287g-participating-2021-layout.xlsx", DATA)}
    new = {(r["agency_key"], r["model"]) for r in entries("287g-participating-2025-layout.xlsx", DATA)}
    assert old <= new


def test_list_date_is_required():
    with pytest.raises(InputError, match="--as-of is required: the date of this list"):
        g.read(DATA / "287g-participating-2021-layout.xlsx", IngestOptions())


def test_header_below_title_rows_footer_duplicates_and_signed_formats():
    extract = g.read(LISTS / "nasty-2021-layout.xlsx", IngestOptions(as_of=datetime(2021, 1, 15)))
    rows = by_agency(extract.extra["roster_entries"])
    assert extract.records == 8  # agency rows, one of them a repeat; title, blank and footer rows are not records
    assert len(rows) == 7
    assert extract.quality["row: same agency and model listed twice (kept the first)"] == 1
    assert any("Row 6 repeats row 5" in n for n in extract.notes)
    assert any("Row 15 skipped" in n for n in extract.notes)
    gaston = rows[("Gaston County Sheriff's Office", "jem")]
    assert gaston["signed_on"] == date(2020, 6, 18) and gaston["source_row"] == 5
    lubbock = rows[("Lubbock County SO", "wso")]
    assert lubbock["signed_on"] == date(2020, 3, 10)  # an Excel serial number
    assert lubbock["agency_key"] == "TX:lubbock county sheriff"
    assert (lubbock["county"], lubbock["county_fips"]) == ("Lubbock County", "48303")
    assert rows[("Jacksonville Sheriff's Office", "jem")]["signed_on"] == date(2020, 5, 17)
    assert rows[("Jacksonville Sheriff's Office", "jem")]["county"] is None
    cobb = rows[("Office of the Sheriff, Cobb County", "tfm")]
    assert (cobb["county"], cobb["county_fips"], cobb["signed_on"], cobb["moa"]) == ("Cobb County", "13067", None, None)
    assert cobb["agency_key"] == "GA:cobb county sheriff"
    assert rows[("St. Louis County Police Department", "wso")]["county_fips"] == "29189"
    assert rows[("Lafourche Parish Sheriff's Office", "jem")]["county_fips"] == "22057"
    assert rows[("Oklahoma Department of Corrections", "wso")]["signed_on"] is None
    assert extract.quality["SIGNED: not a date"] == 1
    assert extract.quality["COUNTY: none stated"] == 2


def test_county_typos_stay_unplaced_and_are_listed():
    extract = g.read(LISTS / "nasty-2025-layout.xlsx", AS_OF)
    rows = by_agency(extract.extra["roster_entries"])
    pulaski = rows[("Pulaski County Sheriff's Office", "jem")]
    assert (pulaski["county"], pulaski["county_fips"]) == ("Pulaksi County", None)
    etowah = rows[("Etowah County Sheriff's Office", "wso")]
    assert (etowah["county"], etowah["county_fips"]) == ("Etowah Couny", None)
    assert rows[("Harris County Sheriff's Office", "jem")]["county_fips"] == "48201"
    assert rows[("Georgia Department of Public Safety", "tfm")]["county"] is None
    assert extract.quality["COUNTY: cannot be placed"] == 2
    listed = next(n for n in extract.notes if n.startswith("County not found"))
    assert "Pulaski County Sheriff's Office (AR, county 'Pulaksi County', row 2)" in listed
    assert "Etowah County Sheriff's Office (AL, county 'Etowah Couny', row 3)" in listed
    assert extract.records == 4  # the blank row is not a record


def test_unknown_state_names_row_column_and_value():
    with pytest.raises(InputError) as err:
        g.read(LISTS / "bad-state.xlsx", AS_OF)
    message = str(err.value)
    assert "bad-state.xlsx [sheet 287(g) Agreements], row 3, column STATE (A): 'NORTH CAROLNA'" in message
    assert "expected a state name" in message


def test_unknown_support_type_names_row_column_and_value():
    with pytest.raises(InputError) as err:
        g.read(LISTS / "bad-model.xlsx", AS_OF)
    assert "row 2, column SUPPORT TYPE (C): 'Detention Model' is not a 287(g) model" in str(err.value)


def test_unreadable_workbook_is_an_input_error():
    with pytest.raises(InputError, match="corrupt.xlsx: cannot be read as a spreadsheet"):
        g.read(LISTS / "corrupt.xlsx", AS_OF)
    with pytest.raises(InputError, match="does not exist"):
        g.read(LISTS / "no-such-list.xlsx", AS_OF)


def test_a_different_spreadsheet_is_refused_by_its_header():
    with pytest.raises(InputError, match="has no header row with STATE, LAW ENFORCEMENT AGENCY and SUPPORT TYPE"):
        g.read(DATA / "ice-lesa-detainers-sample.xlsx", AS_OF)


def test_progress_is_reported():
    calls = []
    g.read(DATA / "287g-participating-2021-layout.xlsx", AS_OF, progress=calls.append)
    assert calls and calls[-1] == 5


@pytest.mark.parametrize("text, code", [
    ("Jail Enforcement Model ", "jem"), ("JAIL ENFORCEMENT", "jem"), ("JEM", "jem"),
    ("Warrant Service Officer", "wso"), ("warrant service officer program", "wso"), ("WSO", "wso"),
    ("Task Force Model", "tfm"), ("TFM", "tfm"), ("Detention Model", None), (None, None),
])
def test_model_code(text, code):
    assert g.model_code(text) == code


@pytest.mark.parametrize("a, b", [
    ("Bay County Sheriff's Office", "BAY COUNTY SHERIFFS OFFICE"),
    ("Bay County Sheriff's Office", "Bay County SO"),
    ("Bay County Sheriff's Office", "Bay Co. S.O."),
    ("Bay County Sheriff's Office", "Bay County Sheriff’s Department"),
    ("Bay County Sheriff's Office", "Office of the Sheriff, Bay County"),
    ("St. Lucie County Sheriff's Office", "Saint Lucie County Sheriff's Office"),
    ("Marietta Police Department", "Marietta PD"),
])
def test_agency_key_unifies_spellings(a, b):
    assert g.agency_key("FL", a) == g.agency_key("FL", b)


def test_agency_key_keeps_states_and_agencies_apart():
    franklin = "Franklin County Sheriff's Office"
    assert g.agency_key("OH", franklin) != g.agency_key("PA", franklin)
    assert g.agency_key("FL", "Bay County Sheriff's Office") != g.agency_key("FL", "Bay County Police Department")


@pytest.mark.parametrize("agency, county", [
    ("Etowah County Sheriff's Office", "Etowah County"),
    ("Miami-Dade County Corrections", "Miami-Dade County"),
    ("Office of the Sheriff, Nassau County", "Nassau County"),
    ("Lafourche Parish Sheriff's Office", "Lafourche Parish"),
    ("Jacksonville Sheriff's Office", None),
    ("Florida Department of Law Enforcement", None),
])
def test_county_from_agency(agency, county):
    assert g.county_from_agency(agency) == county


def test_county_fips_does_not_guess():
    assert g.county_fips("Pulaski County", "AR") == "05119"
    assert g.county_fips("Pulaksi County", "AR") is None
    assert g.county_fips("Franklin County", "OH") == "39049"
    assert g.county_fips("Franklin County", "PA") == "42055"


def test_errors_point_at_the_cell_excel_shows_when_the_table_does_not_start_at_a1(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([])
    sheet.append([None, None, "STATE", "LAW ENFORCEMENT AGENCY", "SUPPORT TYPE"])
    sheet.append([None, None, "OHIO", "Butler County Sheriff's Office", "Detention Model"])
    workbook.save(tmp_path / "offset.xlsx")
    with pytest.raises(InputError, match=r"row 3, column SUPPORT TYPE \(E\): 'Detention Model'"):
        g.read(tmp_path / "offset.xlsx", AS_OF)
