"""The transfers-by-fiscal-year report on a hand-computed package (FY2016 … FY2018).

    id   place  lodged (FY)       ended (FY)        outcome
    t1   NC     2016-09-30 (16)   2016-10-01 (17)   honored
    t2   NC     2016-10-01 (17)   2017-09-30 (17)   honored
    t3   NC     2016-09-15 (16)   2016-09-30 (16)   honored
    t4   NC     2016-10-05 (17)   2016-12-01 (17)   declined
    t5   NC     2017-02-01 (17)   2017-03-01 (17)   transferred (to another custodian: not honored)
    t6   NC     2017-06-01 (17)   —                 in_custody
    t7   NC     2017-10-01 (18)   2017-10-02 (18)   unknown (no release reason)
    t8   NC     2017-11-01 (18)   2017-12-01 (18)   honored (no booking; ICE: "Booked into Detention")
    t9   OH     2016-11-01 (17)   2016-12-01 (17)   honored
    t10  none   2017-01-01 (17)   2017-01-10 (17)   honored
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.reports.render import FORMATS, render
from detainers.reports.transfers import TransfersQuery, build
from tests.pkg import base_places, write_package

NC, OH, NOWHERE = "nc-franklin-jail", "oh-franklin-jail", "unplaced-jail"
NAMES = {"r1": ("Wendeline Parvosk", "1984-01-17"), "r9": ("Casimiro Ulbendt", "1970-06-05")}

ROWS = [  # detainer, person, facility, lodged, released, release_reason
    ("t1", "r1", NC, "2016-09-30", "2016-10-01", "to_ice"),
    ("t2", "r2", NC, "2016-10-01", "2017-09-30", "to_ice"),
    ("t3", "r3", NC, "2016-09-15", "2016-09-30", "to_ice"),
    ("t4", "r4", NC, "2016-10-05", "2016-12-01", "bond"),
    ("t5", "r5", NC, "2017-02-01", "2017-03-01", "to_other_custody"),
    ("t6", "r6", NC, "2017-06-01", None, None),
    ("t7", "r7", NC, "2017-10-01", "2017-10-02", None),
    ("t9", "r9", OH, "2016-11-01", "2016-12-01", "to_ice"),
    ("t10", "r10", NOWHERE, "2017-01-01", "2017-01-10", "to_ice"),
]


def package() -> dict[str, list[dict]]:
    files = base_places()
    files["facilities.csv"].append({"facility_id": NOWHERE, "name": "Old Town Lockup", "kind": "city_jail"})
    people = [r[1] for r in ROWS] + ["r8"]
    files["people.csv"] = [{"person_id": p, "name": NAMES.get(p, (None, None))[0],
                            "date_of_birth": NAMES.get(p, (None, None))[1]} for p in people]
    files["bookings.csv"] = [
        {"booking_id": "k" + d, "person_id": p, "facility_id": f, "booked_on": lodged, "released_on": released,
         "release_reason": reason} for d, p, f, lodged, released, reason in ROWS]
    files["detainers.csv"] = [
        {"detainer_id": d, "person_id": p, "facility_id": f, "lodged_on": lodged, "booking_id": "k" + d}
        for d, p, f, lodged, *_ in ROWS]
    files["detainers.csv"].append({"detainer_id": "t8", "person_id": "r8", "facility_id": NC,
                                   "lodged_on": "2017-11-01", "lifted_on": "2017-12-01",
                                   "lift_reason": "Booked into Detention"})
    return files


@pytest.fixture
def loaded(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", package()))
    return engine


def report(engine, fy_from=2016, fy_to=2018, **kw):
    kw.setdefault("suppress_below", 1)  # these tests check the counting; suppression: tests/test_suppress.py
    with engine.begin() as conn:
        return build(conn, TransfersQuery(fy_from, fy_to, **kw))


KEYS = ("honored_by_lodged", "lodged", "open_of_lodged", "honored_by_ended", "ended", "share_honored")


def table(group: dict) -> dict[int, tuple]:
    return {y["fy"]: tuple(y[k] for k in KEYS) for y in group["years"]}


def test_fiscal_year_boundaries_by_lodged_and_by_ended(loaded):
    groups = report(loaded)["groups"]
    assert [(g["jurisdiction_id"], g["state"]) for g in groups] == [
        ("nc-franklin", "NC"), ("oh-franklin", "OH"), (None, None)]
    #                       hon/lodged lodged open hon/ended ended share
    assert table(groups[0]) == {2016: (2, 2, 0, 1, 1, 1.0),    # t1 lodged 09-30 is FY2016; t3 ended 09-30
                                2017: (1, 4, 1, 2, 4, 0.5),    # t1 ended 10-01 is FY2017
                                2018: (1, 2, 0, 1, 2, 0.5)}
    fy2017 = groups[0]["years"][1]
    assert (fy2017["from"], fy2017["to"]) == ("2016-10-01", "2017-09-30")
    assert fy2017["ended_outcomes"] == {"honored": 2, "declined": 1, "transferred": 1, "lifted": 0,
                                        "cancelled": 0, "unknown": 0}
    assert groups[0]["years"][2]["ended_outcomes"]["unknown"] == 1


def test_same_name_counties_apart_and_unplaced_row(loaded):
    groups = report(loaded)["groups"]
    oh, unplaced = groups[1], groups[2]
    assert oh["name"] == "Franklin County"
    assert table(oh) == {2016: (0, 0, 0, 0, 0, None), 2017: (1, 1, 0, 1, 1, 1.0), 2018: (0, 0, 0, 0, 0, None)}
    assert unplaced["name"].startswith("unplaced")
    assert table(unplaced)[2017] == (1, 1, 0, 1, 1, 1.0)


def test_totals_and_policies(loaded):
    r = report(loaded)
    assert [(t["fy"], t["honored_by_lodged"], t["lodged"], t["honored_by_ended"], t["ended"], t["share_honored"])
            for t in r["totals"]] == [(2016, 2, 2, 1, 1, 1.0), (2017, 3, 6, 4, 6, 0.6667), (2018, 1, 2, 1, 2, 0.5)]
    nc = r["groups"][0]
    assert [(p["stance"], p["effective_from"]) for p in nc["policies"]] == [("honors", "2010-01-01")]
    later = report(loaded, 2018, 2019)["groups"][0]
    assert [(p["stance"], p["effective_from"], p["effective_to"]) for p in later["policies"]] == [
        ("honors", "2010-01-01", "2019-01-01"), ("declines", "2019-01-01", None)]


def test_by_region(loaded):
    r = report(loaded, by="region", region="Triangle")
    assert [g["region"] for g in r["groups"]] == ["Triangle"]
    assert table(r["groups"][0]) == table(report(loaded)["groups"][0])
    assert r["totals"] == []
    everywhere = report(loaded, by="region")["groups"]
    assert [g["name"] for g in everywhere] == ["Triangle", "(in no region)"]
    assert table(everywhere[1])[2017] == (2, 2, 0, 2, 2, 1.0)  # Ohio and the unplaced jail


def test_jurisdiction_filter(loaded):
    r = report(loaded, jurisdiction_ids=("oh-franklin",))
    assert [g["jurisdiction_id"] for g in r["groups"]] == ["oh-franklin"]
    assert r["totals"][1]["ended"] == 1


def test_fidelity_is_generated_from_the_data(loaded):
    notes = " ".join(report(loaded)["fidelity"])
    assert "Of 9 detainers that ended in these years, 1 (11.1%) have an unknown outcome" in notes
    assert "1 detainers lodged in these years had not ended" in notes
    assert "1 detainers lodged in these years are linked to no jail booking" in notes
    assert "1 facilities have no jurisdiction assigned" in notes
    assert "Franklin County (NC, OH)" in notes


def test_bad_parameters_are_input_errors(loaded):
    with pytest.raises(InputError, match="swap them"):
        report(loaded, 2018, 2016)
    with pytest.raises(InputError, match="Group by one of"):
        report(loaded, by="state")


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_identity_fields_in_any_format(loaded, fmt):
    text = render(report(loaded), fmt)
    for name, dob in NAMES.values():
        assert name.split()[0] not in text and dob not in text, fmt


def test_formats_agree(loaded):
    r = report(loaded)
    data = json.loads(render(r, "json"))
    assert data["report"] == "transfers" and data["period"] == {
        "from": "2015-10-01", "to": "2018-09-30", "fy_from": 2016, "fy_to": 2018}
    assert data["audience"] == "public" and data["synthetic"] is False
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert len(rows) == 9
    nc17 = next(row for row in rows if row["jurisdiction_id"] == "nc-franklin" and row["fy"] == "2017")
    assert (nc17["honored_by_ended"], nc17["ended"], nc17["share_honored"], nc17["transferred_ended"]) == (
        "2", "4", "0.5", "1")
    md = render(r, "md")
    assert "## Franklin County, NC (nc-franklin)" in md and "## Franklin County, OH (oh-franklin)" in md
    assert "by jurisdiction · audience: public · 2 jurisdictions + unplaced" in md
    assert "| FY2017 | 1 | 4 | 1 | 2 | 4 | 50.0% | 1 | 1 | 0 | 0 | 0 |" in md
    html = render(r, "html")
    assert "Franklin County, NC (nc-franklin)" in html and "<td>FY2017</td>" in html
    assert "Scope and data fidelity" in html


def test_synthetic_data_is_labelled_in_every_format(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", package(), synthetic=True))
    r = report(engine)
    for fmt in FORMATS:
        assert "SYNTHETIC" in render(r, fmt), fmt
