"""The ICE ERO-LESA reader against the shared sample and against nastier files built here."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from detainers.errors import InputError
from detainers.ingest import ice_lesa
from detainers.ingest.base import IngestOptions, parse_datetime

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "ice-lesa-detainers-sample.xlsx"
OWN = DATA / "ice-lesa"
OPTS = IngestOptions()
MARK = "(b)(6), (b)(7)(c)"

HEADER = ["Detainer Prepare Date", "Facility State", "Facility AOR", "Detention Facility",
          "Detention Facility Code", "Facility City", "Detainer Prepared Criminality",
          "Detainer Prep Threat Level", "Gender", "Citizenship Country", "Birth Date", "Birth Year",
          "Most Serious Conviction (MSC) Charge", "MSC Charge Code", "Detainer Lift Reason",
          "Detainer Type", "Alien File Number", "Unique Identifier"]


def record(**values) -> dict:
    """One detainer row of a made-up release (header names as in HEADER)."""
    row = {
        "Detainer Prepare Date": datetime(2019, 1, 14, 18, 37), "Facility State": "NORTH CAROLINA",
        "Facility AOR": "Atlanta Area of Responsibility", "Detention Facility": "WAKE COUNTY JAIL",
        "Detention Facility Code": "WAKECNC", "Facility City": "RALEIGH",
        "Detainer Prepared Criminality": "1 Convicted Criminal", "Detainer Prep Threat Level": "1",
        "Gender": "Male", "Citizenship Country": "HONDURAS", "Birth Date": MARK, "Birth Year": 1981,
        "Most Serious Conviction (MSC) Charge": "Assault", "MSC Charge Code": "1399",
        "Detainer Lift Reason": "Booked into Detention",
        "Detainer Type": "I-247A - Immigration Detainer - Notice of Action", "Alien File Number": MARK,
        "Unique Identifier": "a000000001",
    }
    row.update(values)
    return row


def write_xlsx(path: Path, records: list[dict | None], header=HEADER, titles=(), rename=None,
               footer=(), sheet="Detainers") -> Path:
    """A workbook with title rows, a header row and records (None = a blank row)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for title in titles:
        ws.append([title])
    names = [(rename or {}).get(h, h) for h in header]
    ws.append(names)
    for rec in records:
        ws.append([] if rec is None else [rec.get(h, "") for h in header])
    for line in footer:
        ws.append(list(line) if isinstance(line, tuple) else [line])
    book.save(path)
    return path


def write_csv(path: Path, records: list[dict | None], header=HEADER, encoding="utf-8-sig",
              fmt=lambda v: v) -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for rec in records:
            out.writerow([] if rec is None else ["" if rec.get(h) is None else fmt(rec.get(h)) for h in header])
    return path


def read(path: Path, **kw):
    return ice_lesa.read(path, OPTS, **kw)


def by_row(extract, file: str) -> dict[int, dict]:
    return {r["source_row"]: r for r in extract.rows.get(file, [])}


# ---- the shared sample ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return read(SAMPLE)


def test_module_declares_itself():
    assert ice_lesa.KIND == "ice-lesa"
    assert ice_lesa.TITLE == "ICE ERO-LESA detainer release"
    assert "Law Enforcement Systems and Analysis" in ice_lesa.WHERE_FROM


def test_sample_counts(sample):
    assert sample.kind == "ice-lesa"
    assert sample.sheet == "Detainers"
    assert sample.records == 400
    assert {f: len(rows) for f, rows in sample.rows.items()} == {
        "facilities.csv": 6, "people.csv": 400, "detainers.csv": 400, "charges.csv": 366}
    assert sample.quality == Counter({"Birth Date: redacted": 400})
    assert {r["redacted"] for r in sample.rows["detainers.csv"]} == {"Birth Date"}
    assert len({r["detainer_id"] for r in sample.rows["detainers.csv"]}) == 400
    assert all(r["duplicate_of"] is None for r in sample.rows["detainers.csv"])


