"""The declined-detainer report on a hand-computed package.

Period 2018-10-01 … 2019-03-31. nc-franklin honoured detainers until 2018-12-31
and declines them from 2019-01-01, so it gets two rows; oh-franklin (same name,
other state) honours them throughout; one jail has no jurisdiction.

    id   place  lodged      ended       outcome      counted where
    a1   NC     2018-06-01  2018-11-15  declined     NC row 1 (lodged before the period)
    a2   NC     2018-12-01  2019-01-10  declined     NC row 2 (issued in row 1)
    a3   NC     2019-01-05  2019-02-01  transferred  NC row 2 (not a decline)
    a4   NC     2018-10-10  2018-12-31  honored      NC row 1 (last day of the old policy)
    a5   NC     2019-02-01  2019-04-01  declined     after the period: issued + still open in row 2
    a6   NC     2019-01-15  2019-03-01  unknown      NC row 2 (release with no reason)
    a7   NC     2018-09-01  —           in_custody   still open at the end of both rows
    a8   NC     2019-02-10  —           unknown      no booking: issued, end unknown in row 2
    a9   NC     2019-01-20  2019-02-20  lifted       NC row 2
    a10  NC     2018-09-15  2018-09-30  declined     before the period: nowhere
    a11  NC     2019-03-20  2019-03-31  declined     NC row 2 (last day of the period)
    a12  NC     2019-03-20  2019-03-31  declined     likely duplicate of a11: counted, flagged
    o1   OH     2019-01-02  2019-02-02  declined     OH row
    o2   OH     2018-11-01  2018-11-20  honored      OH row
    u1   none   2019-01-03  2019-01-20  declined     unplaced row
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import select

from detainers.analytics.declined import Interval, split_period
from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.reports.declined import DeclinedQuery, build
from detainers.reports.render import FORMATS, render
from detainers.store.schema import audit_log
from tests.pkg import base_places, write_package

NC, OH, NOWHERE = "nc-franklin-jail", "oh-franklin-jail", "unplaced-jail"
FROM, TO = "2018-10-01", "2019-03-31"

# Invented names that must never reach a public output.
NAMES = {
    "pa1": ("Quorrin Delvasto", "1983-03-14"),
    "pa2": ("Marisela Oberlunt", "1990-08-21"),
    "pa11": ("Tavish Kronmeyer", "1979-12-02"),
    "po1": ("Ilsabet Frandorq", "1986-05-27"),
    "pu1": ("Odalric Szemvery", "1994-10-09"),
}

# (detainer, person, facility, lodged, booked, released, release_reason, booking?)
ROWS = [
    ("a1", "pa1", NC, "2018-06-01", "2018-05-30", "2018-11-15", "bond", True),
    ("a2", "pa2", NC, "2018-12-01", "2018-11-30", "2019-01-10", "bond", True),
    ("a3", "pa3", NC, "2019-01-05", "2019-01-04", "2019-02-01", "to_other_custody", True),
    ("a4", "pa4", NC, "2018-10-10", "2018-10-09", "2018-12-31", "to_ice", True),
    ("a5", "pa5", NC, "2019-02-01", "2019-01-31", "2019-04-01", "bond", True),
    ("a6", "pa6", NC, "2019-01-15", "2019-01-14", "2019-03-01", None, True),
    ("a7", "pa7", NC, "2018-09-01", "2018-08-31", None, None, True),
    ("a8", "pa8", NC, "2019-02-10", None, None, None, False),
    ("a9", "pa9", NC, "2019-01-20", "2019-01-19", "2019-05-01", "bond", True),
    ("a10", "pa10", NC, "2018-09-15", "2018-09-14", "2018-09-30", "bond", True),
    ("a11", "pa11", NC, "2019-03-20", "2019-03-19", "2019-03-31", "dismissed", True),
    ("o1", "po1", OH, "2019-01-02", "2019-01-01", "2019-02-02", "bond", True),
    ("o2", "po2", OH, "2018-11-01", "2018-10-31", "2018-11-20", "to_ice", True),
    ("u1", "pu1", NOWHERE, "2019-01-03", "2019-01-02", "2019-01-20", "recognizance", True),
]


def package() -> dict[str, list[dict]]:
    files = base_places()
    files["facilities.csv"].append({"facility_id": NOWHERE, "name": "Old Town Lockup", "kind": "city_jail"})
    files["people.csv"] = [
        {"person_id": pid, "citizenship": "Mexico" if pid != "po1" else "Honduras",
         "name": NAMES.get(pid, (None, None))[0], "date_of_birth": NAMES.get(pid, (None, None))[1]}
        for pid in dict.fromkeys(r[1] for r in ROWS)]
    files["bookings.csv"] = [
        {"booking_id": "b" + d, "person_id": p, "facility_id": f, "booked_on": booked, "released_on": released,
         "release_reason": reason}
        for d, p, f, _, booked, released, reason, has_booking in ROWS if has_booking]
    files["detainers.csv"] = [
        {"detainer_id": d, "person_id": p, "facility_id": f, "lodged_on": lodged,
         "booking_id": "b" + d if has_booking else None}
        for d, p, f, lodged, *_, has_booking in ROWS]
    # a9: lifted by ICE while the person was still held
    next(r for r in files["detainers.csv"] if r["detainer_id"] == "a9").update(
        lifted_on="2019-02-20", lift_reason="Lifted")
    # a12: the same person, jail and day as a11 (a likely duplicate)
    files["detainers.csv"].append({"detainer_id": "a12", "person_id": "pa11", "facility_id": NC,
                                   "lodged_on": "2019-03-20", "booking_id": "ba11"})
    files["charges.csv"] = [
        {"charge_id": "c1", "booking_id": "ba1", "description": "ICE DETAINER", "code": "4200"},
        {"charge_id": "c2", "booking_id": "ba1", "description": "DWI", "stage": "convicted"},
        {"charge_id": "c3", "booking_id": "ba1", "description": "POSS MARIJ <2OZ", "stage": "pending"},
        {"charge_id": "c4", "booking_id": "ba11", "description": "=HYPERLINK(\"x\") MURDER", "stage": "pending"},
    ]
    return files


@pytest.fixture
def loaded(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", package()))
    return engine


def report(engine, date_from=FROM, date_to=TO, **kw):
    kw.setdefault("suppress_below", 1)  # these tests check the counting; suppression: tests/test_suppress.py
    q = DeclinedQuery(date.fromisoformat(date_from), date.fromisoformat(date_to), **kw)
    with engine.begin() as conn:
        return build(conn, q)


COUNTS = ("issued", "honored", "declined", "transferred", "lifted", "cancelled", "unknown", "ended", "decided",
          "decline_rate", "still_open", "end_unknown")


def counts(row: dict) -> tuple:
    return tuple(row[k] for k in COUNTS)


def test_policy_change_splits_the_jurisdiction(loaded):
    rows = report(loaded)["jurisdictions"]
    assert [(r["jurisdiction_id"], r["period_from"], r["period_to"], r["policy_stance"]) for r in rows] == [
        ("nc-franklin", "2018-10-01", "2018-12-31", "honors"),
        ("nc-franklin", "2019-01-01", "2019-03-31", "declines"),
        ("oh-franklin", "2018-10-01", "2019-03-31", "honors"),
        (None, "2018-10-01", "2019-03-31", None),
    ]
    old, new = rows[0], rows[1]
    assert (old["policy_from"], old["policy_to"], old["policy_agreement"], old["split"]) == (
        "2010-01-01", "2019-01-01", "287g-jem", True)
    assert (new["policy_from"], new["policy_to"]) == ("2019-01-01", None)
    #                     issued hon dec tra lif can unk end dcd rate   open end_unknown
    assert counts(old) == (2,    1,  1,  0,  0,  0,  0,  2,  2,  0.5,   2,   0)
    assert counts(new) == (7,    0,  3,  1,  1,  0,  1,  6,  4,  0.75,  2,   1)


def test_same_name_counties_and_the_unplaced_row(loaded):
    rows = report(loaded)["jurisdictions"]
    oh, unplaced = rows[2], rows[3]
    assert (oh["name"], oh["state"], oh["split"]) == ("Franklin County", "OH", False)
    assert counts(oh) == (2, 1, 1, 0, 0, 0, 0, 2, 2, 0.5, 0, 0)
    assert unplaced["name"].startswith("unplaced") and unplaced["state"] is None
    assert counts(unplaced) == (1, 0, 1, 0, 0, 0, 0, 1, 1, 1.0, 0, 0)


def test_totals_and_what_is_not_counted(loaded):
    t = report(loaded)["totals"]
    # a5 (declined after the period) and a10 (before it) are in no declined count
    assert (t["issued"], t["honored"], t["declined"], t["transferred"], t["lifted"], t["unknown"]) == (
        12, 2, 6, 1, 1, 1)
    assert (t["ended"], t["decided"], t["decline_rate"]) == (11, 9, 0.6667)
    assert (t["jurisdictions"], t["rows"], t["declined_listed"]) == (2, 4, 6)


def test_declined_detainers_are_listed_with_charges(loaded):
    r = report(loaded)
    listed = r["declined"]
    assert [(d["jurisdiction_id"], d["lodged_on"], d["released_on"], d["policy_stance"]) for d in listed] == [
        ("nc-franklin", "2018-06-01", "2018-11-15", "honors"),
        ("nc-franklin", "2018-12-01", "2019-01-10", "declines"),
        ("nc-franklin", "2019-03-20", "2019-03-31", "declines"),
        ("nc-franklin", "2019-03-20", "2019-03-31", "declines"),
        ("oh-franklin", "2019-01-02", "2019-02-02", "honors"),
        (None, "2019-01-03", "2019-01-20", None),
    ]
    a1 = listed[0]
    assert (a1["release_reason"], a1["facility_id"], a1["citizenship"]) == ("bond", NC, "Mexico")
    assert [(c["description"], c["category"], c["stage"]) for c in a1["charges"]] == [
        ("DWI", "dui", "convicted"), ("POSS MARIJ <2OZ", "drug_possession", "pending")]  # no ICE DETAINER line
    assert a1["most_serious_category"] == "dui" and a1["charges_from"] == "booking"
    assert [d["likely_duplicate"] for d in listed] == [False, False, False, True, False, False]
    assert listed[2]["person_key"] == listed[3]["person_key"]  # one person, two detainers
    assert all(d["person_key"].startswith("P-") for d in listed)
    assert not {"person_id", "name", "date_of_birth", "detainer_id", "booking_id"} & set(a1)


def test_policy_table(loaded):
    policies = report(loaded)["policies"]
    assert [(p["jurisdiction_id"], p["effective_from"], p["effective_to"], p["stance"], p["agreement"])
            for p in policies] == [
        ("nc-franklin", "2010-01-01", "2019-01-01", "honors", "287g-jem"),
        ("nc-franklin", "2019-01-01", None, "declines", "none"),
        ("oh-franklin", "2010-01-01", None, "honors", "none"),
    ]
    assert policies[1]["criteria"] == "Only with a judicial warrant"
    assert policies[1]["source"] == "Board minutes 2018-12-10" and policies[1]["origin"] == "package"


def test_fidelity_is_generated_from_the_data(loaded):
    r = report(loaded)
    assert r["scope"] == {"detainers": 13, "ended": 11, "ended_unknown": 1, "unknown_no_end": 1, "unknown": 2,
                          "without_booking": 1, "duplicates": 1, "unplaced": 1, "lifted_without_date": 0}
    notes = " ".join(r["fidelity"])
    assert "Of the 11 that ended, 1 (9.1%) have an unknown outcome" in notes
    assert "13 detainers were lodged or ended in the period" in notes
    assert "2 (15.4%) have an unknown outcome" in notes
    assert "1 detainers are flagged as likely duplicates" in notes
    assert "1 facilities have no jurisdiction assigned; 1 detainers there" in notes
    assert "Policy changed inside the period for: Franklin County, NC." in notes
    assert "Franklin County (NC, OH)" in notes
    assert "re-arrest" in notes


def test_jurisdiction_filter_leaves_out_others_and_unplaced(loaded):
    r = report(loaded, jurisdiction_ids=("oh-franklin",))
    assert [row["jurisdiction_id"] for row in r["jurisdictions"]] == ["oh-franklin"]
    assert [d["jurisdiction_id"] for d in r["declined"]] == ["oh-franklin"]
    assert [p["jurisdiction_id"] for p in r["policies"]] == ["oh-franklin"]
    assert r["scope"]["detainers"] == 2
    # a jurisdiction asked for by name is listed even when nothing happened there
    quiet = report(loaded, "2015-01-01", "2015-12-31", jurisdiction_ids=("nc-franklin",))
    assert [counts(row) for row in quiet["jurisdictions"]] == [(0, 0, 0, 0, 0, 0, 0, 0, 0, None, 0, 0)]


def test_period_boundaries(loaded):
    # one day, the first of the new policy: nothing ended; a2 and a7 were open, a4 ended the day before
    day = report(loaded, "2019-01-01", "2019-01-01", jurisdiction_ids=("nc-franklin",))["jurisdictions"]
    assert [(row["policy_stance"], row["ended"], row["still_open"]) for row in day] == [("declines", 0, 2)]
    # a5 declined on 2019-04-01 counts once the period reaches that day
    later = report(loaded, "2019-04-01", "2019-04-30")
    assert [d["lodged_on"] for d in later["declined"]] == ["2019-02-01"]


def test_bad_period_is_an_input_error(loaded):
    with pytest.raises(InputError, match="swap FROM and TO"):
        report(loaded, "2019-03-31", "2018-10-01")


def test_split_period_fills_gaps_without_policy():
    class P:
        def __init__(self, start, end, stance):
            self.effective_from = date.fromisoformat(start)
            self.effective_to = date.fromisoformat(end) if end else None
            self.stance = stance

    a, b = P("2019-02-01", "2019-03-01", "honors"), P("2019-04-01", None, "declines")
    parts = split_period(date(2019, 1, 1), date(2019, 4, 30), [b, a])
    assert [(p.first.isoformat(), p.last.isoformat(), p.policy.stance if p.policy else None) for p in parts] == [
        ("2019-01-01", "2019-01-31", None), ("2019-02-01", "2019-02-28", "honors"),
        ("2019-03-01", "2019-03-31", None), ("2019-04-01", "2019-04-30", "declines")]
    assert split_period(date(2019, 1, 1), date(2019, 1, 5), []) == [Interval(date(2019, 1, 1), date(2019, 1, 5), None)]


def test_restricted_audience_carries_identity_and_is_audited(loaded):
    r = report(loaded, audience="restricted")
    a1 = r["declined"][0]
    assert (a1["person_id"], a1["name"], a1["date_of_birth"], a1["detainer_id"], a1["booking_id"]) == (
        "pa1", NAMES["pa1"][0], NAMES["pa1"][1], "a1", "ba1")
    with loaded.connect() as conn:
        entries = conn.execute(select(audit_log.c.action, audit_log.c.detail).order_by(audit_log.c.entry_id)).all()
    assert [e.action for e in entries] == ["import", "report.restricted"]
    assert json.loads(entries[1].detail) == {"report": "declined", "from": FROM, "to": TO, "detainers": 6}


@pytest.mark.parametrize("fmt", FORMATS)
def test_public_output_never_carries_identity_fields(loaded, fmt):
    text = render(report(loaded), fmt)
    for name, dob in NAMES.values():
        for part in name.split():
            assert part not in text, (fmt, part)
        assert dob not in text, (fmt, dob)
    for raw_id in ("pa1", "pa11", "po1", "ba1", "a11"):
        assert f'"{raw_id}"' not in text and f",{raw_id}," not in text and f"| {raw_id} |" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_restricted_output_carries_identity_and_is_marked(loaded, fmt):
    text = render(report(loaded, audience="restricted"), fmt)
    for name, dob in NAMES.values():
        assert name in text and dob in text, (fmt, name)
    if fmt in ("md", "html"):
        assert "RESTRICTED" in text


def test_formats_agree(loaded):
    r = report(loaded)
    data = json.loads(render(r, "json"))
    assert data["report"] == "declined" and data["period"] == {"from": FROM, "to": TO}
    assert data["audience"] == "public" and data["synthetic"] is False
    assert [row["decline_rate"] for row in data["jurisdictions"]] == [0.5, 0.75, 0.5, 1.0]
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert len(rows) == 6 and [row["jurisdiction_id"] for row in rows].count("nc-franklin") == 4
    assert rows[0]["data_label"] == "" and rows[0]["policy_stance_at_release"] == "honors"
    assert rows[2]["charges"].startswith("'=HYPERLINK")  # neutralised against spreadsheet formulas
    assert [row["likely_duplicate"] for row in rows] == ["no", "no", "no", "yes", "no", "no"]
    md = render(r, "md")
    assert ("| Franklin County, NC (nc-franklin) | declines since 2019-01-01 | 2019-01-01 – 2019-03-31 "
            "| 7 | 6 | 0 | 3 | 1 | 1 | 0 | 1 | 4 | 75.0% | 2 | 1 |") in md
    assert "75.0%" in md and "## II. Declined detainers (6)" in md and "## III. Policies" in md
    html = render(r, "html")
    assert "I. Outcomes by jurisdiction" in html and "Scope and data fidelity" in html
    assert "75.0%" in html and "Franklin County, OH (oh-franklin)" in html


def test_synthetic_data_is_labelled_in_every_format(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", package(), synthetic=True))
    r = report(engine)
    assert r["synthetic"] is True
    for fmt in FORMATS:
        assert "SYNTHETIC" in render(r, fmt), fmt
    assert all(row["data_label"] == "SYNTHETIC" for row in csv.DictReader(io.StringIO(render(r, "csv"))))


def test_html_escapes_source_text(engine, tmp_path):
    files = package()
    files["charges.csv"][1]["description"] = "<script>alert(1)</script> DWI"
    import_package(engine, write_package(tmp_path / "pkg", files))
    r = report(engine)
    html = render(r, "html")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<script>" not in render(r, "md")
