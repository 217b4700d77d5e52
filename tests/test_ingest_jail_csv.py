"""The jail-csv reader: the worked example of docs/sources/jail-csv.md, mapping checks, variations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from detainers.errors import InputError
from detainers.ingest import jail_csv, reader
from detainers.ingest.base import IngestOptions
from detainers.outcomes import Booking, derive

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "jail"
EXPORT = DATA / "example-export.csv"
MAPPING = DATA / "example-mapping.toml"
OPTIONS = IngestOptions(jurisdiction_id="tx-example", state="TX", mapping=MAPPING)


def outcomes(extract) -> dict[str, str]:
    bookings = {b["booking_id"]: b for b in extract.rows["bookings.csv"]}
    result = {}
    for d in extract.rows["detainers.csv"]:
        b = bookings[d["booking_id"]]
        booking = Booking(b["booking_id"], b["booked_on"], b["released_on"], b["release_reason"])
        result[d["detainer_id"]] = derive(d["lodged_on"], d["lifted_on"], d["lift_reason"], booking).outcome
    return result


def files(tmp_path: Path, csv_text: str, toml_text: str) -> IngestOptions:
    (tmp_path / "export.csv").write_text(csv_text, encoding="utf-8")
    (tmp_path / "export.toml").write_text(toml_text, encoding="utf-8")
    return IngestOptions(jurisdiction_id="nc-wake", mapping=tmp_path / "export.toml")


MINIMAL = """
[columns]
booking_id = "Booking"
booked_on = "Booked"
hold = "Hold"
"""


# ---------------------------------------------------------------- the worked example


def test_module_declares_itself():
    assert reader("jail-csv") is jail_csv
    assert jail_csv.KIND == "jail-csv" and jail_csv.TITLE and "public" in jail_csv.WHERE_FROM


def test_docs_show_the_example_files_exactly():
    doc = (ROOT / "docs" / "sources" / "jail-csv.md").read_text(encoding="utf-8")
    assert f"```csv\n{EXPORT.read_text(encoding='utf-8')}```" in doc
    assert f"```toml\n{MAPPING.read_text(encoding='utf-8')}```" in doc


def test_example_bookings():
    e = jail_csv.read(EXPORT, OPTIONS)
    assert [(b["booking_id"], b["person_id"], b["booked_on"], b["released_on"], b["release_reason"], b["source_row"])
            for b in e.rows["bookings.csv"]] == [
        ("jail:tx-example:24-00117", "jail:tx-example:person:A5531", date(2024, 1, 5), date(2024, 2, 20), "to_ice", 2),
        ("jail:tx-example:24-00150", "jail:tx-example:person:C1203", date(2024, 2, 2), date(2024, 3, 15), "bond", 5),
        ("jail:tx-example:24-00163", "jail:tx-example:person:A5531", date(2024, 6, 11), date(2024, 6, 12),
         "sentence_served", 6),
        ("jail:tx-example:24-00170", "jail:tx-example:person:D4410", date(2024, 3, 1), None, None, 7),
        ("jail:tx-example:24-00171", "jail:tx-example:person:E9021", date(2024, 3, 10), date(2024, 4, 1),
         "to_other_custody", 8),
        ("jail:tx-example:24-00180", "jail:tx-example:person:F1100", date(2024, 4, 2), date(2024, 4, 3), None, 10),
    ]
    assert {b["facility_id"] for b in e.rows["bookings.csv"]} == {"tx-example-jail"}
    assert e.records == 9


def test_example_detainers_and_outcomes():
    e = jail_csv.read(EXPORT, OPTIONS)
    assert [(d["detainer_id"], d["lodged_on"], d["source_row"]) for d in e.rows["detainers.csv"]] == [
        ("jail:tx-example:24-00117:detainer", date(2024, 1, 8), 2),
        ("jail:tx-example:24-00150:detainer", date(2024, 2, 2), 5),
        ("jail:tx-example:24-00170:detainer", date(2024, 3, 4), 7),
        ("jail:tx-example:24-00171:detainer", date(2024, 3, 10), 9),
        ("jail:tx-example:24-00180:detainer", date(2024, 4, 2), 10),
    ]
    assert outcomes(e) == {
        "jail:tx-example:24-00117:detainer": "honored",
        "jail:tx-example:24-00150:detainer": "declined",
        "jail:tx-example:24-00170:detainer": "in_custody",
        "jail:tx-example:24-00171:detainer": "transferred",
        "jail:tx-example:24-00180:detainer": "unknown",
    }
    assert dict(e.quality) == {
        "detainers: lodged date taken from booking date": 3,
        "ReleaseType: not in [values.release_reason] or the dispositions table: RELEASED ON PAROLE": 1,
        "bookings: released with no release reason (outcome unknown)": 1,
        "BookingNumber: no detainer or hold (booking skipped)": 1,
    }


def test_example_charges():
    e = jail_csv.read(EXPORT, OPTIONS)
    assert [(c["charge_id"], c["description"], c["code"], c["level"], c["stage"]) for c in e.rows["charges.csv"]] == [
        ("jail:tx-example:24-00117:1", "ASSAULT CAUSES BODILY INJURY FAMILY MEMBER", "13990031", "misdemeanor",
         "convicted"),
        ("jail:tx-example:24-00117:2", "POSS CS PG 1 <1G", "35990002", "felony", "dismissed"),
        ("jail:tx-example:24-00150:1", "BURGLARY OF HABITATION", "22990001", "felony", "pending"),
        ("jail:tx-example:24-00163:1", "THEFT PROP >=$100<$750", "23990008", "misdemeanor", "convicted"),
        ("jail:tx-example:24-00170:1", "AGG ASSAULT W/DEADLY WEAPON", "13150004", "felony", "pending"),
        ("jail:tx-example:24-00171:1", "POSS CS PG 1 >=1G<4G", "35990003", "felony", "convicted"),
        ("jail:tx-example:24-00180:1", "EVADING ARREST DETENTION", "48990003", "misdemeanor", "pending"),
    ]


def test_example_people_and_facility():
    e = jail_csv.read(EXPORT, OPTIONS)
    people = {p["person_id"]: p for p in e.rows["people.csv"]}
    assert list(people) == ["jail:tx-example:person:A5531", "jail:tx-example:person:C1203",
                            "jail:tx-example:person:D4410", "jail:tx-example:person:E9021",
                            "jail:tx-example:person:F1100"]
    assert people["jail:tx-example:person:A5531"] == {
        "person_id": "jail:tx-example:person:A5531", "birth_year": 1990, "sex": "F", "citizenship": "MEXICO",
        "name": "GARCIA, ANA", "date_of_birth": date(1990, 3, 14), "source_row": 2, "sheet": None}
    assert people["jail:tx-example:person:E9021"]["citizenship"] is None
    assert e.rows["facilities.csv"] == [{
        "facility_id": "tx-example-jail", "name": "Example County Jail", "jurisdiction_id": "tx-example",
        "kind": "county_jail", "city": None, "state": "TX", "code": None, "source_row": 1, "sheet": None}]
    with_flag = jail_csv.read(EXPORT, IngestOptions(jurisdiction_id="tx-example", facility_id="annex", mapping=MAPPING))
    assert with_flag.rows["facilities.csv"][0]["facility_id"] == "annex"


def test_progress_counts_rows():
    seen = []
    jail_csv.read(EXPORT, OPTIONS, progress=seen.append)
    assert seen == [9]


# ---------------------------------------------------------------- options and the mapping file


def test_jurisdiction_and_mapping_are_required():
    with pytest.raises(InputError, match="--jurisdiction is required for jail-csv files: say whose jail this is"):
        jail_csv.read(EXPORT, IngestOptions(mapping=MAPPING))
    with pytest.raises(InputError, match="--mapping is required for jail-csv files"):
        jail_csv.read(EXPORT, IngestOptions(jurisdiction_id="tx-example"))


def test_mapping_unknown_keys_and_missing_columns(tmp_path):
    options = files(tmp_path, "Booking,Booked,Hold\n1,2024-01-01,ICE\n", """
