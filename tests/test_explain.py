"""Drill-down: every count of every report gives back exactly the records behind it, with their source rows."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from detainers.datapackage.importer import import_package
from detainers.demo import write_demo_package
from detainers.errors import InputError
from detainers.explain import Refused, countable, explain
from detainers.reports import manifest
from detainers.reports.declined import DeclinedQuery
from detainers.reports.declined import build as build_declined
from detainers.reports.noncooperative import NonCooperativeQuery
from detainers.reports.noncooperative import build as build_noncooperative
from detainers.reports.transfers import TransfersQuery
from detainers.reports.transfers import build as build_transfers
from detainers.store.schema import audit_log
from tests.pkg import base_places, write_package
from tests.scenario import AS_OF
from tests.scenario import NAMES as SCENARIO_NAMES
from tests.scenario import scenario
from tests.test_report_declined import NAMES as DECLINED_NAMES
from tests.test_report_declined import package as declined_package
from tests.test_report_transfers import package as transfers_package

PERIOD = (date(2018, 10, 1), date(2019, 3, 31))


@pytest.fixture
def loaded(engine, tmp_path):
    """The declined-report package (for declined and transfers) …"""
    import_package(engine, write_package(tmp_path / "declined", declined_package()))
    return engine


@pytest.fixture
def scen(engine, tmp_path):
    """… and the non-cooperative scenario (two packages of the same places would overlap: kept apart)."""
    import_package(engine, write_package(tmp_path / "scenario", scenario()))
    return engine


def noncooperative(engine, **kw) -> dict:
    with engine.begin() as conn:
        return build_noncooperative(conn, NonCooperativeQuery(date.fromisoformat(AS_OF), **kw))


def reports(engine, **kw) -> dict:
    with engine.begin() as conn:
        return {
            "declined": build_declined(conn, DeclinedQuery(*PERIOD, **kw)),
            "transfers": build_transfers(conn, TransfersQuery(2017, 2019, **kw)),
            "by-region": build_transfers(conn, TransfersQuery(2017, 2019, by="region", **kw)),
        }


def explain_all(engine, report: dict, audience="public") -> int:
    checked = 0
    with engine.begin() as conn:
        for path in countable(report):
            got = explain(conn, report, path, audience=audience)
            assert got["matches_report"] is True, (path, got["reported"], got["count"])
            assert got["count"] == got["reported"] == len(got["records"])
            checked += 1
    return checked


@pytest.mark.parametrize("name", ["declined", "transfers", "by-region"])
def test_every_count_gives_back_exactly_its_records(loaded, name):
    # unsuppressed (threshold 1), so that every count, small ones included, can be explained publicly
    report = reports(loaded, suppress_below=1)[name]
    assert explain_all(loaded, report) >= 10


def test_every_noncooperative_count_gives_back_exactly_its_people(scen):
    report = noncooperative(scen, suppress_below=1)
    assert explain_all(scen, report) == 7  # people + 4 categories + 2 convicted
    honors = noncooperative(scen, suppress_below=1, stances=("honors",))
    assert explain_all(scen, honors) >= 1
    restricted = noncooperative(scen, audience="restricted")
    assert explain_all(scen, restricted, audience="restricted") == 7


def test_counts_reach_the_totals_and_the_unplaced_row(loaded):
    r = reports(loaded, suppress_below=1)
    paths = set(countable(r["declined"]))
    assert {"totals.declined", "totals.declined_listed", "jurisdictions.3.declined",
            "jurisdictions.0.still_open", "jurisdictions.1.end_unknown"} <= paths
    assert {"totals.0.lodged", "groups.0.years.0.ended_outcomes.unknown"} <= set(countable(r["transfers"]))


def test_records_carry_their_source_rows_and_no_identity_in_public(loaded):
    r = reports(loaded, suppress_below=1)
    with loaded.begin() as conn:
        got = explain(conn, r["declined"], "jurisdictions.1.declined")
    assert got["count"] == 3 and got["unit"] == "detainers"
    assert got["query"] == {"select": "detainers", "where": {
        "jurisdiction_id": "nc-franklin", "ended_from": "2019-01-01", "ended_to": "2019-03-31", "outcome": "declined"}}
    first = got["records"][0]
    assert set(first) >= {"detainer_key", "person_key", "facility_id", "lodged_on", "ended_on", "outcome",
                          "outcome_rule", "source", "source_row"}
    assert first["outcome"] == "declined" and first["ended_on"] >= "2019-01-01"
    assert first["source"]["kind"] == "package" and len(first["source"]["sha256"]) == 64
    assert isinstance(first["source_row"], int)
    assert {rec["source"]["sha256"] for rec in got["records"]} == {r["declined"]["manifest"]["sources"][0]["sha256"]}
    text = json.dumps(got)
    for name, dob in DECLINED_NAMES.values():
        assert name not in text and dob not in text
    assert '"a2"' not in text and "detainer_id" not in text and "person_id" not in text


def test_people_records(scen):
    report = noncooperative(scen, suppress_below=1)  # its own transaction: a writer does not nest in another
    with scen.begin() as conn:
        people = explain(conn, report, "jurisdictions.0.counts.by_category.sex_offense_child")
    text = json.dumps(people)
    for name, dob in SCENARIO_NAMES.values():
        assert name not in text and dob not in text
    assert "person_id" not in text
    # people counts: one record per person, with the active detainers and the charges in the category
    assert people["unit"] == "people" and people["count"] == 1
    [p] = people["records"]
    assert [c["description"] for c in p["charges"]] == ["AGG SEXUAL ASSLT CHILD"]
    assert p["charges"][0]["source"]["kind"] == "package" and p["charges"][0]["source_row"]
    assert p["detainers"] and all(d["outcome"] == "in_custody" for d in p["detainers"])


def test_suppressed_counts_are_refused_in_public_and_explained_when_restricted(loaded):
    r = reports(loaded)  # public, default threshold 5
    declined = r["declined"]
    assert declined["jurisdictions"][1]["declined"] == "<5"
    with loaded.begin() as conn:
        with pytest.raises(Refused, match="suppressed small count"):
            explain(conn, declined, "jurisdictions.1.declined")
        comp = declined["suppression"]["complementary"]
        if comp:
            with pytest.raises(Refused):
                explain(conn, declined, comp[0])
        got = explain(conn, declined, "jurisdictions.1.declined", audience="restricted")
    assert got["count"] == 3 and got["reported"] == "<5" and got["matches_report"] is None
    names = {rec["name"] for rec in got["records"]}
    assert DECLINED_NAMES["pa2"][0] in names and DECLINED_NAMES["pa11"][0] in names
    assert {rec["detainer_id"] for rec in got["records"]} == {"a2", "a11", "a12"}
    with loaded.connect() as conn:
        assert conn.execute(select(audit_log.c.action)).scalars().all()[-1] == "explain.restricted"


def test_restricted_report_explains_everything(loaded):
    for name, report in reports(loaded, audience="restricted").items():
        assert explain_all(loaded, report, audience="restricted") >= 10, name


def test_path_syntax(loaded):
    r = reports(loaded, suppress_below=1)
    with loaded.begin() as conn:
        by_fy = explain(conn, r["transfers"], "groups.unplaced.years.FY2017.ended")
        assert by_fy["path"].startswith("groups.") and by_fy["path"].endswith(".years.0.ended")
        oh = explain(conn, r["declined"], "jurisdictions.oh-franklin.honored")
        assert oh["path"] == "jurisdictions.2.honored" and oh["count"] == 1
        region = explain(conn, r["by-region"], "groups.Triangle.years.FY2019.lodged")
        assert region["query"]["where"]["region"] == "Triangle"
        with pytest.raises(InputError, match="matches items 0, 1"):  # nc-franklin's policy changed: two rows
            explain(conn, r["declined"], "jurisdictions.nc-franklin.declined")
        with pytest.raises(InputError, match="not a count"):
            explain(conn, r["declined"], "jurisdictions.0.name")
        with pytest.raises(InputError, match="no key 'nope'"):
            explain(conn, r["declined"], "totals.nope")
        with pytest.raises(InputError, match="past the end"):
            explain(conn, r["declined"], "jurisdictions.9.declined")


def test_path_by_jurisdiction_id(scen):
    report = noncooperative(scen, suppress_below=1)
    with scen.begin() as conn:
        got = explain(conn, report, "jurisdictions.nc-franklin.counts.by_category.homicide")
    assert got["path"] == "jurisdictions.0.counts.by_category.homicide" and got["count"] == 1


def test_explain_refuses_when_sources_changed(loaded, tmp_path):
    r = reports(loaded, suppress_below=1)["declined"]
    files = base_places()
    files["jurisdictions.csv"].append({"jurisdiction_id": "tx-harris", "name": "Harris County", "state": "TX",
                                       "kind": "county"})
    import_package(loaded, write_package(tmp_path / "more", files))
    with loaded.begin() as conn:
        with pytest.raises(manifest.SourcesChanged):
            explain(conn, r, "totals.declined")
        got = explain(conn, r, "totals.declined", check_sources=False)
    assert got["sources_checked"] is False and got["count"] == 6


def test_transfers_package(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", transfers_package()))
    with engine.begin() as conn:
        r = build_transfers(conn, TransfersQuery(2016, 2018, suppress_below=1))
    assert explain_all(engine, r) >= 40
    with engine.begin() as conn:
        got = explain(conn, r, "groups.nc-franklin.years.FY2018.honored_by_ended")
    # t8 has no booking: honored from ICE's lift reason, and the rule says so
    assert got["count"] == 1 and got["records"][0]["outcome_rule"]


def test_demo_package(engine, tmp_path):
    facts = write_demo_package(tmp_path / "demo")
    import_package(engine, tmp_path / "demo")
    with engine.begin() as conn:
        built = [build_noncooperative(conn, NonCooperativeQuery(facts.as_of)),
                 build_declined(conn, DeclinedQuery(date(2016, 10, 1), date(2017, 9, 30))),
                 build_transfers(conn, TransfersQuery(2016, 2018, by="region"))]
    for report in built:  # public: every count that is shown can be explained, the suppressed ones are refused
        shown = refused = 0
        with engine.begin() as conn:
            for path in countable(report)[:120]:
                try:
                    got = explain(conn, report, path)
                except Refused:
                    refused += 1
                    assert path in report["suppression"]["cells"]
                    continue
                assert got["matches_report"] is True, (report["report"], path)
                shown += 1
        assert shown >= 3, report["report"]
    wake = built[0]["jurisdictions"]
    i = next(i for i, j in enumerate(wake) if j["jurisdiction_id"] == facts.wake_jurisdiction_id)
    with engine.begin() as conn:
        got = explain(conn, built[0], f"jurisdictions.{i}.counts.by_category.sex_offense_child")
    assert got["count"] == 11 and len({rec["person_key"] for rec in got["records"]}) == 11


# ---------------------------------------------------------------- policy-change and re-arrest

def _policy_change(engine, tmp_path, **kw):
    from detainers.reports.policy_change import PolicyChangeQuery
    from detainers.reports.policy_change import build as build_policy_change
    from tests.test_report_policy_change import package as policy_change_package

    import_package(engine, write_package(tmp_path / "pc", policy_change_package()))
    with engine.begin() as conn:
        return build_policy_change(conn, PolicyChangeQuery("nc-franklin", date(2019, 1, 1), window_days=90, **kw))


def _rearrest(engine, tmp_path, **kw):
    from detainers.reports.rearrest import RearrestQuery
    from detainers.reports.rearrest import build as build_rearrest
    from tests.test_report_rearrest import FROM, TO
    from tests.test_report_rearrest import package as rearrest_package

    import_package(engine, write_package(tmp_path / "ra", rearrest_package()))
    kw.setdefault("follow_days", 100)
    with engine.begin() as conn:
        return build_rearrest(conn, RearrestQuery(date.fromisoformat(FROM), date.fromisoformat(TO), **kw))


def test_every_policy_change_count_gives_back_exactly_its_detainers(engine, tmp_path):
    report = _policy_change(engine, tmp_path, audience="restricted")
    paths = countable(report)
    for w in ("0", "1"):
        assert {f"windows.{w}.{k}" for k in ("honored", "declined", "transferred", "lifted", "cancelled",
                                              "unknown", "ended", "decided", "lodged")} <= set(paths)
    assert any(p.startswith("monthly.") for p in paths)
    assert explain_all(engine, report, audience="restricted") == len(paths)
    with engine.begin() as conn:
        after = explain(conn, report, "windows.1.declined", audience="restricted")
    # n6 (lodged before the change, ended after it), n7, n8
    assert sorted(rec["detainer_id"] for rec in after["records"]) == ["n6", "n7", "n8"]
    assert all("2019-01-01" <= rec["ended_on"] <= "2019-03-31" for rec in after["records"])


def test_policy_change_public_explain_gives_no_identity(engine, tmp_path):
    from tests.test_report_policy_change import NAMES as PC_NAMES

    report = _policy_change(engine, tmp_path, suppress_below=1)
    with engine.begin() as conn:
        got = explain(conn, report, "windows.1.ended")
    assert got["count"] == got["reported"] == 6 and got["matches_report"] is True
    text = json.dumps(got)
    for name, dob in PC_NAMES.values():
        assert name not in text and dob not in text
    assert "detainer_id" not in text and "person_id" not in text and '"n6"' not in text
    public = _policy_change(engine, tmp_path / "again")  # default threshold: the small counts are refused
    small = next(p for p in countable(public) if p in public["suppression"]["cells"])
    with engine.begin() as conn, pytest.raises(Refused):
        explain(conn, public, small)


def test_every_rearrest_count_gives_back_exactly_its_people(engine, tmp_path):
    report = _rearrest(engine, tmp_path, audience="restricted")
    paths = countable(report)
    for gi in range(len(report["groups"])):
        assert {f"groups.{gi}.{k}" for k in ("released", "followed", "rebooked")} <= set(paths)
    assert explain_all(engine, report, audience="restricted") == len(paths)
    with engine.begin() as conn:
        for gi, g in enumerate(report["groups"]):
            got = explain(conn, report, f"groups.{gi}.rebooked", audience="restricted")
            assert got["unit"] == "released_people"
            assert got["query"]["select"] == "rearrest_people" and got["query"]["where"]["group"] == g["group"]
            for rec in got["records"]:
                assert rec["status"] == "rebooked" and rec["rebooking_id"] and rec["rebooked_on"] > rec["released_on"]
            listed = {p["person_key"] for p in report["people"] if p["group"] == g["group"]}
            released = explain(conn, report, f"groups.{gi}.released", audience="restricted")
            assert {rec["person_key"] for rec in released["records"]} == listed


def test_rearrest_public_explain_gives_no_identity(engine, tmp_path):
    from tests.test_report_rearrest import NAMES as RA_NAMES

    report = _rearrest(engine, tmp_path, suppress_below=1)
    with engine.begin() as conn:
        got = explain(conn, report, "groups.0.released")
    assert got["matches_report"] is True and got["count"] >= 1
    text = json.dumps(got)
    for name, dob in RA_NAMES.values():
        assert name not in text and dob not in text
    assert "person_id" not in text and "detainer_id" not in text and "rebooking_id" not in text
    assert all(rec["person_key"] and rec["detainer"]["source"] for rec in got["records"])