def test_sample_rows_keep_their_place(sample):
    rows = [r["source_row"] for r in sample.rows["detainers.csv"]]
    assert rows[0] == 8 and rows[-1] == 407 and rows == list(range(8, 408))
    assert {r["sheet"] for f in sample.rows.values() for r in f} == {"Detainers"}
    assert "Header found on row 7 of sheet 'Detainers'; 6 title rows above it skipped." in sample.notes
    assert "1 blank row skipped." in sample.notes
    assert any(n.startswith("1 note rows (footers) skipped: row 409: 'Source: synthetic sample") for n in sample.notes)
    assert any("Detainer Lift Date" in n for n in sample.notes)


def test_sample_first_row(sample):
    det = by_row(sample, "detainers.csv")[8]
    assert det == {
        "detainer_id": det["detainer_id"], "person_id": "lesa:7c61e78f20", "facility_id": "ice-fac:FRNKLPA",
        "lodged_on": date(2018, 12, 29), "booking_id": None, "form": None, "lifted_on": None,
        "lift_reason": "Transferred", "outcome_claimed": None, "criminality": "2 Pending Criminal Charges",
        "threat_level": "2", "redacted": "Birth Date", "duplicate_of": None, "source_row": 8,
        "sheet": "Detainers"}
    assert det["detainer_id"] == "lesa:" + ice_lesa.stable_hash("lesa:7c61e78f20", "2018-12-29T12:24:00",
                                                                "ice-fac:FRNKLPA")
    assert by_row(sample, "people.csv")[8] == {
        "person_id": "lesa:7c61e78f20", "birth_year": 1958, "sex": "M", "citizenship": "El Salvador",
        "name": None, "date_of_birth": None, "source_row": 8, "sheet": "Detainers"}
    assert by_row(sample, "charges.csv")[8] == {
        "charge_id": det["detainer_id"] + ":msc", "booking_id": None, "detainer_id": det["detainer_id"],
        "description": "Illegal Entry (inadmissible)", "code": "0305", "level": None, "stage": "convicted",
        "category": None, "source_row": 8, "sheet": "Detainers"}


def test_sample_other_rows(sample):
    dets, people = by_row(sample, "detainers.csv"), by_row(sample, "people.csv")
    assert dets[9]["form"] == "I-247A" and dets[9]["lift_reason"] is None
    assert people[10]["citizenship"] == "China, Peoples Republic of" and people[10]["sex"] == "F"
    assert dets[11]["form"] == "I-247D" and dets[11]["lift_reason"] == "United States Citizen Interviewed"
    assert dets[407]["facility_id"] == "ice-fac:DURHMNC" and dets[407]["threat_level"] == "3"
    assert by_row(sample, "charges.csv")[407]["description"] == "Homicide-willful Kill-nonfamily-gun"
    assert by_row(sample, "charges.csv")[407]["code"] == "0912"


def test_sample_facilities_same_name_different_state(sample):
    facs = {f["facility_id"]: (f["name"], f["city"], f["state"], f["code"]) for f in sample.rows["facilities.csv"]}
    assert facs == {
        "ice-fac:FRNKLPA": ("FRANKLIN COUNTY JAIL", "CHAMBERSBURG", "PA", "FRNKLPA"),
        "ice-fac:FRNKLNY": ("FRANKLIN COUNTY JAIL", "MALONE", "NY", "FRNKLNY"),
        "ice-fac:MECKLNC": ("MECKLENBURG COUNTY JAIL", "CHARLOTTE", "NC", "MECKLNC"),
        "ice-fac:WAKECNC": ("WAKE COUNTY JAIL", "RALEIGH", "NC", "WAKECNC"),
        "ice-fac:DURHMNC": ("DURHAM COUNTY JAIL", "DURHAM", "NC", "DURHMNC"),
        "ice-fac:TRAVITX": ("TRAVIS COUNTY JAIL", "DEL VALLE", "TX", "TRAVITX"),
    }
    assert all(f["jurisdiction_id"] is None and f["kind"] is None for f in sample.rows["facilities.csv"])


