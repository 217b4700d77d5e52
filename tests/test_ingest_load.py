"""Ingesting published files end to end: store, placement, reconciliation, reports on ingested data."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from detainers.analytics.agreements import agreements_on
from detainers.analytics.stats import OutcomeQuery, outcome_stats
from detainers.cli import app
from detainers.datapackage.exporter import export_package
from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.facilities import place_from_file
from detainers.ingest.base import IngestOptions
from detainers.ingest.load import ingest
from detainers.reports.noncooperative import NonCooperativeQuery, build
from detainers.store.db import open_store
from detainers.store.schema import detainers, facilities, metadata, policies
from tests.pkg import write_package

DATA = Path(__file__).parent / "data"
LESA = DATA / "ice-lesa-detainers-sample.xlsx"
JAIL = DATA / "jail-detainer-report-sample.csv"

PLACES = {
    "jurisdictions.csv": [
        {"jurisdiction_id": "nc-mecklenburg", "name": "Mecklenburg County", "state": "NC", "kind": "county",
         "fips": "37119"},
        {"jurisdiction_id": "nc-wake", "name": "Wake County", "state": "NC", "kind": "county", "fips": "37183"},
        {"jurisdiction_id": "nc-durham", "name": "Durham County", "state": "NC", "kind": "county", "fips": "37063"},
        {"jurisdiction_id": "ny-franklin", "name": "Franklin County", "state": "NY", "kind": "county",
         "fips": "36033"},
        {"jurisdiction_id": "pa-franklin", "name": "Franklin County", "state": "PA", "kind": "county",
         "fips": "42055"},
        {"jurisdiction_id": "tx-travis", "name": "Travis County", "state": "TX", "kind": "county", "fips": "48453"},
        {"jurisdiction_id": "nc-gaston", "name": "Gaston County", "state": "NC", "kind": "county", "fips": "37071"},
        {"jurisdiction_id": "tx-example", "name": "Example County", "state": "TX", "kind": "county"},
    ],
    "policies.csv": [
        {"jurisdiction_id": "tx-example", "effective_from": "2015-01-01", "stance": "declines"},
        {"jurisdiction_id": "nc-wake", "effective_from": "2018-12-03", "stance": "declines"},
    ],
}


def dump(engine) -> str:
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
    return digest.hexdigest()


@pytest.fixture
def places(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "places", PLACES))
    return engine


def place_lesa_facilities(engine, tmp_path):
    placements = tmp_path / "placements.csv"
    placements.write_text("facility,jurisdiction_id\nMECKLNC,nc-mecklenburg\nWAKECNC,nc-wake\n"
                          "DURHMNC,nc-durham\nFRNKLNY,ny-franklin\nFRNKLPA,pa-franklin\nTRAVITX,tx-travis\n")
    with engine.begin() as conn:
        assert place_from_file(conn, placements) == 6


def test_lesa_release_outcomes_by_jurisdiction(places, tmp_path):
    result = ingest(places, "ice-lesa", LESA)
    assert result.records == 400 and result.files["detainers.csv"].added == 400
    assert len(result.unplaced_facilities) == 6
    place_lesa_facilities(places, tmp_path)
    with places.connect() as conn:
        rows = outcome_stats(conn, OutcomeQuery(by=("jurisdiction",)))
        total = outcome_stats(conn, OutcomeQuery(by=()))[0]
    by_id = {r["jurisdiction_id"]: r for r in rows}
    # Same-name counties in two states never merge.
    assert (by_id["ny-franklin"]["lodged"], by_id["pa-franklin"]["lodged"]) == (68, 67)
    assert sum(r["lodged"] for r in rows) == 400
    # ICE-side lift reasons through the lift-reason table; "Early Release" is in no table: unknown, not guessed.
    assert (total["honored"], total["declined"], total["transferred"], total["lifted"], total["cancelled"],
            total["unknown"]) == (156, 28, 23, 96, 29, 68)


def test_reingest_is_a_no_op_and_a_new_release_is_reconciled(places, tmp_path):
    ingest(places, "ice-lesa", LESA)
    before = dump(places)
    assert ingest(places, "ice-lesa", LESA).already_ingested
    assert dump(places) == before
    # A newer release of the same series: a title row changed, one row gone, one lift reason changed.
    newer = tmp_path / LESA.name
    wb = openpyxl.load_workbook(LESA)
    ws = wb.worksheets[0]
    ws.cell(4, 1).value = "Data as of 11/01/2019. SYNTHETIC SAMPLE — every row below is invented."
    header = [c.value for c in ws[7]]
    reason = header.index("Detainer Lift Reason") + 1
    ws.cell(9, reason).value = "Booked into Detention" if ws.cell(9, reason).value != "Booked into Detention" else "Lifted"
    ws.delete_rows(10)
    wb.save(newer)
    result = ingest(places, "ice-lesa", newer)
    assert not result.already_ingested
    assert result.files["detainers.csv"].changed == 1
    assert result.files["detainers.csv"].added == 0
    assert len(result.removed["detainers.csv"]) == 1
    assert result.previous_source_id is not None


def test_bad_file_changes_nothing(places, tmp_path):
    before = dump(places)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("this is not a workbook\n")
    with pytest.raises(InputError):
        ingest(places, "ice-lesa", fake)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError):
        ingest(places, "ice-lesa", empty)
    with pytest.raises(InputError, match="is a folder"):
        ingest(places, "ice-lesa", tmp_path)
    assert dump(places) == before


def test_jail_report_outcomes_and_report(places):
    result = ingest(places, "jail-report", JAIL, IngestOptions(jurisdiction_id="tx-example",
                                                             facility_id="tx-example-jail", state="TX"))
    assert result.files["bookings.csv"].added == 5
    with places.connect() as conn:
        got = dict(conn.execute(select(detainers.c.booking_id, detainers.c.outcome)).all())
    assert got == {"jail:tx-example:1600000": "honored", "jail:tx-example:1600001": "declined",
                   "jail:tx-example:1600002": "declined", "jail:tx-example:1600003": "lifted",
                   "jail:tx-example:1600004": "in_custody"}
    with places.begin() as conn:
        report = build(conn, NonCooperativeQuery(date(2016, 5, 1)))
    [j] = report["jurisdictions"]
    assert j["jurisdiction_id"] == "tx-example" and j["counts"]["people"] == 1
    person = j["people"][0]
    assert person["most_serious_category"] == "sex_offense_child"
    assert [c["description"] for c in person["charges"]] == ["ASSLT CAUSES BODILY INJ:FAMILY MEMBER (MA)",
                                                             "AGG SEXUAL ASSLT CHILD"]
    # The detainer line is the detainer, never a charge.
    assert all("DETAINER" not in c["description"] for c in person["charges"])
    assert "DOE" not in json.dumps(report) and "ROE" not in json.dumps(report)


def test_287g_lists_become_agreements_and_policies(places):
    first = ingest(places, "287g-roster", DATA / "287g-participating-2021-layout.xlsx",
                   IngestOptions(as_of=datetime(2021, 6, 1)))
    assert len(first.roster_changes["added"]) == 5
    second = ingest(places, "287g-roster", DATA / "287g-participating-2025-layout.xlsx",
                    IngestOptions(as_of=datetime(2025, 9, 1)))
    assert second.roster_changes["compared_with"] == "2021-06-01"
    assert len(second.roster_changes["added"]) == 4
    assert len(second.roster_changes["removed"]) == 0
    with places.connect() as conn:
        in_2021 = agreements_on(conn, date(2021, 6, 1))
        in_2025 = agreements_on(conn, date(2025, 9, 1))
        derived = conn.execute(select(policies).where(policies.c.origin == "287g-roster")).all()
    assert {(r["state"], tuple(r["models"])) for r in in_2021 if "Bay" in r["agency"]} == {("FL", ("wso", "tfm"))}
    assert len(in_2021) == 4 and len(in_2025) == 7
    gaston = [p for p in derived if p.jurisdiction_id == "nc-gaston"]
    assert gaston and all(p.stance == "honors" and p.agreement == "287g-jem" for p in gaston)


def test_export_of_ingested_data_imports_back(places, tmp_path):
    ingest(places, "ice-lesa", LESA)
    place_lesa_facilities(places, tmp_path)
    ingest(places, "jail-report", JAIL, IngestOptions(jurisdiction_id="tx-example",
                                                    facility_id="tx-example-jail", state="TX"))
    export_package(places, tmp_path / "export")
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    import_package(other, tmp_path / "export")
    q = OutcomeQuery(by=("jurisdiction", "fy"))
    with places.connect() as a, other.connect() as b:
        assert outcome_stats(a, q) == outcome_stats(b, q)
        fa = a.execute(select(facilities.c.facility_id, facilities.c.code, facilities.c.jurisdiction_id)
                       .order_by(facilities.c.facility_id)).all()
        fb = b.execute(select(facilities.c.facility_id, facilities.c.code, facilities.c.jurisdiction_id)
                       .order_by(facilities.c.facility_id)).all()
    assert fa == fb
    other.dispose()


def test_cli_ingest_facilities_agreements_sources(db_url, tmp_path):
    runner = CliRunner()
    import_package(open_store(db_url), write_package(tmp_path / "places", PLACES))
    result = runner.invoke(app, ["ingest", "ice-lesa", str(LESA), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "Ingested" in result.output and "facilities have no jurisdiction yet" in result.output
    unplaced = json.loads(runner.invoke(app, ["facilities", "--unplaced", "--json", "--db", db_url]).output)
    assert len(unplaced["rows"]) == 6
    placed = runner.invoke(app, ["facilities", "place", "FRNKLPA", "pa-franklin", "--db", db_url])
    assert placed.exit_code == 0 and "pa-franklin" in placed.output
    bad = runner.invoke(app, ["facilities", "place", "NOPE", "pa-franklin", "--db", db_url])
    assert bad.exit_code == 2 and "is not a known facility" in bad.stderr
    roster = runner.invoke(app, ["ingest", "287g-roster", str(DATA / "287g-participating-2021-layout.xlsx"),
                                 "--as-of", "2021-06-01", "--db", db_url])
    assert roster.exit_code == 0, roster.output
    listed = json.loads(runner.invoke(app, ["agreements", "list", "--as-of", "2021-06-01", "--format", "json",
                                            "--db", db_url]).output)
    assert {"state", "agency", "county_fips", "models", "signed_on", "active_from", "active_to"} <= set(
        listed["rows"][0])
    srcs = json.loads(runner.invoke(app, ["sources", "--json", "--db", db_url]).output)["rows"]
    assert [s["kind"] for s in srcs] == ["package", "ice-lesa", "287g-roster"]
    missing = runner.invoke(app, ["ingest", "jail-report", str(JAIL), "--db", db_url])
    assert missing.exit_code == 2 and "--jurisdiction" in missing.stderr


def test_a_column_mostly_unreadable_stops_the_file(places, tmp_path):
    before = dump(places)
    shifted = tmp_path / "shifted.xlsx"
    wb = openpyxl.load_workbook(LESA)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[7]]
    state = header.index("Facility State") + 1
    for r in range(8, 300):
        ws.cell(r, state).value = "Atlanta Area of Responsibility"  # the neighbouring column's values
    wb.save(shifted)
    with pytest.raises(InputError, match=r"column Facility State: could not be read in 292 of 400 rows"):
        ingest(places, "ice-lesa", shifted)
    assert dump(places) == before
