"""Edges found on a second read: each once wrong, each pinned here."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from detainers.cli import app
from detainers.datapackage.exporter import export_package
from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.ingest.base import IngestOptions
from detainers.ingest.load import ingest
from detainers.store.db import open_store
from detainers.store.schema import bookings, detainers, policies
from tests.pkg import write_package
from tests.scenario import scenario

DATA = Path(__file__).parent / "data"
runner = CliRunner()

GASTON = {"jurisdictions.csv": [{"jurisdiction_id": "nc-gaston", "name": "Gaston County", "state": "NC",
                                 "kind": "county", "fips": "37071"}]}


def _lists(engine):
    ingest(engine, "287g-roster", DATA / "287g-participating-2021-layout.xlsx",
           IngestOptions(as_of=datetime(2021, 6, 1)))


def _policies(engine):
    with engine.connect() as conn:
        return [(p.effective_from.isoformat(), p.effective_to and p.effective_to.isoformat(), p.stance, p.origin)
                for p in conn.execute(select(policies).where(policies.c.jurisdiction_id == "nc-gaston")
                                      .order_by(policies.c.effective_from))]


def test_user_policy_wins_over_one_derived_from_287g_lists(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "j", GASTON))
    _lists(engine)
    assert _policies(engine) == [("2020-06-18", None, "honors", "287g-roster")]
    user = {"policies.csv": [{"jurisdiction_id": "nc-gaston", "effective_from": "2019-01-01", "stance": "declines"}]}
    import_package(engine, write_package(tmp_path / "p", user))
    assert _policies(engine) == [("2019-01-01", None, "declines", "package")]
    export_package(engine, tmp_path / "out")
    assert "287g" not in (tmp_path / "out" / "policies.csv").read_text()


def test_jurisdictions_loaded_after_the_lists_still_get_their_policies(engine, tmp_path):
    _lists(engine)
    import_package(engine, write_package(tmp_path / "j", GASTON))
    assert _policies(engine) == [("2020-06-18", None, "honors", "287g-roster")]


def test_an_older_snapshot_never_reopens_a_release(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "j", {"jurisdictions.csv": [
        {"jurisdiction_id": "nc-x", "name": "X County", "state": "NC", "kind": "county"}]}))
    header = "booking_id,person_id,name,booking_date,charges,holds\n"
    snaps = {}
    for day, body in [("2024-01-05", "B1,P1,Anna Zorvek,2024-01-02,LARCENY,ICE\n"),
                      ("2024-01-20", "B2,P2,Ivo Quellen,2024-01-19,DWI,\n"),
                      ("2024-01-10", "B1,P1,Anna Zorvek,2024-01-02,LARCENY,ICE\n")]:
        path = tmp_path / f"roster-{day}.csv"
        path.write_text(header + body, encoding="utf-8")
        snaps[day] = path
    for day in ("2024-01-05", "2024-01-20", "2024-01-10"):
        ingest(engine, "roster-snapshot", snaps[day], IngestOptions(
            jurisdiction_id="nc-x", facility_id="nc-x-jail", as_of=datetime.fromisoformat(day)))
    with engine.connect() as conn:
        b1 = conn.execute(select(bookings).where(bookings.c.booking_id.like("%B1"))).one()
        d1 = conn.execute(select(detainers).where(detainers.c.booking_id == b1.booking_id)).one()
    assert str(b1.released_on) == "2024-01-20"
    assert d1.outcome == "unknown" and str(d1.lodged_on) == "2024-01-05"


def test_values_too_long_for_their_column_are_input_errors(engine, tmp_path):
    files = scenario()
    files["regions.csv"][0]["region"] = "T" * 180
    with pytest.raises(InputError) as info:
        import_package(engine, write_package(tmp_path / "long", files))
    assert "regions.csv, row 2, column region" in info.value.message()
    assert "180 characters long (this column holds at most 128)" in info.value.message()


def test_a_changed_booking_must_still_hold_its_stored_detainers(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "a", scenario()))
    later = {"bookings.csv": [{"booking_id": "b1", "person_id": "p1", "facility_id": "nc-franklin-jail",
                               "booked_on": "2019-05-01", "released_on": "2019-05-01", "release_reason": "bond"}]}
    with pytest.raises(InputError, match=r"bookings.csv, row 2, column released_on: '2019-05-01' is before "
                                         r"stored detainer d1 was lodged on 2019-05-02"):
        import_package(engine, write_package(tmp_path / "b", later))


def test_export_with_unplaced_facilities_imports_back(engine, tmp_path):
    ingest(engine, "ice-lesa", DATA / "ice-lesa-detainers-sample.xlsx")
    export_package(engine, tmp_path / "out")
    other = open_store(f"sqlite:///{tmp_path / 'o.db'}")
    result = import_package(other, tmp_path / "out")
    assert result.files["facilities.csv"].added == 6 and result.files["detainers.csv"].added == 400
    other.dispose()


def test_cli_edges(db_url, tmp_path):
    files = scenario()
    files["jurisdictions.csv"][0]["name"] = "Franklin [/] County"
    import_package(open_store(db_url), write_package(tmp_path / "p", files))
    # data that looks like terminal markup is printed as text
    st = runner.invoke(app, ["stats", "outcomes", "--db", db_url])
    assert st.exit_code == 0 and "Franklin [/] County" in st.output
    # unknown ids and regions are errors, not empty answers
    bad = runner.invoke(app, ["report", "non-cooperative", "--as-of", "2019-06-01", "--jurisdiction", "nc-wakee",
                              "--db", db_url])
    assert bad.exit_code == 2 and "'nc-wakee' is not a known jurisdiction id" in bad.stderr
    bad = runner.invoke(app, ["stats", "outcomes", "--region", "Nope", "--db", db_url])
    assert bad.exit_code == 2 and "'Nope' is not a known region" in bad.stderr
    week = runner.invoke(app, ["report", "non-cooperative", "--as-of", "2019-W01-1", "--db", db_url])
    assert week.exit_code == 2 and "is not a date" in week.stderr
    blocked = tmp_path / "afile"
    blocked.write_text("x")
    out = runner.invoke(app, ["report", "non-cooperative", "--as-of", "2019-06-01", "--out",
                              str(blocked / "r.md"), "--db", db_url])
    assert out.exit_code == 2 and "cannot be written" in out.stderr
    nojur = runner.invoke(app, ["ingest", "jail-report", str(DATA / "jail-detainer-report-sample.csv"),
                                "--jurisdiction", "tx-nowhere", "--db", db_url])
    assert nojur.exit_code == 2 and "--jurisdiction: 'tx-nowhere' is not a known jurisdiction id" in nojur.stderr


def test_multi_file_ingest_says_what_was_ingested_before_a_failure(db_url, tmp_path):
    import_package(open_store(db_url), write_package(tmp_path / "j", {"jurisdictions.csv": [
        {"jurisdiction_id": "tx-example", "name": "Example County", "state": "TX", "kind": "county"}]}))
    broken = tmp_path / "broken.csv"
    broken.write_text("nothing here\n", encoding="utf-8")
    good = DATA / "jail-detainer-report-sample.csv"
    result = runner.invoke(app, ["ingest", "jail-report", str(good), str(broken), "--jurisdiction", "tx-example",
                                 "--state", "TX", "--db", db_url])
    assert result.exit_code == 2
    assert "broken.csv was not ingested" in result.stderr and str(good) in result.stderr
    assert "Nothing was changed." not in result.stderr
    kinds = [s["kind"] for s in json.loads(runner.invoke(app, ["sources", "--json", "--db", db_url]).output)["rows"]]
    assert kinds == ["package", "jail-report"]


def test_trailing_empty_header_columns_are_not_fatal(engine, tmp_path):
    path = write_package(tmp_path / "p", {"jurisdictions.csv": []})
    (path / "jurisdictions.csv").write_text("jurisdiction_id,name,state,kind,,\nnc-x,X County,NC,county,,\n",
                                            encoding="utf-8")
    assert import_package(engine, path).files["jurisdictions.csv"].added == 1


def test_public_explain_shows_no_raw_ids_or_identity(engine, tmp_path):
    from datetime import date

    from detainers.explain import countable, explain
    from detainers.reports.noncooperative import NonCooperativeQuery, build
    from tests.scenario import NAMES

    import_package(engine, write_package(tmp_path / "p", scenario()))
    with engine.begin() as conn:
        report = json.loads(json.dumps(build(conn, NonCooperativeQuery(date(2019, 6, 1), suppress_below=1)),
                                       default=str))
        blob = json.dumps([explain(conn, report, p) for p in countable(report)], default=str)
    for raw in ("p1", "p2", "p8", "b1", "b2", "b8", "d1", "d2", "d8"):
        assert f'"{raw}"' not in blob and f"booking {raw} " not in blob
    for name, dob in NAMES.values():
        assert name.split()[0] not in blob and dob not in blob