[columns]
booking_id = "Booking"
hold = "Hold"
lodged = "Lodged"

[detainers]
hold_values = ["ICE"]
""")
    with pytest.raises(InputError) as err:
        jail_csv.read(tmp_path / "export.csv", options)
    toml = tmp_path / "export.toml"
    assert str(err.value).splitlines() == [
        f"{toml}, column columns.lodged: is not a known key (expected one of: {', '.join(jail_csv.COLUMN_KEYS)})",
        f"{toml}, column detainers: is not a section of a jail-csv mapping "
        "(expected: columns, values, dates, facility, detainer)",
        f"{toml}, column columns.booked_on: is missing (expected the name of the file's column holding it)",
    ]


def test_mapping_column_not_in_file(tmp_path):
    options = files(tmp_path, "Booking,Booked,Hold\n1,2024-01-01,ICE\n", MINIMAL.replace('"Booked"', '"Book Date"'))
    with pytest.raises(InputError) as err:
        jail_csv.read(tmp_path / "export.csv", options)
    assert str(err.value) == (f"{tmp_path / 'export.toml'}, column columns.booked_on: 'Book Date' is not a column of "
                              "export.csv (its columns are: Booking, Booked, Hold)")


def test_mapping_needs_a_way_to_find_detainers(tmp_path):
    options = files(tmp_path, "Booking,Booked\n1,2024-01-01\n",
                    '[columns]\nbooking_id = "Booking"\nbooked_on = "Booked"\n')
    with pytest.raises(InputError, match="column columns: names none of hold, charge_code, charge_text"):
        jail_csv.read(tmp_path / "export.csv", options)


def test_mapping_values_outside_the_vocabulary(tmp_path):
    options = files(tmp_path, "Booking,Booked,Hold\n1,2024-01-01,ICE\n", MINIMAL + """
