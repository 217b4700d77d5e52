"""The jail-report reader: the shared sample, nastier files, and the dispositions table."""

from __future__ import annotations

import csv
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from detainers import lift_reasons
from detainers.errors import InputError
from detainers.ingest import dispositions, jail_report, reader
from detainers.ingest.base import IngestOptions
from detainers.outcomes import Booking, derive

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "jail-detainer-report-sample.csv"
NASTY = DATA / "jail" / "report-nasty-latin1.csv"
TX = IngestOptions(jurisdiction_id="tx-example", state="TX")


def by_id(rows: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows}


def outcomes(extract) -> dict[str, str]:
    """detainer_id → outcome under the lifecycle rules (no database: the booking is the one the row names)."""
    bookings = by_id(extract.rows["bookings.csv"], "booking_id")
    result = {}
    for d in extract.rows["detainers.csv"]:
        b = bookings[d["booking_id"]]
        booking = Booking(b["booking_id"], b["booked_on"], b["released_on"], b["release_reason"])
        result[d["detainer_id"]] = derive(d["lodged_on"], d["lifted_on"], d["lift_reason"], booking).outcome
    return result


def write(tmp_path: Path, lines: list[str], name: str = "report.csv") -> Path:
    path = tmp_path / name
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8", newline="")
    return path


HEADER = "Booking No,Booking Name,Race,Sex,Age,Booking Date,Place of Birth"
CHARGES = "Charge,Charge Literal,Level,Sentence,Disposition Date,Disposition Type"


def one_booking(tmp_path: Path, *lines: str, booked: str = "2016-01-04") -> Path:
    return write(tmp_path, [HEADER, f"1700000,\"DOE,JOHN\",W,M,30,{booked},Texas", CHARGES, *lines])


# ---------------------------------------------------------------- module contract


def test_module_declares_itself():
    module = reader("jail-report")
    assert module is jail_report
    assert module.KIND == "jail-report"
    assert module.TITLE and "public records" in module.WHERE_FROM


def test_jurisdiction_is_required():
    with pytest.raises(InputError) as err:
        jail_report.read(SAMPLE, IngestOptions())
    assert str(err.value) == "--jurisdiction is required for jail-report files: say whose jail this is"


# ---------------------------------------------------------------- the shared sample


def test_sample_bookings_and_releases():
    e = jail_report.read(SAMPLE, TX)
    assert e.kind == "jail-report"
    bookings = e.rows["bookings.csv"]
    assert [(b["booking_id"], b["booked_on"], b["released_on"], b["release_reason"], b["source_row"])
            for b in bookings] == [
        ("jail:tx-example:1600000", date(2016, 1, 4), date(2016, 2, 14), "to_ice", 5),
        ("jail:tx-example:1600001", date(2016, 2, 10), date(2016, 3, 22), "bond", 11),
        ("jail:tx-example:1600002", date(2016, 3, 18), date(2016, 4, 28), "sentence_served", 17),
        ("jail:tx-example:1600003", date(2016, 4, 24), None, None, 23),
        ("jail:tx-example:1600004", date(2016, 5, 31), None, None, 29),
    ]
    assert all(b["person_id"] == b["booking_id"] and b["facility_id"] == "tx-example-jail" for b in bookings)
    assert all(b["sheet"] is None for rows in e.rows.values() for b in rows)
    assert e.records == 20  # 5 booking rows + 15 charge rows


def test_sample_outcomes_follow_the_lifecycle():
    e = jail_report.read(SAMPLE, TX)
    assert outcomes(e) == {
        "jail:tx-example:1600000:detainer": "honored",
        "jail:tx-example:1600001:detainer": "declined",
        "jail:tx-example:1600002:detainer": "declined",
        "jail:tx-example:1600003:detainer": "lifted",
        "jail:tx-example:1600004:detainer": "in_custody",
    }