def test_sample_lift_reasons_and_forms_pass_through(sample):
    dets = sample.rows["detainers.csv"]
    assert Counter(d["lift_reason"] for d in dets) == Counter({
        "Booked into Detention": 156, None: 36, "Early Release": 32, "United States Citizen Interviewed": 29,
        "Detainer Declined by LEA": 28, "Lifted": 28, "Case Closed": 27, "Transferred": 23, "Died": 22,
        "Prosecutorial Discretion": 19})
    assert Counter(d["form"] for d in dets) == Counter({"I-247A": 164, None: 85, "I-247N": 77, "I-247D": 74})
    assert Counter(d["threat_level"] for d in dets) == Counter({"2": 113, "3": 96, None: 96, "1": 95})
    assert all(d["outcome_claimed"] is None and d["lifted_on"] is None for d in dets)
    assert {c["stage"] for c in sample.rows["charges.csv"]} == {"convicted"}


def test_progress_is_reported_every_10000(tmp_path):
    path = write_csv(tmp_path / "big.csv", [
        record(**{"Unique Identifier": f"p{i}", "Detainer Prepare Date": f"2019-01-01 {i // 3600 % 24:02d}:"
                  f"{i // 60 % 60:02d}:{i % 60:02d}"}) for i in range(20_500)])
    seen = []
    extract = read(path, progress=seen.append)
    assert extract.records == 20_500 and seen == [10_000, 20_000]


# ---- header drift and missing columns ------------------------------------------------------------


def test_header_drift_on_row_one_without_birth_columns(tmp_path):
    header = [h for h in HEADER if h not in ("Birth Date", "Birth Year")]
    rename = {"Detention Facility Code": "Detainer Facility Code", "Detention Facility": "Detainer Facility",
              "Unique Identifier": "Anonymized Identifier",
              "Detainer Prepared Criminality": "Detainer Criminality",
              "Detainer Prep Threat Level": "Detainer Threat Level"}
    path = write_xlsx(tmp_path / "drift.xlsx", [record(), record(**{"Unique Identifier": "b2"})],
                      header=header, rename=rename)
    ex = read(path)
    assert ex.records == 2
    det = by_row(ex, "detainers.csv")[2]
    assert (det["person_id"], det["facility_id"], det["criminality"], det["threat_level"]) == (
        "lesa:a000000001", "ice-fac:WAKECNC", "1 Convicted Criminal", "1")
    assert det["redacted"] is None
    assert by_row(ex, "people.csv")[2]["birth_year"] is None
    assert by_row(ex, "facilities.csv")[2]["name"] == "WAKE COUNTY JAIL"
    for text in ("Detainer Facility Code read as the facility code",
                 "Detainer Facility read as the facility name",
                 "Anonymized Identifier read as the person identifier",
                 "Detainer Criminality read as the criminality",
                 "Detainer Threat Level read as the threat level"):
        assert any(n.startswith(text) for n in ex.notes), text
    assert "Columns this release does not have: Birth Date, Birth Year, Detainer Lift Date." in ex.notes
    assert "Header found on row 1 of sheet 'Detainers'." in ex.notes
    assert ex.quality == Counter()


def test_birth_date_given_fills_birth_year(tmp_path):
    header = [h for h in HEADER if h != "Birth Year"] + ["Detainer Lift Date"]
    path = write_xlsx(tmp_path / "dob.xlsx", [record(**{
        "Birth Date": datetime(1981, 5, 2), "Detainer Lift Date": "2019-02-01"})], header=header)
    ex = read(path)
    person = ex.rows["people.csv"][0]
    assert (person["birth_year"], person["date_of_birth"]) == (1981, date(1981, 5, 2))
    assert ex.rows["detainers.csv"][0]["lifted_on"] == date(2019, 2, 1)


def test_facility_by_name_city_and_state_when_there_is_no_code(tmp_path):
    header = [h for h in HEADER if h != "Detention Facility Code"]
    path = write_xlsx(tmp_path / "nocode.xlsx", [record(), record(**{"Unique Identifier": "x2"})], header=header)
    ex = read(path)
    assert [f["facility_id"] for f in ex.rows["facilities.csv"]] == ["ice-fac:wake-county-jail-raleigh-NC"]
    assert ex.rows["facilities.csv"][0]["code"] is None


def test_no_facility_column_is_an_error(tmp_path):
    header = [h for h in HEADER if h not in ("Detention Facility Code", "Detention Facility")]
    path = write_xlsx(tmp_path / "nofac.xlsx", [record()], header=header)
    with pytest.raises(InputError, match="no facility column"):
        read(path)


