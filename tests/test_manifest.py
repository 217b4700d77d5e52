"""Every report carries a manifest, and can be rebuilt from it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import create_engine

from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.reports import manifest
from detainers.reports.declined import DeclinedQuery
from detainers.reports.declined import build as build_declined
from detainers.reports.noncooperative import NonCooperativeQuery
from detainers.reports.noncooperative import build as build_noncooperative
from detainers.reports.render import render
from detainers.reports.transfers import TransfersQuery
from detainers.reports.transfers import build as build_transfers
from tests.pkg import base_places, write_package
from tests.scenario import AS_OF, scenario
from tests.test_report_declined import package as declined_package

QUERIES = {
    "non-cooperative": (build_noncooperative, NonCooperativeQuery(date.fromisoformat(AS_OF), stances=("declines",))),
    "declined": (build_declined,
                 DeclinedQuery(date(2018, 10, 1), date(2019, 3, 31), jurisdiction_ids=("nc-franklin",))),
    "transfers": (build_transfers, TransfersQuery(2017, 2019, by="region")),
}


@pytest.fixture
def loaded(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "scenario", scenario()))
    import_package(engine, write_package(tmp_path / "declined", declined_package()))
    return engine


def build(engine, name, query=None):
    builder, default = QUERIES[name]
    with engine.begin() as conn:
        return builder(conn, query or default)


@pytest.mark.parametrize("name", QUERIES)
def test_every_report_has_a_manifest(loaded, name):
    r = build(loaded, name)
    m = r["manifest"]
    assert list(m) == ["tool", "version", "classifier_tables", "database", "sources", "parameters", "report"]
    assert m["tool"] == "detainers" and m["report"] == name == r["report"]
    g = r["generated_by"]
    assert (m["version"], m["classifier_tables"]) == (g["version"], g["classifier_tables"])
    assert [s["sha256"] for s in m["sources"]] == [s["sha256"] for s in r["sources"]]
    assert set(m["sources"][0]) == {"source_id", "kind", "name", "sha256", "loaded_at"}
    assert m["parameters"]["suppress_below"] == 5 and m["parameters"]["audience"] == "public"
    assert list(r)[-2:] == ["suppression", "manifest"]  # added at the end: existing keys keep their order


def test_parameters_record_the_query(loaded):
    m = build(loaded, "declined")["manifest"]
    assert m["parameters"] == {"date_from": "2018-10-01", "date_to": "2019-03-31", "jurisdiction_ids": ["nc-franklin"],
                               "audience": "public", "suppress_below": 5}
    m = build(loaded, "non-cooperative")["manifest"]
    assert m["parameters"] == {"as_of": AS_OF, "stances": ["declines"], "jurisdiction_ids": [], "audience": "public",
                               "suppress_below": 5}


def test_noncooperative_json_keeps_its_shape(loaded):
    data = json.loads(render(build(loaded, "non-cooperative"), "json"))
    for key in ("report", "as_of", "audience", "synthetic", "jurisdictions", "sources", "fidelity"):
        assert key in data
    assert list(data)[:13] == ["report", "title", "as_of", "audience", "synthetic", "data_label", "parameters",
                               "definitions", "jurisdictions", "totals", "sources", "fidelity", "generated_by"]
    j = data["jurisdictions"][0]
    assert list(j)[:7] == ["jurisdiction_id", "name", "state", "fips", "policy", "people", "counts"]
    assert list(j["counts"]) == ["people", "by_category", "by_category_convicted"]


@pytest.mark.parametrize("name", QUERIES)
def test_json_is_deterministic(loaded, name):
    assert render(build(loaded, name), "json") == render(build(loaded, name), "json")


@pytest.mark.parametrize("name", QUERIES)
def test_rebuild_gives_the_same_report(loaded, name):
    r = build(loaded, name)
    from_json = json.loads(render(r, "json"))["manifest"]
    assert manifest.rebuild(loaded, from_json) == r


def test_rebuild_keeps_the_recorded_threshold(loaded, monkeypatch):
    r = build(loaded, "declined", DeclinedQuery(date(2018, 10, 1), date(2019, 3, 31), suppress_below=3))
    monkeypatch.setenv("DETAINERS_SUPPRESS_BELOW", "10")
    again = manifest.rebuild(loaded, r["manifest"])
    assert again["suppression"]["threshold"] == 3 and again == r


def test_rebuild_of_restricted_report(loaded):
    r = build(loaded, "declined", DeclinedQuery(date(2018, 10, 1), date(2019, 3, 31), audience="restricted"))
    assert manifest.rebuild(loaded, r["manifest"]) == r


def test_rebuild_refuses_when_sources_changed(loaded, tmp_path):
    r = build(loaded, "transfers")
    files = base_places()
    files["jurisdictions.csv"].append({"jurisdiction_id": "tx-harris", "name": "Harris County", "state": "TX",
                                       "kind": "county"})
    import_package(loaded, write_package(tmp_path / "more", files))
    with pytest.raises(manifest.SourcesChanged, match="loaded since"):
        manifest.rebuild(loaded, r["manifest"])
    assert manifest.rebuild(loaded, r["manifest"], check=False)["report"] == "transfers"
    missing = dict(r["manifest"], sources=r["manifest"]["sources"] + [
        {"source_id": 99, "kind": "package", "name": "gone", "sha256": "0" * 64, "loaded_at": None}])
    with pytest.raises(manifest.SourcesChanged, match="missing: package gone"):
        manifest.rebuild(loaded, missing)


def test_bad_manifests_are_input_errors(loaded):
    m = build(loaded, "declined")["manifest"]
    with pytest.raises(InputError, match="cannot rebuild"):
        manifest.rebuild(loaded, dict(m, report="horoscope"))
    with pytest.raises(InputError, match="does not know: colour"):
        manifest.rebuild(loaded, dict(m, parameters={**m["parameters"], "colour": "red"}))


def test_database_label_has_no_password():
    engine = create_engine("postgresql+psycopg://analyst:s3cret@db.example.org:5432/detainers")
    # the label is read from the engine's URL: no connection is made
    class Conn:
        pass

    conn = Conn()
    conn.engine = engine
    label = manifest.database_label(conn)
    assert label == "postgresql+psycopg://analyst@db.example.org:5432/detainers" and "s3cret" not in label
