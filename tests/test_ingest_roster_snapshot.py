"""Reading one jail roster snapshot (csv or json) into people, bookings, charges and detainers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from detainers.errors import InputError
from detainers.ingest import roster_snapshot as r
from detainers.ingest.base import IngestOptions

ROSTER = Path(__file__).parent / "data" / "roster"
AS_OF = datetime(2024, 3, 5, 6, 0)
OPTIONS = IngestOptions(as_of=AS_OF, facility_id="example-jail", jurisdiction_id="tx-example", state="TX")


def read(name: str, options: IngestOptions = OPTIONS, folder: Path = ROSTER):
    return r.read(folder / name, options)


def column(extract, file: str, name: str) -> list:
    return [row[name] for row in extract.rows.get(file, [])]


def charges_of(extract, booking: str) -> list[str]:
    booking_id = f"roster:example-jail:{booking}"
    return [c["description"] for c in extract.rows["charges.csv"] if c["booking_id"] == booking_id]


def test_module_declares_where_its_data_comes_from():
    assert r.KIND == "roster-snapshot" and r.TITLE and "--as-of" in r.WHERE_FROM


def test_one_row_per_booking_with_semicolon_charges():
    extract = read("per-booking.csv")
    assert extract.kind == "roster-snapshot" and extract.records == 4
    assert extract.rows["facilities.csv"] == [{
        "facility_id": "example-jail", "name": "example-jail", "jurisdiction_id": "tx-example",
        "kind": "county_jail", "city": None, "state": "TX", "code": None, "source_row": None}]
    assert extract.rows["people.csv"][0] == {
        "person_id": "roster:tx-example:P1", "birth_year": None, "sex": None, "citizenship": None,
        "name": "DOE, JANE", "date_of_birth": None, "source_row": 3}
    assert extract.rows["bookings.csv"][0] == {
        "booking_id": "roster:example-jail:B100", "person_id": "roster:tx-example:P1",
        "facility_id": "example-jail", "booked_on": date(2024, 3, 1), "released_on": None,
        "release_reason": None, "source_row": 3}
    assert charges_of(extract, "B100") == ["THEFT OF PROPERTY >=$100<$750", "CRIMINAL TRESPASS"]
    assert extract.rows["charges.csv"][1] == {
        "charge_id": "roster:example-jail:B100:2", "booking_id": "roster:example-jail:B100",
        "description": "CRIMINAL TRESPASS", "code": None, "level": None, "stage": "pending", "detainer_id": None,
        "source_row": 3}
    assert charges_of(extract, "B103") == []
    assert column(extract, "people.csv", "name")[3] is None


def test_immigration_holds_become_detainers_lodged_on_the_snapshot_date():
    extract = read("per-booking.csv")
    assert column(extract, "detainers.csv", "detainer_id") == ["roster:example-jail:B100:hold",
                                                                "roster:example-jail:B102:hold"]
    first = extract.rows["detainers.csv"][0]
    assert first == {
        "detainer_id": "roster:example-jail:B100:hold", "person_id": "roster:tx-example:P1",
        "facility_id": "example-jail", "lodged_on": date(2024, 3, 5), "booking_id": "roster:example-jail:B100",
        "form": None, "lifted_on": None, "lift_reason": None, "outcome_claimed": None, "source_row": 3}
    assert r.LODGED_NOTE in extract.notes
    assert any("US MARSHAL (2)" in n for n in extract.notes)


def test_snapshot_lists_every_booking_present():
    extract = read("per-booking.csv")
    assert extract.extra["snapshot"] == [{
        "as_of": AS_OF, "facility_id": "example-jail",
        "booking_ids": [f"roster:example-jail:B10{n}" for n in range(4)]}]


def test_one_row_per_charge_is_merged_into_bookings():
    extract = read("per-charge.csv")
    assert extract.records == 7
    assert column(extract, "bookings.csv", "booking_id") == [
        "roster:example-jail:B200", "roster:example-jail:B201", "roster:example-jail:B202"]
    # B200 printed one charge twice (once per hold): kept once.
    assert charges_of(extract, "B200") == ["AGG ASSLT W/DEADLY WEAPON", "UNLAWFUL CARRYING WEAPON"]
    assert extract.quality["charges: same charge on two rows of one booking (kept once)"] == 1
    # A row without booking id, person and date continues the booking above.
    assert charges_of(extract, "B201") == ["PUBLIC INTOXICATION", "FAIL TO IDENTIFY"]
    assert [c["charge_id"] for c in extract.rows["charges.csv"] if c["booking_id"].endswith("B201")] == [
        "roster:example-jail:B201:1", "roster:example-jail:B201:2"]
    assert column(extract, "people.csv", "person_id") == [
        "roster:tx-example:S9", "roster:tx-example:S10", "roster:tx-example:S11"]
    holds = {d["booking_id"]: d["form"] for d in extract.rows["detainers.csv"]}
    assert holds == {"roster:example-jail:B200": "I-247A", "roster:example-jail:B202": None}
    # B202's detainer was entered as a charge line: it makes the detainer and stays for the classifier.
    assert "ICE DETAINER" in charges_of(extract, "B202")
    assert extract.quality["holds: immigration detainer found only as a charge line"] == 1


def test_json_list_of_objects():
    extract = read("roster.json")
    assert extract.records == 3
    assert extract.rows["bookings.csv"][0]["booking_id"] == "roster:example-jail:3001"
    assert extract.rows["bookings.csv"][0]["booked_on"] == date(2024, 3, 4)
    assert extract.rows["bookings.csv"][2]["booked_on"] == date(2024, 1, 20)
    assert column(extract, "people.csv", "person_id")[0] == "roster:tx-example:J-77"
    assert column(extract, "people.csv", "name") == ["GARCIA, ROSA", "BROWN, ALEX", None]
    assert charges_of(extract, "3001") == ["BURGLARY OF HABITATION", "EVADING ARREST DET W/VEH"]
    assert charges_of(extract, "3002") == []
    assert charges_of(extract, "3003") == ["THEFT", "THEFT"]  # two counts listed in one record stay two
    forms = {d["booking_id"]: d["form"] for d in extract.rows["detainers.csv"]}
    assert forms == {"roster:example-jail:3001": None, "roster:example-jail:3003": "I-247D"}


def test_missing_booking_date_is_an_error_naming_the_cell():
    """The column is named as the file's header has it ("Booked"), not as the reader calls it."""
    with pytest.raises(InputError) as err:
        read("missing-booking-date.csv")
    assert str(err.value) == (f"{ROSTER / 'missing-booking-date.csv'}, row 3, column Booked: "
                              "is empty (expected the booking date, e.g. 2024-03-05)")