def test_sample_detainers():
    e = jail_report.read(SAMPLE, TX)
    detainers = e.rows["detainers.csv"]
    assert len(detainers) == 5
    first = detainers[0]
    assert first == {
        "detainer_id": "jail:tx-example:1600000:detainer", "person_id": "jail:tx-example:1600000",
        "facility_id": "tx-example-jail", "lodged_on": date(2016, 1, 4), "booking_id": "jail:tx-example:1600000",
        "form": None, "lifted_on": None, "lift_reason": None, "outcome_claimed": None, "criminality": None,
        "threat_level": None, "redacted": None, "source_row": 9, "sheet": None,
    }
    lifted = detainers[3]
    assert (lifted["lifted_on"], lifted["lift_reason"]) == (date(2016, 6, 4), "Warrant Withdrawn")
    assert lift_reasons.meaning(lifted["lift_reason"]) == "lifted"
    assert e.quality["detainers: lodged date taken from booking date"] == 5


def test_sample_charges():
    e = jail_report.read(SAMPLE, TX)
    charges = e.rows["charges.csv"]
    assert len(charges) == 10  # 15 charge lines less the 5 detainer lines
    assert [(c["charge_id"], c["description"], c["code"], c["level"], c["stage"], c["source_row"])
            for c in charges] == [
        ("jail:tx-example:1600000:1", "AGG SEXUAL ASSLT CHILD", "11990004", "felony", "convicted", 7),
        ("jail:tx-example:1600000:2", "POSS MARIJ <2OZ (MB)", "35620008", "misdemeanor", "convicted", 8),
        ("jail:tx-example:1600001:1", "ASSLT CAUSES BODILY INJ:FAMILY MEMBER (MA)", "13990031", "misdemeanor",
         "convicted", 13),
        ("jail:tx-example:1600001:2", "TRAFFIC OFFENSE MULTIPLE", "3701", "misdemeanor", "pending", 14),
        ("jail:tx-example:1600002:1", "DRIVING WHILE INTOXICATED", "54040009", "misdemeanor", "convicted", 19),
        ("jail:tx-example:1600002:2", "POSS MARIJ <2OZ (MB)", "35620008", "misdemeanor", "convicted", 20),
        ("jail:tx-example:1600003:1", "ASSLT CAUSES BODILY INJ:FAMILY MEMBER (MA)", "13990031", "misdemeanor",
         "dismissed", 25),
        ("jail:tx-example:1600003:2", "AGG SEXUAL ASSLT CHILD", "11990004", "felony", "pending", 26),
        ("jail:tx-example:1600004:1", "ASSLT CAUSES BODILY INJ:FAMILY MEMBER (MA)", "13990031", "misdemeanor",
         "pending", 31),
        ("jail:tx-example:1600004:2", "POSS MARIJ <2OZ (MB)", "35620008", "misdemeanor", "pending", 32),
    ]
    assert all(c["detainer_id"] is None and c["category"] is None for c in charges)
    # 1600003's assault carries a sentence but was dismissed: the disposition decides, and it is counted.
    assert e.quality["Sentence: sentence given on a dismissed charge (stage dismissed)"] == 1


def test_sample_people_keep_no_place_of_birth():
    e = jail_report.read(SAMPLE, TX)
    people = e.rows["people.csv"]
    assert people[0] == {"person_id": "jail:tx-example:1600000", "birth_year": None, "sex": "M", "citizenship": None,
                         "name": "DOE,JOHN Q", "date_of_birth": None, "source_row": 5, "sheet": None}
    assert all(p["citizenship"] is None and p["birth_year"] is None for p in people)
    values = {v for p in people for v in p.values()}
    assert not values & {"Texas", "El Salvador", "Mexico (State)"}
    assert any("self-reported and is not citizenship" in n for n in e.notes)
    assert any("cannot be linked across bookings" in n for n in e.notes)


def test_sample_facility_and_notes():
    e = jail_report.read(SAMPLE, IngestOptions(jurisdiction_id="tx-example", state="TX"))
    assert e.rows["facilities.csv"] == [{
        "facility_id": "tx-example-jail", "name": "tx-example jail", "jurisdiction_id": "tx-example",
        "kind": "county_jail", "city": None, "state": "TX", "code": None, "source_row": 4, "sheet": None}]
    other = jail_report.read(SAMPLE, IngestOptions(jurisdiction_id="tx-example", facility_id="tx-example-annex"))
    assert {b["facility_id"] for b in other.rows["bookings.csv"]} == {"tx-example-annex"}
    assert any(n.startswith("Report note (row 35): This is a list of all inmates") for n in e.notes)
    assert "Report note (row 36): Place of birth is self-reported." in e.notes
    assert any("SYNTHETIC SAMPLE" in n for n in e.notes if n.startswith("Report title:"))