def test_no_code_and_no_state_is_an_error(tmp_path):
    header = [h for h in HEADER if h not in ("Detention Facility Code", "Facility State")]
    path = write_xlsx(tmp_path / "nostate.xlsx", [record()], header=header)
    with pytest.raises(InputError, match="Facility State"):
        read(path)


def test_blank_facility_cell_is_an_error(tmp_path):
    path = write_xlsx(tmp_path / "blankfac.xlsx", [record(), record(**{
        "Detention Facility Code": "", "Detention Facility": "", "Unique Identifier": "z"})], titles=["T"])
    with pytest.raises(InputError) as err:
        read(path)
    assert "row 4, column Detention Facility Code: is empty (expected a facility code" in str(err.value)


# ---- csv: encodings, US dates, same detainer across releases -------------------------------------


def test_csv_with_bom_and_us_dates_gives_the_sample_ids(sample):
    ex = read(OWN / "us-dates-bom.csv")
    assert ex.records == 3 and ex.sheet is None
    dets = by_row(ex, "detainers.csv")
    assert set(dets) == {4, 5, 6} and {d["sheet"] for d in dets.values()} == {None}
    original = by_row(sample, "detainers.csv")
    # the same detainers as sample rows 8 and 9, re-exported with US dates and fewer title rows
    assert dets[4]["detainer_id"] == original[8]["detainer_id"]
    assert dets[5]["detainer_id"] == original[9]["detainer_id"]
    assert dets[6]["lodged_on"] == date(2019, 3, 2) and dets[6]["form"] == "I-247N"
    assert ex.rows["people.csv"][0]["birth_year"] == 1958
    assert [c["code"] for c in ex.rows["charges.csv"]] == ["0305", "1190"]
    assert not any("Windows-1252" in n for n in ex.notes)


def test_cp1252_csv_is_read_with_a_note():
    ex = read(OWN / "cp1252.csv")
    assert "The CSV is not UTF-8; it was read as Windows-1252 (cp1252)." in ex.notes
    assert ex.rows["facilities.csv"] == [{
        "facility_id": "ice-fac:dona-ana-county-detention-center-las-cruces-NM",
        "name": "DOÑA ANA COUNTY DETENTION CENTER", "jurisdiction_id": None, "kind": None,
        "city": "LAS CRUCES", "state": "NM", "code": None, "source_row": 2, "sheet": None}]
    assert [p["citizenship"] for p in ex.rows["people.csv"]] == ["Côte D'Ivoire", "México"]
    assert by_row(ex, "detainers.csv")[3]["lodged_on"] == date(2019, 1, 15)


def test_same_detainer_same_id_across_releases_with_different_title_rows(tmp_path):
    recs = [record(), record(**{"Unique Identifier": "b2", "Detainer Prepare Date": datetime(2019, 3, 1, 9, 0)})]
    old = read(write_xlsx(tmp_path / "fy2019.xlsx", recs, titles=["ICE", "ERO-LESA", "FY2019", "", "", "Note"]))
    new = read(write_xlsx(tmp_path / "fy2019-2020.xlsx", recs[::-1] + [record(**{"Unique Identifier": "c3"})],
                          titles=["ICE", "Data as of 2020"]))
    csv_release = read(write_csv(tmp_path / "export.csv", recs,
                                 fmt=lambda v: v.strftime("%m/%d/%Y %H:%M") if isinstance(v, datetime) else v))
    ids = lambda ex: {d["person_id"]: d["detainer_id"] for d in ex.rows["detainers.csv"]}  # noqa: E731
    assert ids(old) == {k: v for k, v in ids(new).items() if k != "lesa:c3"} == ids(csv_release)
    assert by_row(old, "detainers.csv")[8]["person_id"] == "lesa:a000000001"
    assert by_row(new, "detainers.csv")[5]["person_id"] == "lesa:a000000001"


# ---- layout quirks -------------------------------------------------------------------------------