def test_errors_in_json_name_the_key_as_the_file_has_it(tmp_path):
    (tmp_path / "roster.json").write_text('[{"bookingNo": "B1", "inmateId": "P1", "bookingDate": "2024-02-30"}]')
    with pytest.raises(InputError, match=r"row 1, column bookingDate: '2024-02-30' is not a date"):
        read("roster.json", folder=tmp_path)


def test_name_column_absent_is_fine():
    extract = read("no-name.csv")
    assert column(extract, "people.csv", "name") == [None, None]
    assert column(extract, "detainers.csv", "booking_id") == ["roster:example-jail:B401"]  # "I.C.E. HOLD"


def test_holds_that_are_not_immigration_make_no_detainer():
    extract = read("marshal-hold.csv")
    assert "detainers.csv" not in extract.rows
    assert r.LODGED_NOTE not in extract.notes
    assert any("US MARSHAL (1)" in n and "POLICE HOLD - JUSTICE COURT (1)" in n for n in extract.notes)


@pytest.mark.parametrize("missing, message", [
    ({"as_of": None}, "--as-of is required"),
    ({"facility_id": None}, "--facility is required"),
    ({"jurisdiction_id": None}, "--jurisdiction is required"),
])
def test_snapshot_date_facility_and_jurisdiction_are_required(missing, message):
    values = {"as_of": AS_OF, "facility_id": "example-jail", "jurisdiction_id": "tx-example", **missing}
    with pytest.raises(InputError, match=message):
        read("per-booking.csv", IngestOptions(**values))


def write(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_one_booking_with_two_people_is_an_error(tmp_path):
    folder = write(tmp_path, "booking_id,person_id,booking_date,charges\n"
                             "B1,P1,2024-03-01,THEFT\nB1,P2,2024-03-01,DWI\n")
    with pytest.raises(InputError, match=r"row 3, column person_id: 'P2' differs from row 2 for the same booking B1"):
        read("roster.csv", folder=folder)


def test_booking_after_the_snapshot_is_an_error(tmp_path):
    folder = write(tmp_path, "booking_id,person_id,booking_date\nB1,P1,2024-03-06\n")
    with pytest.raises(InputError, match=r"row 2, column booking_date: '2024-03-06' is after the snapshot date"):
        read("roster.csv", folder=folder)


def test_unreadable_booking_date(tmp_path):
    folder = write(tmp_path, "booking_id,person_id,booking_date\nB1,P1,13/45/2024\n")
    with pytest.raises(InputError, match=r"'13/45/2024' is not a date"):
        read("roster.csv", folder=folder)


def test_missing_required_column_lists_the_columns_found(tmp_path):
    folder = write(tmp_path, "booking_id,name,booking_date\nB1,X,2024-03-01\n")
    expected = r"has no column for person_id .*columns found: booking_id, name, booking_date"
    with pytest.raises(InputError, match=expected):
        read("roster.csv", folder=folder)


def test_bad_json_is_an_input_error(tmp_path):
    folder = write(tmp_path, '[{"booking_id": 1,', "roster.json")
    with pytest.raises(InputError, match="is not valid JSON"):
        read("roster.json", folder=folder)


def test_progress_is_reported_as_records_read():
    calls = []
    r.read(ROSTER / "per-charge.csv", OPTIONS, progress=calls.append)
    assert calls[-1] == 7


def test_latin1_csv_is_read(tmp_path):
    (tmp_path / "roster.csv").write_bytes("booking_id,person_id,name,booking_date\nB1,P1,PEÑA JOSÉ,2024-03-01\n"
                                          .encode("cp1252"))
    assert column(read("roster.csv", folder=tmp_path), "people.csv", "name") == ["PEÑA JOSÉ"]


@pytest.mark.parametrize("hold, immigration", [
    ("ICE", True), ("I.C.E.", True), ("IMMIGRATION DETAINER", True), ("DHS", True), ("I-247A", True),
    ("HOMELAND SECURITY INVESTIGATIONS", True), ("ice hold", True),
    ("US MARSHAL", False), ("POLICE HOLD", False), ("JUSTICE COURT", False), ("NOTICE TO APPEAR", False),
])
def test_is_immigration_hold(hold, immigration):
    assert r.is_immigration_hold(hold) is immigration


@pytest.mark.parametrize("header, key", [
    ("Booking #", "booking"), ("SO Number", "so_number"), ("bookingDate", "booking_date"), ("InmateID", "inmate_id"),
])
def test_header_key(header, key):
    assert r.header_key(header) == key
