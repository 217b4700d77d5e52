"""The non-cooperative jurisdictions report on the hand-computed scenario."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from detainers.datapackage.importer import import_package
from detainers.reports.noncooperative import NonCooperativeQuery, build
from detainers.reports.render import FORMATS, render
from tests.pkg import write_package
from tests.scenario import AS_OF, NAMES, scenario


@pytest.fixture
def loaded(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", scenario()))
    return engine


def report(engine, **kw):
    kw.setdefault("suppress_below", 1)  # these tests check the counting; suppression: tests/test_suppress.py
    q = NonCooperativeQuery(as_of=date.fromisoformat(kw.pop("as_of", AS_OF)), **kw)
    with engine.begin() as conn:
        return build(conn, q)


def test_people_held_on_the_day(loaded):
    r = report(loaded)
    assert [j["jurisdiction_id"] for j in r["jurisdictions"]] == ["nc-franklin"]
    j = r["jurisdictions"][0]
    # p3 released on the day, p4 lifted, p5 lodged later, p7 has no booking, p6 is in Ohio.
    assert j["counts"]["people"] == 3
    people = {p["booked_on"]: p for p in j["people"]}
    assert set(people) == {"2019-05-01", "2018-11-01", "2019-05-15"}
    assert [p["booked_on"] for p in j["people"]] == ["2018-11-01", "2019-05-01", "2019-05-15"]
    p2 = people["2018-11-01"]
    assert (p2["lodged_on"], p2["days_held"], p2["most_serious_category"]) == ("2018-11-05", 212, "homicide")
    p1 = people["2019-05-01"]
    assert p1["most_serious_category"] == "sex_offense_child"
    assert [(c["description"], c["category"], c["stage"]) for c in p1["charges"]] == [
        ("AGG SEXUAL ASSLT CHILD", "sex_offense_child", "pending"), ("DWI", "dui", "convicted")]
    p8 = people["2019-05-15"]
    assert [c["description"] for c in p8["charges"]] == ["POSS MARIJ <2OZ"]  # the ICE DETAINER line is not a charge


def test_counts_separate_charges_from_convictions(loaded):
    counts = report(loaded)["jurisdictions"][0]["counts"]
    assert counts["by_category"] == {"homicide": 1, "sex_offense_child": 1, "dui": 1, "drug_possession": 1}
    assert list(counts["by_category"]) == ["homicide", "sex_offense_child", "dui", "drug_possession"]
    assert counts["by_category_convicted"] == {"dui": 1, "drug_possession": 1}


def test_policy_is_the_one_in_force_on_the_day(loaded):
    j = report(loaded)["jurisdictions"][0]
    assert j["policy"] == {"stance": "declines", "agreement": "none", "effective_from": "2019-01-01",
                           "effective_to": None, "criteria": "Only with a judicial warrant",
                           "source": "Board minutes 2018-12-10"}
    # Before the change nc-franklin honoured detainers: no declining jurisdiction at all.
    assert report(loaded, as_of="2018-12-31")["jurisdictions"] == []


def test_stance_and_jurisdiction_filters(loaded):
    honors = report(loaded, stances=("honors",))
    assert [j["jurisdiction_id"] for j in honors["jurisdictions"]] == ["oh-franklin"]
    assert honors["jurisdictions"][0]["counts"]["people"] == 1
    asked = report(loaded, jurisdiction_ids=("oh-franklin", "nc-franklin"), as_of="2010-06-01")
    assert [(j["jurisdiction_id"], j["counts"]["people"]) for j in asked["jurisdictions"]] == [
        ("nc-franklin", 0), ("oh-franklin", 0)]


def test_fidelity_is_generated_from_the_data(loaded):
    notes = " ".join(report(loaded)["fidelity"])
    assert "Of 4 charges listed, 2 are pending, 2 convicted, 0 dismissed and 0 of unknown stage" in notes
    assert "1 detainers lodged with these jurisdictions' facilities by 2019-06-01 are not linked" in notes
    assert "1 of the people listed had their detainer lodged before the policy shown took effect" in notes
    assert "Franklin County (NC, OH)" in notes


def test_person_keys_are_stable_and_not_the_ids(loaded):
    a, b = report(loaded), report(loaded)
    keys = [p["person_key"] for p in a["jurisdictions"][0]["people"]]
    assert keys == [p["person_key"] for p in b["jurisdictions"][0]["people"]]
    assert all(k.startswith("P-") and len(k) == 14 for k in keys)
    assert not {"p1", "p2", "p8"} & set(keys)


def test_restricted_audience_carries_identity_and_is_audited(loaded):
    from sqlalchemy import select

    from detainers.store.schema import audit_log

    r = report(loaded, audience="restricted")
    names = {p["name"] for p in r["jurisdictions"][0]["people"]}
    assert names == {NAMES["p1"][0], NAMES["p2"][0], NAMES["p8"][0]}
    with loaded.connect() as conn:
        assert conn.execute(select(audit_log.c.action)).scalars().all() == ["import", "report.restricted"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_public_output_never_carries_identity_fields(loaded, fmt):
    text = render(report(loaded), fmt)
    for name, dob in NAMES.values():
        for part in name.split():
            assert part not in text, (fmt, part)
        assert dob not in text, (fmt, dob)
    for raw_id in ("p1", "p2", "p8", "b1", "b2", "b8"):
        assert f'"{raw_id}"' not in text and f",{raw_id}," not in text and f"| {raw_id} |" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_restricted_output_is_marked(loaded, fmt):
    text = render(report(loaded, audience="restricted"), fmt)
    assert NAMES["p1"][0] in text
    if fmt in ("md", "html"):
        assert "RESTRICTED" in text


def test_formats_agree(loaded):
    r = report(loaded)
    data = json.loads(render(r, "json"))
    assert data["report"] == "non-cooperative" and data["as_of"] == AS_OF and data["audience"] == "public"
    assert data["synthetic"] is False
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert len(rows) == 3 and {row["jurisdiction_id"] for row in rows} == {"nc-franklin"}
    md = render(r, "md")
    assert "## Franklin County, NC (`nc-franklin`)" in md and "**3 people** held" in md
    assert "| sex_offense_child | 1 | 0 |" in md
    html = render(r, "html")
    assert "<h2>Franklin County, NC" in html and "Scope and data fidelity" in html


def test_synthetic_data_is_labelled_in_every_format(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", scenario(), synthetic=True))
    r = report(engine)
    assert r["synthetic"] is True
    for fmt in FORMATS:
        assert "SYNTHETIC" in render(r, fmt), fmt


def test_html_escapes_charge_text(engine, tmp_path):
    files = scenario()
    files["charges.csv"][0]["description"] = "<script>alert(1)</script> AGG SEXUAL ASSLT CHILD"
    import_package(engine, write_package(tmp_path / "pkg", files))
    html = render(report(engine), "html")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    md = render(report(engine), "md")
    assert "<script>" not in md


def test_public_keys_are_the_same_from_run_to_run(db_url, tmp_path):
    """Public reports are built in a read that never commits; the person-key secret is made (and
    committed) when the database is opened, so the pseudonyms do not change between runs."""
    import json

    from typer.testing import CliRunner

    from detainers.cli import app

    runner = CliRunner()
    package = write_package(tmp_path / "pkg", scenario())
    assert runner.invoke(app, ["import", str(package), "--db", db_url]).exit_code == 0
    runs = []
    for n in range(2):
        result = runner.invoke(app, ["report", "non-cooperative", "--as-of", str(AS_OF), "--format", "json",
                                     "--db", db_url])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        runs.append(sorted(p["person_key"] for j in report["jurisdictions"] for p in j["people"]))
    assert runs[0] and runs[0] == runs[1]