def test_blank_rows_in_the_middle_and_footers(tmp_path):
    recs = [record(), None, None, record(**{"Unique Identifier": "b"}), None, record(**{"Unique Identifier": "c"})]
    path = write_xlsx(tmp_path / "gaps.xlsx", recs, titles=["Title"],
                      footer=["", "Notes: totals below", ("Total detainers", "", "", 3), "(b)(6) explained"])
    ex = read(path)
    assert ex.records == 3
    assert [d["source_row"] for d in ex.rows["detainers.csv"]] == [3, 6, 8]
    assert "4 blank rows skipped." in ex.notes
    assert any(n.startswith("3 note rows (footers) skipped: row 10: 'Notes: totals below'; row 11:")
               for n in ex.notes)


def test_a_note_row_between_data_rows_does_not_end_the_data(tmp_path):
    recs = [record(), None]
    book_path = write_xlsx(tmp_path / "midnote.xlsx", recs,
                           footer=["Records below were added on 2019-10-07",
                                   tuple(record(**{"Unique Identifier": "late"}).get(h) for h in HEADER)])
    ex = read(book_path)
    assert ex.records == 2
    assert by_row(ex, "detainers.csv")[5]["person_id"] == "lesa:late"


def test_rows_are_numbered_as_the_spreadsheet_shows_them_when_the_top_rows_are_empty(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    for col, name in enumerate(HEADER, start=2):  # header in row 4, starting at column B
        ws.cell(row=4, column=col, value=name)
        ws.cell(row=5, column=col, value=record()[name])
    book.save(tmp_path / "offset.xlsx")
    ex = read(tmp_path / "offset.xlsx")
    assert ex.rows["detainers.csv"][0]["source_row"] == 5
    assert "Header found on row 4 of sheet 'Sheet'; 3 title rows above it skipped." in ex.notes


def test_a_notes_sheet_before_the_data_is_skipped(tmp_path):
    path = write_xlsx(tmp_path / "sheets.xlsx", [record()], sheet="Data")
    book = openpyxl.load_workbook(path)
    notes = book.create_sheet("Read me", 0)
    notes.append(["This workbook lists detainers."])
    book.save(path)
    ex = read(path)
    assert ex.sheet == "Data" and ex.records == 1
    assert "Sheet 'Read me' has no header row with 'Detainer Prepare Date'; not read." in ex.notes


def test_data_split_over_two_sheets_is_read_whole(tmp_path):
    path = write_xlsx(tmp_path / "split.xlsx", [record()], sheet="FY2019 part 1")
    book = openpyxl.load_workbook(path)
    more = book.create_sheet("FY2019 part 2")
    more.append(HEADER)
    more.append([record(**{"Unique Identifier": "second"}).get(h) for h in HEADER])
    book.save(path)
    ex = read(path)
    assert ex.records == 2 and ex.sheet == "FY2019 part 1, FY2019 part 2"
    assert [(d["sheet"], d["source_row"]) for d in ex.rows["detainers.csv"]] == [
        ("FY2019 part 1", 2), ("FY2019 part 2", 2)]


def test_a_csv_that_is_really_a_workbook_is_read_as_one(tmp_path):
    path = write_xlsx(tmp_path / "misnamed.csv", [record()])
    assert read(path).records == 1


# ---- redactions and bad optional cells -----------------------------------------------------------


def test_redaction_variants(tmp_path):
    recs = [
        record(**{"Unique Identifier": "(b)(7)(c)", "Birth Year": "(b)(6)"}),
        record(**{"Unique Identifier": "(B)(6), (B)(7)(C)", "Gender": "Female"}),
        record(**{"Unique Identifier": "(b)(7)(c), (b)(6)", "Citizenship Country": " (b)(6); (b)(7)(c) "}),
        record(**{"Unique Identifier": "ok1", "Detention Facility Code": MARK}),
    ]
    ex = read(write_xlsx(tmp_path / "redacted.xlsx", recs))
    dets = by_row(ex, "detainers.csv")
    assert dets[2]["redacted"] == "Birth Date,Birth Year,Unique Identifier"
    assert dets[4]["redacted"] == "Birth Date,Citizenship Country,Unique Identifier"
    assert dets[5]["redacted"] == "Birth Date,Detention Facility Code"
    assert dets[5]["facility_id"] == "ice-fac:wake-county-jail-raleigh-NC"
    assert all(dets[r]["person_id"].startswith("lesa-row:") and len(dets[r]["person_id"]) == 25 for r in (2, 3, 4))
    assert len({dets[r]["person_id"] for r in (2, 3, 4)}) == 3
    people = by_row(ex, "people.csv")
    assert people[2]["birth_year"] is None and people[4]["citizenship"] is None
    assert ex.quality == Counter({"Birth Date: redacted": 4, "Unique Identifier: redacted": 3,
                                  "Birth Year: redacted": 1, "Citizenship Country: redacted": 1,
                                  "Detention Facility Code: redacted": 1})
    assert any(n.startswith("3 detainers have no identifier (blank or withheld)") for n in ex.notes)


def test_row_people_are_stable(tmp_path):
    recs = [record(**{"Unique Identifier": MARK})]
    first = read(write_xlsx(tmp_path / "a.xlsx", recs, titles=["A"]))
    second = read(write_csv(tmp_path / "b.csv", recs, fmt=lambda v: v.isoformat(" ") if isinstance(v, datetime) else v))
    assert first.rows["detainers.csv"][0]["person_id"] == second.rows["detainers.csv"][0]["person_id"]
    assert first.rows["detainers.csv"][0]["detainer_id"] == second.rows["detainers.csv"][0]["detainer_id"]


def test_bad_optional_cells_are_nulled_and_counted(tmp_path):
    recs = [record(**{"Birth Year": "19x1", "Facility State": "NOWHERE", "Gender": "X",
                      "Detainer Prep Threat Level": "High", "MSC Charge Code": 305,
                      "Citizenship Country": "BOSNIA AND HERZEGOVINA"}),
            record(**{"Unique Identifier": "n2", "Most Serious Conviction (MSC) Charge": "", "Gender": "Unknown"})]
    ex = read(write_xlsx(tmp_path / "bad.xlsx", recs))
    assert by_row(ex, "people.csv")[2] == {
        "person_id": "lesa:a000000001", "birth_year": None, "sex": None, "citizenship": "Bosnia and Herzegovina",
        "name": None, "date_of_birth": None, "source_row": 2, "sheet": "Detainers"}
    assert by_row(ex, "facilities.csv")[2]["state"] is None
    assert by_row(ex, "detainers.csv")[2]["threat_level"] is None
    assert [c["code"] for c in ex.rows["charges.csv"]] == ["0305"]
    assert ex.quality == Counter({
        "Birth Date: redacted": 2, "Birth Year: not a year": 1, "Facility State: not a U.S. state": 1,
        "Gender: not Male or Female": 1, "Detainer Prep Threat Level: not 1, 2 or 3": 1,
        "MSC Charge Code: stored as a number, zero-padded to 4 digits": 1,
        "MSC Charge Code: code without a conviction text (no charge made)": 1})


def test_same_identifier_with_other_demographics_keeps_the_first(tmp_path):
    recs = [record(), record(**{"Birth Year": 1982, "Detainer Prepare Date": datetime(2019, 5, 1)})]
    ex = read(write_xlsx(tmp_path / "people.xlsx", recs))
    assert len(ex.rows["people.csv"]) == 1 and ex.rows["people.csv"][0]["birth_year"] == 1981
    assert len(ex.rows["detainers.csv"]) == 2
    assert ex.quality["people: same identifier, different birth year"] == 1


# ---- likely duplicates ---------------------------------------------------------------------------


def test_likely_duplicates_are_kept_and_flagged(tmp_path):
    recs = [record(),
            record(**{"Detainer Prepare Date": datetime(2019, 1, 14, 19, 2)}),   # same person, day, facility
            record(),                                                            # the very same row again
            record(**{"Detainer Prepare Date": datetime(2019, 1, 15, 8, 0)})]    # next day: not a duplicate
    ex = read(write_xlsx(tmp_path / "dups.xlsx", recs))
    dets = by_row(ex, "detainers.csv")
    first = dets[2]["detainer_id"]
    assert dets[2]["duplicate_of"] is None
    assert dets[3]["duplicate_of"] == first and dets[3]["detainer_id"] != first
    assert dets[4]["detainer_id"] == first + "-2" and dets[4]["duplicate_of"] == first
    assert dets[5]["duplicate_of"] is None
    assert len({d["detainer_id"] for d in dets.values()}) == 4
    assert len({c["charge_id"] for c in ex.rows["charges.csv"]}) == 4
    assert ex.quality["detainers: likely duplicate"] == 2
    assert ex.quality["detainers: same person, facility and prepare time (id numbered)"] == 1


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["last Tuesday", 43479, "2019-02-30"])
def test_unreadable_prepare_date_names_row_and_column(tmp_path, value):
    path = write_xlsx(tmp_path / "baddate.xlsx", [record(), record(**{"Detainer Prepare Date": value})],
                      titles=["Title", ""])
    with pytest.raises(InputError) as err:
        read(path)
    message = str(err.value)
    assert "baddate.xlsx [sheet Detainers], row 5, column Detainer Prepare Date:" in message
    assert repr(value) in message and "expected a date" in message