[values.release_reason]
"BONDED" = "bail"

[dates]
format = "mm/dd/yyyy"
""")
    with pytest.raises(InputError) as err:
        jail_csv.read(tmp_path / "export.csv", options)
    assert str(err.value).splitlines() == [
        f"{tmp_path / 'export.toml'}, column values.release_reason.\"BONDED\": 'bail' is not allowed (expected one of: "
        "to_ice, to_other_custody, bond, sentence_served, dismissed, recognizance, other_release)",
        f"{tmp_path / 'export.toml'}, column dates.format: 'mm/dd/yyyy' is not a date format "
        "(expected e.g. \"%m/%d/%Y\")",
    ]


def test_mapping_not_toml(tmp_path):
    options = files(tmp_path, "Booking,Booked,Hold\n", "[columns\nbooking_id = 1\n")
    with pytest.raises(InputError, match=r"export.toml: is not valid TOML \("):
        jail_csv.read(tmp_path / "export.csv", options)


# ---------------------------------------------------------------- data errors


def test_date_not_in_the_mapped_format(tmp_path):
    options = files(tmp_path, "Booking,Booked,Hold\n1,2024-01-01,ICE\n", MINIMAL + '[dates]\nformat = "%m/%d/%Y"\n')
    with pytest.raises(InputError) as err:
        jail_csv.read(tmp_path / "export.csv", options)
    assert str(err.value) == (f"{tmp_path / 'export.csv'}, row 2, column Booked: '2024-01-01' is not a date "
                              "(expected %m/%d/%Y as [dates] format says)")


def test_rows_of_one_booking_must_agree(tmp_path):
    options = files(tmp_path, "Booking,Booked,Hold\n1,2024-01-01,ICE\n1,2024-01-02,ICE\n", MINIMAL)
    with pytest.raises(InputError) as err:
        jail_csv.read(tmp_path / "export.csv", options)
    assert str(err.value) == (f"{tmp_path / 'export.csv'}, row 3, column Booked: '2024-01-02' differs from "
                              "'2024-01-01' on row 2 (expected the same value on every row of booking 1)")


def test_empty_booking_number(tmp_path):
    options = files(tmp_path, "Booking,Booked,Hold\n,2024-01-01,ICE\n", MINIMAL)
    with pytest.raises(InputError, match="row 2, column Booking: is empty"):
        jail_csv.read(tmp_path / "export.csv", options)


def test_release_reason_without_release_date(tmp_path):
    options = files(tmp_path, "Booking,Booked,Out,Why,Hold\n1,2024-01-01,,BOND-SURETY,ICE\n",
                    MINIMAL + 'released_on = "Out"\nrelease_reason = "Why"\n')
    with pytest.raises(InputError) as err:
        jail_csv.read(tmp_path / "export.csv", options)
    assert str(err.value) == (f"{tmp_path / 'export.csv'}, row 2, column Out: is empty but the release reason is "
                              "'BOND-SURETY' (expected the release date)")


# ---------------------------------------------------------------- other layouts


def test_one_row_per_booking_without_person_ids(tmp_path):
    options = files(tmp_path, "Booking,Booked,Out,Why,Hold\n"
                              "A1,2024-01-01,2024-01-09,BOND-SURETY,Y\n"
                              "A2,2024-01-02,,,N\n"
                              "A3,1/3/2024,1/4/2024,released to ice,yes\n"
                              "A4,2024-01-05,2024-01-06,recognizance,Y\n", """