def test_texas_levels_are_inferred_from_the_codes():
    e = jail_report.read(SAMPLE, IngestOptions(jurisdiction_id="tx-example"))
    assert e.rows["charges.csv"][0]["level"] == "felony"  # level "1" = first-degree felony in Texas
    assert any("look Texan" in n for n in e.notes)


def test_other_state_does_not_read_digits_as_felonies():
    e = jail_report.read(SAMPLE, IngestOptions(jurisdiction_id="nc-example", state="NC"))
    assert e.rows["charges.csv"][0]["level"] == "unknown"
    assert e.quality["Level: not a known level code: 1"] == 2
    assert not any("look Texan" in n for n in e.notes)


def test_progress_counts_every_record():
    seen = []
    e = jail_report.read(SAMPLE, TX, progress=seen.append)
    assert seen[-1] == e.records == 20 and seen == sorted(seen)


# ---------------------------------------------------------------- a nastier file


def test_nasty_file_reads_latin1_crlf_without_leading_column():
    e = jail_report.read(NASTY, IngestOptions(jurisdiction_id="tx-example"))
    assert "The file is not UTF-8; it was read as cp1252." in e.notes
    names = [p["name"] for p in e.rows["people.csv"]]
    assert names == ["PEÑA,JOSÉ", "ROE,RICHARD", "LEE,KIM", "DOE,JANE"]
    assert e.rows["bookings.csv"][0]["booked_on"] == date(2023, 1, 9)  # "1/9/2023 10:15:00 AM"
    assert e.records == 15


def test_nasty_file_skips_a_booking_without_detainer():
    e = jail_report.read(NASTY, IngestOptions(jurisdiction_id="tx-example"))
    ids = [b["booking_id"] for b in e.rows["bookings.csv"]]
    assert "jail:tx-example:2300002" not in ids
    assert e.quality["Booking No: no detainer line (booking skipped)"] == 1
    assert "1 booking(s) without a detainer line were skipped: 2300002." in e.notes


def test_nasty_file_results():
    e = jail_report.read(NASTY, IngestOptions(jurisdiction_id="tx-example"))
    assert [(b["booking_id"], b["released_on"], b["release_reason"]) for b in e.rows["bookings.csv"]] == [
        ("jail:tx-example:2300001", date(2023, 3, 1), "to_other_custody"),  # RELEASED TO TDCJ-ID (prefix)
        ("jail:tx-example:2300003", None, None),
        ("jail:tx-example:2300004", date(2023, 3, 3), "to_ice"),  # INS DETAINER under code 9999
        ("jail:tx-example:2300005", date(2023, 3, 20), None),  # unknown disposition: released, reason unknown
    ]
    assert outcomes(e) == {
        "jail:tx-example:2300001:detainer": "transferred",
        "jail:tx-example:2300003:detainer:1": "cancelled",
        "jail:tx-example:2300003:detainer:2": "in_custody",
        "jail:tx-example:2300004:detainer": "honored",
        "jail:tx-example:2300005:detainer": "unknown",
    }
    two = [d for d in e.rows["detainers.csv"] if d["booking_id"] == "jail:tx-example:2300003"]
    assert [(d["lifted_on"], d["lift_reason"], d["source_row"]) for d in two] == [
        (date(2023, 2, 10), "Error in Entry", 15), (None, None, 16)]
    assert e.quality["Disposition Type: not in the dispositions table: RELEASED PER JUDGE"] == 1
    assert e.quality["Disposition Type: not in the dispositions table: TRANSFERRED - SEE NOTES"] == 1
    assert [(c["charge_id"], c["level"], c["stage"]) for c in e.rows["charges.csv"]] == [
        ("jail:tx-example:2300001:1", "felony", "convicted"),  # F2 with a sentence
        ("jail:tx-example:2300003:1", "misdemeanor", "pending"),  # blank disposition
        ("jail:tx-example:2300004:1", "felony", "unknown"),  # SJ, unknown disposition
        ("jail:tx-example:2300005:1", "misdemeanor", "convicted"),  # bond, but a sentence was given
    ]
    assert "Report note (row 27): Place of birth is self-reported." in e.notes