def test_withheld_prepare_date_is_an_error(tmp_path):
    path = write_csv(tmp_path / "withheld.csv", [record(**{"Detainer Prepare Date": MARK})])
    with pytest.raises(InputError, match="row 2, column Detainer Prepare Date: is withheld"):
        read(path)


def test_text_renamed_xlsx_is_an_error():
    with pytest.raises(InputError, match="is not an Excel workbook .* rename it to .csv"):
        read(OWN / "text-named-xlsx.xlsx")


def test_zip_that_is_not_a_workbook_is_an_error():
    with pytest.raises(InputError, match="is not a readable Excel workbook"):
        read(OWN / "zip-not-workbook.xlsx")


def test_truncated_workbook_is_an_error(tmp_path):
    whole = SAMPLE.read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="cut.xlsx"):
        read(path)


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.csv"])
def test_empty_file_is_an_error(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(InputError, match="is empty"):
        read(tmp_path / name)


def test_no_header_in_the_first_50_rows_is_an_error(tmp_path):
    path = tmp_path / "late.csv"
    path.write_text("\n".join(["title"] * 50 + [",".join(HEADER)]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected a header row with 'Detainer Prepare Date'"):
        read(path)
    path = write_xlsx(tmp_path / "wrong.xlsx", [], header=["State", "Agency"])
    with pytest.raises(InputError, match=r"wrong.xlsx \[sheet Detainers\]: has no header row"):
        read(path)


# ---- the small cleaning functions ----------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("EL SALVADOR", "El Salvador"), ("CHINA, PEOPLES REPUBLIC OF", "China, Peoples Republic of"),
    ("GUINEA-BISSAU", "Guinea-Bissau"), ("  korea,   south ", "Korea, South"), ("", None), (None, None)])
def test_country_name(text, expected):
    assert ice_lesa.country_name(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("I-247A - Immigration Detainer - Notice of Action", "I-247A"),
    ("I-247 - Immigration Detainer - Notice of Action", "I-247"),
    ("I-247N - Request for Voluntary Notification of Release", "I-247N"),
    ("i-247x", "I-247X"), ("Other form", "Other form"), ("  ", None)])