[columns]
booking_id = "Booking"
booked_on = "Booked"
released_on = "Out"
release_reason = "Why"
hold = "Hold"
""")
    e = jail_csv.read(tmp_path / "export.csv", options)
    assert [(b["booking_id"], b["person_id"], b["release_reason"]) for b in e.rows["bookings.csv"]] == [
        ("jail:nc-wake:A1", "jail:nc-wake:A1", "bond"),  # through the dispositions table
        ("jail:nc-wake:A3", "jail:nc-wake:A3", "to_ice"),
        ("jail:nc-wake:A4", "jail:nc-wake:A4", "recognizance"),  # a canonical word is taken as it is
    ]
    assert "charges.csv" not in e.rows
    assert e.quality["Booking: no detainer or hold (booking skipped)"] == 1
    assert any("cannot be linked across bookings" in n for n in e.notes)
    assert e.rows["facilities.csv"][0]["name"] == "nc-wake jail"


def test_disposition_column_and_detainer_lines(tmp_path):
    options = files(tmp_path, "Bk,Date,Code,Text,Level,Disp,DispDate\n"
                              "7,2016-01-04,13990031,ASSAULT FAM,MA,DISMISSAL,2016-01-20\n"
                              "7,2016-01-04,4200,ICE DETAINER,X,WARRANT WITHDRAWN,2016-01-15\n"
                              "8,2016-01-05,9999,INS DETAINER,F,RELEASED TO ICE,2016-02-01\n"
                              "8,2016-01-05,4200,ICE DETAINER,X,,\n"
                              "9,2016-01-06,35990002,POSS CS,SJ,BOND-SURETY,2016-01-07\n", """
[columns]
booking_id = "Bk"
booked_on = "Date"
charge_code = "Code"
charge_text = "Text"
charge_level = "Level"
disposition = "Disp"
disposition_date = "DispDate"
""")
    e = jail_csv.read(tmp_path / "export.csv", options)
    assert [(d["detainer_id"], d["lifted_on"], d["lift_reason"]) for d in e.rows["detainers.csv"]] == [
        ("jail:nc-wake:7:detainer", date(2016, 1, 15), "Warrant Withdrawn"),
        ("jail:nc-wake:8:detainer:1", None, None),
        ("jail:nc-wake:8:detainer:2", None, None),
    ]
    assert [(b["booking_id"], b["released_on"], b["release_reason"]) for b in e.rows["bookings.csv"]] == [
        ("jail:nc-wake:7", None, None),
        ("jail:nc-wake:8", date(2016, 2, 1), "to_ice"),
    ]
    assert outcomes(e) == {"jail:nc-wake:7:detainer": "lifted", "jail:nc-wake:8:detainer:1": "honored",
                           "jail:nc-wake:8:detainer:2": "honored"}
    assert [(c["charge_id"], c["level"], c["stage"]) for c in e.rows["charges.csv"]] == [
        ("jail:nc-wake:7:1", "misdemeanor", "dismissed")]
    assert any("look Texan" in n for n in e.notes)  # 8-digit codes, no --state


def test_hold_values_and_latin1(tmp_path):
    (tmp_path / "export.csv").write_bytes("Booking,Booked,Hold,Name\r\n"
                                          "1,2024-01-01,ICE HOLD,PEÑA\r\n"
                                          "2,2024-01-02,ice,MÜLLER\r\n".encode("latin-1"))
    (tmp_path / "export.toml").write_text(MINIMAL + 'name = "Name"\n[detainer]\nhold_values = ["ICE"]\n')
    options = IngestOptions(jurisdiction_id="nc-wake", mapping=tmp_path / "export.toml")
    e = jail_csv.read(tmp_path / "export.csv", options)
    assert [p["name"] for p in e.rows["people.csv"]] == ["MÜLLER"]  # "ICE HOLD" is not one of hold_values
    assert "The file is not UTF-8; it was read as cp1252." in e.notes