def test_user_dispositions_table_extends_the_packaged_one(tmp_path):
    table = tmp_path / "dispositions.csv"
    table.write_text("pattern,match,release_reason,charge_stage,detainer_action,note\n"
                     "RELEASED PER JUDGE,exact,other_release,unknown,none,court order\n"
                     "TRANSFERRED,prefix,to_other_custody,unknown,none,\n", encoding="utf-8")
    e = jail_report.read(NASTY, IngestOptions(jurisdiction_id="tx-example", mapping=table))
    assert e.rows["bookings.csv"][3]["release_reason"] == "other_release"
    assert not [k for k in e.quality if "not in the dispositions table" in k]
    assert outcomes(e)["jail:tx-example:2300005:detainer"] == "declined"


# ---------------------------------------------------------------- errors


def test_missing_booking_date_names_row_and_column():
    with pytest.raises(InputError) as err:
        jail_report.read(DATA / "jail" / "report-missing-booking-date.csv", TX)
    assert str(err.value) == (f"{DATA / 'jail' / 'report-missing-booking-date.csv'}, row 6, column Booking Date: "
                              "is empty (expected the booking date, e.g. 2016-01-04)")


def test_no_header_row():
    with pytest.raises(InputError, match="expected a header row with Booking No"):
        jail_report.read(DATA / "jail" / "report-no-header.csv", TX)


def test_bad_booking_date(tmp_path):
    path = one_booking(tmp_path, "4200,ICE DETAINER,X,,,", booked="13/45/2016")
    with pytest.raises(InputError) as err:
        jail_report.read(path, TX)
    assert str(err.value) == (f"{path}, row 2, column Booking Date: '13/45/2016' is not a date "
                              "(expected e.g. 2016-01-04 or 1/4/2016)")


def test_release_without_date_is_refused(tmp_path):
    path = one_booking(tmp_path, "4200,ICE DETAINER,X,,,RELEASED TO ICE")
    with pytest.raises(InputError) as err:
        jail_report.read(path, TX)
    assert str(err.value) == (f"{path}, row 4, column Disposition Date: is empty but the disposition "
                              "'RELEASED TO ICE' ends the detainer (expected its date)")


def test_release_before_booking_is_refused(tmp_path):
    path = one_booking(tmp_path, "4200,ICE DETAINER,X,,2015-12-31,RELEASED TO ICE")
    with pytest.raises(InputError, match="row 4, column Disposition Date: '2015-12-31' is before the booking date"):
        jail_report.read(path, TX)


def test_booking_twice_is_refused(tmp_path):
    block = ["1700000,\"DOE,JOHN\",W,M,30,2016-01-04,Texas", CHARGES, "4200,ICE DETAINER,X,,,", ",,,,,"]
    path = write(tmp_path, [HEADER, *block, *block])
    with pytest.raises(InputError, match=r"row 6, column Booking No: '1700000' appears again \(first at row 2"):
        jail_report.read(path, TX)


def test_charge_header_without_booking(tmp_path):
    path = write(tmp_path, [HEADER, CHARGES, "4200,ICE DETAINER,X,,,"])
    with pytest.raises(InputError, match="row 2: is a charge header with no booking row above it"):
        jail_report.read(path, TX)


# ---------------------------------------------------------------- small variations