def test_form_of(text, expected):
    assert ice_lesa.form_of(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("(b)(6), (b)(7)(c)", True), ("(b)(7)(c)", True), ("(b)(7)(C), (b)(6)", True), ("(b)(6);(b)(7)(c)", True),
    ("(b)(6) (b)(7)(c)", True), ("Assault (b)", False), ("b6", False), (None, False), (1958.0, False)])
def test_is_withheld(text, expected):
    assert ice_lesa.is_withheld(text) is expected


@pytest.mark.parametrize("value,expected", [
    ("2019-01-14", datetime(2019, 1, 14)), ("2019-01-14 18:37:00", datetime(2019, 1, 14, 18, 37)),
    ("01/14/2019 6:37 PM", datetime(2019, 1, 14, 18, 37)), ("1/14/2019 12:05 AM", datetime(2019, 1, 14, 0, 5)),
    (datetime(2019, 1, 14, 18, 36, 59, 999000), datetime(2019, 1, 14, 18, 37)),
    (date(2019, 1, 14), datetime(2019, 1, 14)), ("", None)])
def test_parse_datetime(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize("value", ["x", "43479", "2019-01-14 25:00", "1/14/2019 13:00 PM"])
def test_parse_datetime_rejects(value):
    with pytest.raises(ValueError):
        parse_datetime(value)
