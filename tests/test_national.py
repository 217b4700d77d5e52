"""The SYNTHETIC national generator: reproducible bytes, realistic shapes, and files the importer and
the ICE-LESA ingest accept on every backend. No timings here (see the module docstring of
detainers.national and docs/data-package.md for measured sizes and speeds)."""

from __future__ import annotations

import csv
import tomllib
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from detainers.cli import app
from detainers.datapackage.importer import import_package
from detainers.demo import COLUMNS
from detainers.ingest.load import ingest
from detainers.national import (
    AS_OF,
    NationalFacts,
    parse_size,
    us_counties,
    write_national_lesa,
    write_national_package,
)
from detainers.reports.noncooperative import NonCooperativeQuery
from detainers.reports.noncooperative import build as build_noncooperative
from detainers.reports.render import render
from detainers.reports.transfers import TransfersQuery
from detainers.reports.transfers import build as build_transfers
from detainers.store.schema import detainers as detainers_table
from detainers.store.schema import sources

LABELLED = Path(__file__).parent / "data" / "charges" / "labelled.csv"
OUTCOMES = {"in_custody", "honored", "declined", "transferred", "lifted", "cancelled", "unknown"}


def read(directory: Path, name: str) -> list[dict[str, str]]:
    with (directory / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def fy(day: str) -> int:
    d = date.fromisoformat(day)
    return d.year + 1 if d.month >= 10 else d.year


# --- reproducibility ---------------------------------------------------------------------------


def test_same_seed_and_size_give_the_same_bytes(tmp_path):
    a = write_national_package(tmp_path / "a", detainers=1500, seed=99)
    b = write_national_package(tmp_path / "b", detainers=1500, seed=99)
    c = write_national_package(tmp_path / "c", detainers=1500, seed=100)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted([*COLUMNS, "package.toml"])
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert a == b
    assert (tmp_path / "a" / "detainers.csv").read_bytes() != (tmp_path / "c" / "detainers.csv").read_bytes()
    assert c.seed == 100
    # The ICE-LESA release too.
    assert write_national_lesa(tmp_path / "x.csv", detainers=800, seed=5) == 800
    assert write_national_lesa(tmp_path / "y.csv", detainers=800, seed=5) == 800
    assert (tmp_path / "x.csv").read_bytes() == (tmp_path / "y.csv").read_bytes()


def test_sizes_are_read_as_people_write_them():
    assert parse_size("100k") == 100_000
    assert parse_size("1M") == parse_size("1m") == 1_000_000
    assert parse_size("5M") == 5_000_000
    assert parse_size("2.5k") == 2_500
    assert parse_size("3000") == parse_size("3_000") == 3000
    for bad in ("", "0", "-5", "1.5", "ten", "1G"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_jurisdictions_are_the_real_counties():
    counties = us_counties()
    ids = [c[0] for c in counties]
    assert len(counties) >= 3000 and len(set(ids)) == len(ids)
    by_fips = {c[1]: c for c in counties}
    assert by_fips["37183"][:4] == ("nc-wake", "37183", "NC", "Wake County")
    assert by_fips["22071"][3] == "Orleans Parish"
    # Two Richmonds in Virginia: the FIPS tells them apart, and only there.
    assert by_fips["51159"][0] == "va-richmond-51159" and by_fips["51760"][0] == "va-richmond-51760"
    assert by_fips["51760"][3] == "Richmond city"
    # Franklin County exists in many states: one id per state, no FIPS needed.
    assert by_fips["39049"][0] == "oh-franklin" and by_fips["37069"][0] == "nc-franklin"


# --- shapes, read straight from the files ----------------------------------------------------


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> tuple[Path, NationalFacts]:
    directory = tmp_path_factory.mktemp("national") / "pkg"
    return directory, write_national_package(directory, detainers=20_000)


def test_package_is_labelled_synthetic(national):
    directory, facts = national
    meta = tomllib.loads((directory / "package.toml").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True and facts.synthetic
    assert "SYNTHETIC" in meta["title"] and "SYNTHETIC" in meta["description"]
    assert meta["as_of"] == "2025-09-30" == facts.as_of.isoformat()
    assert (meta["seed"], meta["detainers"]) == (2012, 20_000)
    assert facts.lines()[0].startswith("SYNTHETIC")


def test_rows_are_counted_exactly(national):
    directory, facts = national
    assert facts.detainers == 20_000
    for name in COLUMNS:
        assert facts.rows[name] == len(read(directory, name)), name
    assert facts.rows["detainers.csv"] == 20_000


def test_jurisdictions_facilities_regions_policies(national):
    directory, facts = national
    jurisdictions = read(directory, "jurisdictions.csv")
    assert facts.jurisdictions == len(jurisdictions) >= 3000
    assert {j["kind"] for j in jurisdictions} == {"county"}
    assert all(len(j["fips"]) == 5 and j["fips"].isdigit() for j in jurisdictions)
    facilities = Counter(f["jurisdiction_id"] for f in read(directory, "facilities.csv"))
    assert set(facilities) == {j["jurisdiction_id"] for j in jurisdictions}
    assert 5 <= sum(n == 2 for n in facilities.values()) <= 60 and max(facilities.values()) == 2
    regions = read(directory, "regions.csv")
    assert len(regions) == len(jurisdictions) and 10 <= len({r["region"] for r in regions}) <= 30
    policies = defaultdict(list)
    for p in read(directory, "policies.csv"):
        policies[p["jurisdiction_id"]].append(p)
    assert set(policies) == set(facilities)
    stances = Counter(ps[0]["stance"] for ps in policies.values())
    assert stances["honors"] > stances["limited"] + stances["declines"]
    changed = [j for j, ps in policies.items() if len(ps) > 1]
    assert 0.08 * len(policies) <= len(changed) <= 0.18 * len(policies)
    assert len(changed) == facts.policy_changes
    assert any(len(ps) == 3 for ps in policies.values())  # some change twice
    assert any(p["agreement"].startswith("287g") for ps in policies.values() for p in ps)
    for ps in policies.values():  # consecutive, from FY2012, the last open
        assert ps[0]["effective_from"] == "2011-10-01" and ps[-1]["effective_to"] == ""
        for a, b in zip(ps, ps[1:]):
            assert a["effective_to"] == b["effective_from"] and a["effective_from"] < b["effective_from"]


def test_volumes_follow_a_power_law(national):
    directory, facts = national
    facility_of = {f["facility_id"]: f["jurisdiction_id"] for f in read(directory, "facilities.csv")}
    per = Counter(facility_of[d["facility_id"]] for d in read(directory, "detainers.csv"))
    top, share = per.most_common(1)[0]
    assert top == facts.largest_jurisdiction
    assert 0.015 <= share / 20_000 <= 0.045
    top_percent = sum(n for _, n in per.most_common(facts.jurisdictions // 100)) / 20_000
    assert top_percent >= 0.2
    assert abs(top_percent - facts.top_percent_share) < 1e-9
    assert len(per) > 1500  # and a long tail: most counties have some


def test_fiscal_years_trend_and_seasons(national):
    directory, _ = national
    lodged = [d["lodged_on"] for d in read(directory, "detainers.csv")]
    years = Counter(fy(day) for day in lodged)
    assert sorted(years) == list(range(2012, 2026))
    assert min(lodged) >= "2011-10-01" and max(lodged) <= AS_OF.isoformat()
    assert years[2021] < years[2019] and years[2025] > years[2024]  # COVID dip, 2025 rise
    months = Counter(int(day[5:7]) for day in lodged)
    assert months[5] > months[12]


def test_people_bookings_and_outcome_shapes(national):
    directory, facts = national
    people = read(directory, "people.csv")
    assert len(people) == facts.people
    assert all(p["name"] and p["date_of_birth"] and p["birth_year"] and p["citizenship"] for p in people)
    assert len({p["name"] for p in people}) == len(people)
    bookings = read(directory, "bookings.csv")
    detainers = read(directory, "detainers.csv")
    per_person_bookings = Counter(b["person_id"] for b in bookings)
    per_person_detainers = Counter(d["person_id"] for d in detainers)
    several = sum(1 for p in people
                  if per_person_bookings[p["person_id"]] > 1 or per_person_detainers[p["person_id"]] > 1)
    assert several == facts.people_with_several
    assert 0.15 <= several / len(people) <= 0.20
    facility_of = {f["facility_id"]: f["jurisdiction_id"] for f in read(directory, "facilities.csv")}
    places = defaultdict(set)
    for d in detainers:
        places[d["person_id"]].add(facility_of[d["facility_id"]])
    assert sum(len(p) > 1 for p in places.values()) > 100  # re-booked in another county
    reasons = Counter(b["release_reason"] for b in bookings)
    assert set(reasons) == {"", "to_ice", "to_other_custody", "bond", "sentence_served", "dismissed",
                            "recognizance", "other_release"}
    assert reasons["to_ice"] > reasons["bond"]  # most counties honour
    assert all(b["booked_on"] <= b["released_on"] for b in bookings if b["released_on"])
    assert sum(1 for d in detainers if not d["booking_id"]) > 0.02 * len(detainers)
    assert {d["form"] for d in detainers} == {"I-247", "I-247D", "I-247N", "I-247A"}
    assert {d["lift_reason"] for d in detainers} >= {"Lifted", "Wrong Person"}


def test_charges_come_from_the_labelled_set(national):
    directory, _ = national
    with LABELLED.open(encoding="utf-8", newline="") as fh:
        labelled = {r["text"].strip() for r in csv.DictReader(fh)}
    charges = read(directory, "charges.csv")
    assert {c["description"] for c in charges} <= labelled
    assert len({c["description"] for c in charges}) > 500
    assert all(c["category"] == "" for c in charges)
    assert any(c["code"] for c in charges)
    per_booking = Counter(c["booking_id"] for c in charges)
    assert set(per_booking.values()) == {1, 2, 3}
    assert len(per_booking) == len(read(directory, "bookings.csv"))


# --- through the importer, the reports and the ingest, on every backend ----------------------


def test_imports_cleanly_and_reports_say_synthetic(engine, tmp_path):
    directory = tmp_path / "pkg"
    facts = write_national_package(directory, detainers=3000)
    result = import_package(engine, directory)
    assert result.synthetic and not result.claim_disagreements
    assert result.files["detainers.csv"].added == 3000
    assert result.files["jurisdictions.csv"].added == facts.jurisdictions
    with engine.connect() as conn:
        outcomes = dict(conn.execute(select(detainers_table.c.outcome, func.count())
                                     .group_by(detainers_table.c.outcome)).all())
    assert set(outcomes) == OUTCOMES, outcomes
    assert sum(outcomes.values()) == 3000
    with engine.begin() as conn:
        held = build_noncooperative(conn, NonCooperativeQuery(AS_OF, ("declines", "limited")))
        transfers = build_transfers(conn, TransfersQuery(2012, 2025))
    for report in (held, transfers):
        assert report["synthetic"] is True
        assert "SYNTHETIC" in render(report, "md")
    assert held["totals"]["people"] > 0


def test_lesa_release_ingests(engine, tmp_path):
    path = tmp_path / "lesa.csv"
    assert write_national_lesa(path, detainers=2000) == 2000
    result = ingest(engine, "ice-lesa", path)
    assert result.records == 2000
    with engine.connect() as conn:
        outcomes = dict(conn.execute(select(detainers_table.c.outcome, func.count())
                                     .group_by(detainers_table.c.outcome)).all())
    assert {"honored", "declined", "transferred", "lifted", "cancelled", "unknown"} <= set(outcomes)
    # The release's title says SYNTHETIC: so do the source and every report made from it.
    assert any("SYNTHETIC" in note for note in result.notes)
    with engine.connect() as conn:
        assert conn.execute(select(sources.c.synthetic)).scalars().all() == [True]
        report = build_noncooperative(conn, NonCooperativeQuery(AS_OF))
    assert report["synthetic"] is True and "SYNTHETIC" in render(report, "md")


def test_synthetic_command(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["synthetic", str(tmp_path / "pkg"), "--detainers", "2k", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output and "2,000 detainers" in result.output
    assert len(read(tmp_path / "pkg", "detainers.csv")) == 2000
    # Written again over itself: fine, same bytes.
    before = (tmp_path / "pkg" / "people.csv").read_bytes()
    assert runner.invoke(app, ["synthetic", str(tmp_path / "pkg"), "-n", "2000", "--seed", "3", "-q"]).exit_code == 0
    assert (tmp_path / "pkg" / "people.csv").read_bytes() == before
    lesa = runner.invoke(app, ["synthetic", str(tmp_path / "out"), "-n", "500", "--format", "ice-lesa"])
    assert lesa.exit_code == 0, lesa.output
    assert "SYNTHETIC" in lesa.output and (tmp_path / "out" / "ice-lesa-synthetic.csv").is_file()
    bad = runner.invoke(app, ["synthetic", str(tmp_path / "x"), "--detainers", "lots"])
    assert bad.exit_code == 2 and "--detainers" in bad.output
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    refused = runner.invoke(app, ["synthetic", str(other), "-n", "100"])
    assert refused.exit_code == 2 and "not empty" in refused.output
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_parts_add_people_over_the_same_counties(engine, tmp_path):
    """Part 2 has the same reference files and its own people: imported after part 1, the detainers add up."""
    first = write_national_package(tmp_path / "p1", detainers=1500)
    second = write_national_package(tmp_path / "p2", detainers=1500, part=2)
    for name in ("jurisdictions.csv", "facilities.csv", "policies.csv", "regions.csv"):
        assert (tmp_path / "p1" / name).read_bytes() == (tmp_path / "p2" / name).read_bytes()
    assert (tmp_path / "p1" / "people.csv").read_bytes() != (tmp_path / "p2" / "people.csv").read_bytes()
    import_package(engine, tmp_path / "p1")
    result = import_package(engine, tmp_path / "p2")
    assert result.files["jurisdictions.csv"].added == 0 and result.files["policies.csv"].added == 0
    assert result.files["detainers.csv"].added == 1500
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(detainers_table)).scalar() == 3000
    assert first.jurisdictions == second.jurisdictions