def test_utf8_bom_lf_and_us_dates(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("\ufeff" + "\n".join([HEADER, "1700000,\"DOE,JOHN\",W,M,30,01/04/2016,Texas", CHARGES,
                                          "4200,ICE DETAINER,X,,02/01/2016,BOND-PERSONAL RECOGNIZANCE"]) + "\n",
                    encoding="utf-8")
    e = jail_report.read(path, TX)
    assert e.rows["bookings.csv"][0]["released_on"] == date(2016, 2, 1)
    assert e.rows["bookings.csv"][0]["release_reason"] == "recognizance"
    assert not any("not UTF-8" in n for n in e.notes)


def test_wrong_person_cancels_and_text_only_hold(tmp_path):
    path = one_booking(tmp_path, "1234,IMMIGRATION HOLD,X,,2016-01-10,WRONG PERSON IN CUSTODY",
                       "13990031,ASSAULT,MA,,,")
    e = jail_report.read(path, TX)
    d = e.rows["detainers.csv"][0]
    assert (d["detainer_id"], d["lifted_on"], d["lift_reason"]) == (
        "jail:tx-example:1700000:detainer", date(2016, 1, 10), "Wrong Person in Custody")
    assert outcomes(e) == {"jail:tx-example:1700000:detainer": "cancelled"}
    assert [c["charge_id"] for c in e.rows["charges.csv"]] == ["jail:tx-example:1700000:1"]


def test_detainer_lines_that_disagree_leave_the_reason_empty(tmp_path):
    path = one_booking(tmp_path, "4200,ICE DETAINER,X,,2016-02-01,RELEASED TO ICE",
                       "4200,ICE DETAINER,X,,2016-02-01,BOND-SURETY")
    e = jail_report.read(path, TX)
    assert (e.rows["bookings.csv"][0]["released_on"], e.rows["bookings.csv"][0]["release_reason"]) == (
        date(2016, 2, 1), None)
    assert e.quality["Disposition Type: detainer lines disagree on the release (reason left empty)"] == 1


# ---------------------------------------------------------------- the dispositions table


@pytest.mark.parametrize("text, release, stage, action", [
    ("RELEASED TO ICE", "to_ice", "unknown", "none"),
    ("released to ice.", "to_ice", "unknown", "none"),
    ("RELEASED TO TDCJ-ID", "to_other_custody", "unknown", "none"),
    ("RELEASED TO TDCJ-SJ", "to_other_custody", "unknown", "none"),
    ("RELEASED TO OTHER AGENCY", "to_other_custody", "unknown", "none"),
    ("RELEASED TO US MARSHALS", "to_other_custody", "unknown", "none"),
    ("BOND-SURETY", "bond", "pending", "none"),
    ("BOND-CASH", "bond", "pending", "none"),
    ("BOND-PERSONAL RECOGNIZANCE", "recognizance", "pending", "none"),
    ("SENTENCE COMPLETE", "sentence_served", "convicted", "none"),
    ("CONVICTED", None, "convicted", "none"),
    ("DISMISSAL", "dismissed", "dismissed", "none"),
    ("DISMISSED", "dismissed", "dismissed", "none"),
    ("WARRANT WITHDRAWN", None, "unknown", "lifted"),
    ("ERROR IN ENTRY", None, "unknown", "cancelled"),
    ("WRONG PERSON IN CUSTODY", None, "unknown", "cancelled"),
    ("", None, "pending", "none"),
])
def test_dispositions_table(text, release, stage, action):
    d = dispositions.table().lookup(text)
    assert (d.release_reason, d.charge_stage, d.detainer_action) == (release, stage, action)


def test_unknown_disposition_is_not_guessed():
    assert dispositions.table().lookup("RELEASED PER JUDGE") is None
    assert dispositions.table().lookup("BOND SURETY") is None  # no hyphen: not the BOND- family


def test_lift_dispositions_agree_with_the_lift_reason_table():
    table = dispositions.table()
    for pattern, row in table.exact.items():
        if row.detainer_action != "none":
            assert lift_reasons.meaning(dispositions.as_written(pattern)) == row.detainer_action, pattern
    assert dispositions.as_written("WRONG PERSON IN CUSTODY") == "Wrong Person in Custody"


def test_bad_dispositions_table(tmp_path):
    table = tmp_path / "mine.csv"
    table.write_text("pattern,match,release_reason,charge_stage,detainer_action,note\n"
                     "GONE,exact,gone,unknown,none,\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        jail_report.read(SAMPLE, IngestOptions(jurisdiction_id="tx-example", mapping=table))
    assert str(err.value).startswith(f"{table}, row 2, column release_reason: 'gone' is not allowed (expected one of: "
                                     "to_ice, to_other_custody")


def test_docs_list_every_disposition():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "sources" / "jail-report.md").read_text(encoding="utf-8")
    text = resources.files("detainers.tables").joinpath("dispositions.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        assert f"| `{row['pattern']}` | {row['match']} |" in doc, row["pattern"]
