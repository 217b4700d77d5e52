"""The re-arrest report on a hand-computed package.

Period 2019-01-01 … 2019-03-31, followed for 100 days. nc-franklin declines
detainers from 2019-01-01; oh-franklin (same name, other state) honours them.
The last booking in the data (ICE detention left aside) begins 2019-06-01, so a
person released after 2019-02-21 is censored (window end after 2019-06-01).

    person  release (detainer)           group               later bookings (day after release)      status
    P1      NC 2019-01-10 declined (d1)  main                NC 02-01 (22; has d1b), OH 03-01 (50)    re-booked, 22 days (the first)
            NC 2019-02-20 declined (d1b) main                — second release of P1: not counted again
    P2      NC 2019-01-20 declined       main                NC 04-30 (100, the window's last day)   re-booked, 100
    P3      NC 2019-02-01 declined       main                NC 05-13 (101)                          not re-booked
    P4      NC 2019-03-20 declined       main                NC 04-01 (12)                           censored (window ends 06-28)
    P5      OH 2019-02-10 declined       main, (b)           OH 03-12 (30)                           re-booked, 30
    P6      OH 2019-01-05 declined       main, (b)           NC 06-01 (147, after the window)        not re-booked
    bk7     NC 2019-02-15 declined       main                — (jail-report style: id = booking id)  not linkable
    P8      NC 2019-01-25 declined       main                OH 01-25 (0: same day, not after)       not re-booked
    P18     NC 2019-02-21 declined       main                — (window ends 06-01 = data end)        not re-booked
    P9      NC 2019-01-15 transferred    none                NC 02-15                                (not a decline)
    P10     NC lifted 01-30, released 02-05 bond     (a)     NC 03-07 (30), no charges               re-booked, 30
    P11     NC lifted 03-01, released 03-02 to other custody  none (not released to the community)
    P12     NC cancelled 01-03, released 01-04       (a)     —                                       not re-booked
    P16     NC lifted 01-08, released 01-09, no reason  none (counted in the fidelity section)
    P17     NC released 02-02, no reason: unknown     none (counted in the fidelity section)
    P13     OH 2019-01-12 honored        (c)                 ICE detention 01-13 (custody, not an arrest), OH 03-15 (62)  re-booked, 62
    P14     NC 2019-02-01 honored        (c)                 ICE detention 06-30 (not an arrest, and not the data end)    not re-booked

    group      released  not linkable  censored  followed  re-booked  share  Wilson 95%       median days
    main       9         1             1         7         3          3/7    0.1582–0.7495    30 (22, 30, 100)
    (a)        2         0             0         2         1          1/2    0.0945–0.9055    30
    (b)        2         0             0         2         1          1/2    0.0945–0.9055    30
    (c)        2         0             0         2         1          1/2    0.0945–0.9055    62

Charges on the first later booking, main group: P1 assault (pending) + dui (dismissed) — the ICE DETAINER line
is not a charge; P2 theft_fraud (pending); P5 burglary (pending).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.reports.rearrest import RearrestQuery, _not_linkable, build
from detainers.reports.render import FORMATS, render
from detainers.store.schema import audit_log
from tests.pkg import base_places, write_package

NC, OH, ICE = "nc-franklin-jail", "oh-franklin-jail", "ice-processing"
FROM, TO = "2019-01-01", "2019-03-31"

# Invented names that must never reach a public output.
NAMES = {
    "P1": ("Corvin Ashgrove-Tal", "1984-02-17"),
    "P2": ("Lisandra Pelloquin", "1991-07-05"),
    "P5": ("Batuhan Orrisdale", "1977-09-23"),
    "P13": ("Wenonah Strakovic", "1988-01-30"),
}

# (booking, person, facility, booked, released, release_reason)
BOOKINGS = [
    ("b1", "P1", NC, "2019-01-02", "2019-01-10", "bond"),
    ("b1b", "P1", NC, "2019-02-01", "2019-02-20", "bond"),
    ("b1c", "P1", OH, "2019-03-01", "2019-03-02", "bond"),
    ("b2", "P2", NC, "2019-01-05", "2019-01-20", "dismissed"),
    ("b2b", "P2", NC, "2019-04-30", "2019-05-02", "bond"),
    ("b3", "P3", NC, "2019-01-15", "2019-02-01", "bond"),
    ("b3b", "P3", NC, "2019-05-13", "2019-05-14", "bond"),
    ("b4", "P4", NC, "2019-03-01", "2019-03-20", "bond"),
    ("b4b", "P4", NC, "2019-04-01", "2019-04-02", "bond"),
    ("b5", "P5", OH, "2019-02-01", "2019-02-10", "bond"),
    ("b5b", "P5", OH, "2019-03-12", "2019-03-20", "bond"),
    ("b6", "P6", OH, "2018-12-20", "2019-01-05", "recognizance"),
    ("b6b", "P6", NC, "2019-06-01", None, None),
    ("bk7", "bk7", NC, "2019-02-01", "2019-02-15", "bond"),
    ("b8", "P8", NC, "2019-01-10", "2019-01-25", "bond"),
    ("b8b", "P8", OH, "2019-01-25", "2019-01-26", "bond"),
    ("b18", "P18", NC, "2019-02-10", "2019-02-21", "sentence_served"),
    ("b9", "P9", NC, "2019-01-02", "2019-01-15", "to_other_custody"),
    ("b9b", "P9", NC, "2019-02-15", "2019-02-16", "bond"),
    ("b10", "P10", NC, "2019-01-20", "2019-02-05", "bond"),
    ("b10b", "P10", NC, "2019-03-07", "2019-03-08", "bond"),
    ("b11", "P11", NC, "2019-02-20", "2019-03-02", "to_other_custody"),
    ("b12", "P12", NC, "2019-01-01", "2019-01-04", "recognizance"),
    ("b16", "P16", NC, "2019-01-02", "2019-01-09", None),
    ("b17", "P17", NC, "2019-01-20", "2019-02-02", None),
    ("b13", "P13", OH, "2019-01-01", "2019-01-12", "to_ice"),
    ("b13i", "P13", ICE, "2019-01-13", "2019-02-01", "other_release"),
    ("b13b", "P13", OH, "2019-03-15", None, None),
    ("b14", "P14", NC, "2019-01-20", "2019-02-01", "to_ice"),
    ("b14i", "P14", ICE, "2019-06-30", None, None),
]

# (detainer, person, facility, lodged, booking, lifted_on, lift_reason)
DETAINERS = [
    ("d1", "P1", NC, "2019-01-03", "b1", None, None),
    ("d1b", "P1", NC, "2019-02-02", "b1b", None, None),
    ("d2", "P2", NC, "2019-01-06", "b2", None, None),
    ("d3", "P3", NC, "2019-01-16", "b3", None, None),
    ("d4", "P4", NC, "2019-03-02", "b4", None, None),
    ("d5", "P5", OH, "2019-02-02", "b5", None, None),
    ("d6", "P6", OH, "2018-12-21", "b6", None, None),
    ("d7", "bk7", NC, "2019-02-01", "bk7", None, None),
    ("d8", "P8", NC, "2019-01-11", "b8", None, None),
    ("d18", "P18", NC, "2019-02-11", "b18", None, None),
    ("d9", "P9", NC, "2019-01-03", "b9", None, None),
    ("l1", "P10", NC, "2019-01-21", "b10", "2019-01-30", "Lifted"),
    ("l2", "P11", NC, "2019-02-21", "b11", "2019-03-01", "Lifted"),
    ("l3", "P12", NC, "2019-01-02", "b12", "2019-01-03", "United States Citizen Interviewed"),
    ("l4", "P16", NC, "2019-01-03", "b16", "2019-01-08", "Lifted"),
    ("u1", "P17", NC, "2019-01-21", "b17", None, None),
    ("h1", "P13", OH, "2019-01-02", "b13", None, None),
    ("h2", "P14", NC, "2019-01-21", "b14", None, None),
]

CHARGES = [
    ("c1", "b1b", "ICE DETAINER", "immigration", "pending"),
    ("c2", "b1b", "ASSAULT CAUSES BODILY INJURY", "assault", "pending"),
    ("c3", "b1b", "DWI", "dui", "dismissed"),
    ("c4", "b2b", "THEFT", "theft_fraud", "pending"),
    ("c5", "b5b", "=BURGLARY OF HABITATION", "burglary", "pending"),
    ("c6", "b13b", "UNLAWFUL CARRYING WEAPON", "weapons", "pending"),
    ("c7", "b1", "POSS MARIJ <2OZ", "drug_possession", "convicted"),  # the release booking: not a new charge
]


def package() -> dict[str, list[dict]]:
    files = base_places()
    files["facilities.csv"].append({"facility_id": ICE, "name": "ICE Processing Center", "kind": "ice_detention"})
    people = dict.fromkeys(b[1] for b in BOOKINGS)
    files["people.csv"] = [{"person_id": p, "citizenship": "El Salvador", "name": NAMES.get(p, (None, None))[0],
                            "date_of_birth": NAMES.get(p, (None, None))[1]} for p in people]
    files["bookings.csv"] = [{"booking_id": b, "person_id": p, "facility_id": f, "booked_on": booked,
                              "released_on": released, "release_reason": reason}
                             for b, p, f, booked, released, reason in BOOKINGS]
    files["detainers.csv"] = [{"detainer_id": d, "person_id": p, "facility_id": f, "lodged_on": lodged,
                               "booking_id": b, "lifted_on": lifted, "lift_reason": why}
                              for d, p, f, lodged, b, lifted, why in DETAINERS]
    files["charges.csv"] = [{"charge_id": c, "booking_id": b, "description": text, "category": cat, "stage": stage,
                             **({"code": "4200"} if text == "ICE DETAINER" else {})}
                            for c, b, text, cat, stage in CHARGES]
    return files


@pytest.fixture
def loaded(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", package()))
    return engine


def report(engine, date_from=FROM, date_to=TO, **kw):
    kw.setdefault("follow_days", 100)
    kw.setdefault("suppress_below", 1)  # these tests check the counting; suppression: tests at the end
    q = RearrestQuery(date.fromisoformat(date_from), date.fromisoformat(date_to), **kw)
    with engine.begin() as conn:
        return build(conn, q)


SUMMARY = ("released", "not_linkable", "censored", "followed", "rebooked", "share", "low", "high", "median_days")


def groups(r: dict) -> dict[str, tuple]:
    return {g["group"]: tuple(g[k] for k in SUMMARY) for g in r["groups"]}


def test_groups_hand_computed(loaded):
    r = report(loaded)
    assert r["data_through"] == "2019-06-01"  # ICE detention on 06-30 is custody, not a booking that counts
    assert [g["group"] for g in r["groups"]] == ["declined", "lifted_released", "declined_under_honors", "honored"]
    assert groups(r) == {
        #                          rel nl  cen fol reb share   low     high    median
        "declined":               (9,  1,  1,  7,  3,  0.4286, 0.1582, 0.7495, 30),
        "lifted_released":        (2,  0,  0,  2,  1,  0.5,    0.0945, 0.9055, 30),
        "declined_under_honors":  (2,  0,  0,  2,  1,  0.5,    0.0945, 0.9055, 30),
        "honored":                (2,  0,  0,  2,  1,  0.5,    0.0945, 0.9055, 62),
    }
    main = r["groups"][0]
    assert main["not_linkable_by_reason"] == {"one_person_per_booking": 1, "ice_records_only": 0}
    assert (main["min_days"], main["max_days"]) == (22, 100)
    assert "too few to say much" in main["note"]


def status_of(r: dict, group: str = "declined") -> dict[str, tuple]:
    return {p["released_on"]: (p["status"], p["days_to_rebooking"], p["bookings_in_window"])
            for p in r["people"] if p["group"] == group}


def test_each_person_follow_up(loaded):
    r = report(loaded)
    assert status_of(r) == {
        "2019-01-05": ("not_rebooked", None, 0),   # P6: booked again only after the window
        "2019-01-10": ("rebooked", 22, 2),         # P1: booked twice; the first counts
        "2019-01-20": ("rebooked", 100, 1),        # P2: on the window's last day
        "2019-01-25": ("not_rebooked", None, 0),   # P8: booked on the release day itself, not after it
        "2019-02-01": ("not_rebooked", None, 0),   # P3: one day past the window
        "2019-02-10": ("rebooked", 30, 1),         # P5
        "2019-02-15": ("not_linkable", None, 0),   # bk7: one person per booking
        "2019-02-21": ("not_rebooked", None, 0),   # P18: the window ends on the data's last day: followed
        "2019-03-20": ("censored", None, 0),       # P4: re-booked, but the window runs past the data
    }
    p1 = next(p for p in r["people"] if p["released_on"] == "2019-01-10")
    assert (p1["rebooked_on"], p1["rebooking_facility_id"], p1["rebooking_jurisdiction_id"]) == (
        "2019-02-01", NC, "nc-franklin")
    assert [(c["category"], c["stage"]) for c in p1["charges"]] == [("assault", "pending"), ("dui", "dismissed")]
    assert p1["most_serious_category"] == "assault"
    # one person, one row per group: P1's second release (2019-02-20) is not counted again
    assert len([p for p in r["people"] if p["group"] == "declined"]) == 9


def test_transfers_and_unknowns_are_in_no_group(loaded):
    r = report(loaded)
    assert all(p["released_on"] not in ("2019-01-15", "2019-03-02", "2019-02-02", "2019-01-09") for p in r["people"])
    assert status_of(r, "lifted_released") == {"2019-01-04": ("not_rebooked", None, 0),
                                               "2019-02-05": ("rebooked", 30, 1)}
    assert status_of(r, "honored") == {"2019-01-12": ("rebooked", 62, 1), "2019-02-01": ("not_rebooked", None, 0)}
    s = r["scope"]
    assert (s["people"], s["not_linkable"], s["lifted_release_unknown"], s["ended_unknown"]) == (13, 1, 1, 1)
    notes = " ".join(r["fidelity"])
    assert "`transferred`" in notes and "1 lifted or cancelled detainers" in notes
    assert "1 detainers ended in the period with an unknown outcome" in notes


def test_group_b_is_declines_under_an_honouring_policy(loaded):
    r = report(loaded)
    b = [p for p in r["people"] if p["group"] == "declined_under_honors"]
    assert {(p["jurisdiction_id"], p["policy_stance"]) for p in b} == {("oh-franklin", "honors")}
    main = [p for p in r["people"] if p["group"] == "declined"]
    assert {p["person_key"] for p in b} <= {p["person_key"] for p in main}
    assert {p["policy_stance"] for p in main} == {"honors", "declines"}


def test_new_charges_by_category_and_stage(loaded):
    r = report(loaded)
    main, lifted, _, honored = r["groups"]
    assert [(c["category"], c["people"], c["charges"], c["pending"], c["convicted"], c["dismissed"])
            for c in main["new_charges"]] == [
        ("assault", 1, 1, 1, 0, 0), ("burglary", 1, 1, 1, 0, 0), ("theft_fraud", 1, 1, 1, 0, 0),
        ("dui", 1, 1, 0, 0, 1)]
    assert main["no_charges_recorded"] == 0
    assert lifted["new_charges"] == [] and lifted["no_charges_recorded"] == 1
    assert [c["category"] for c in honored["new_charges"]] == ["weapons"]
    md = render(r, "md")
    assert "people charged with" in md and "convicted of" not in md


def test_follow_up_length_and_censoring_move_together(loaded):
    # 30 days: nobody censored; P1 (22), P5 (30, the last day) and P4 (12, no longer censored) re-booked
    r = report(loaded, follow_days=30)
    assert groups(r)["declined"][:5] == (9, 1, 0, 8, 3)
    # 200 days: everyone released after 2018-11-13 runs past 2019-06-01
    r = report(loaded, follow_days=200)
    assert groups(r)["declined"][:5] == (9, 1, 8, 0, 0)
    assert r["groups"][0]["share"] is None and "Nobody in this group" in r["groups"][0]["note"]


def test_bad_input(loaded):
    with pytest.raises(InputError, match="swap FROM and TO"):
        report(loaded, TO, FROM)
    with pytest.raises(InputError, match="at least 1 day"):
        report(loaded, follow_days=0)


def test_people_from_ice_releases_are_not_linkable(loaded):
    row = SimpleNamespace(person_id="lesa:123", person_source_kind="ice-lesa")
    with loaded.connect() as conn:
        assert _not_linkable(conn, {"declined": [row]}, ["lesa:123"]) == {"lesa:123": "ice_records_only"}


def test_restricted_audience_carries_identity_and_is_audited(loaded):
    r = report(loaded, audience="restricted")
    p1 = next(p for p in r["people"] if p["released_on"] == "2019-01-10")
    assert (p1["person_id"], p1["name"], p1["date_of_birth"], p1["booking_id"], p1["rebooking_id"]) == (
        "P1", NAMES["P1"][0], NAMES["P1"][1], "b1", "b1b")
    with loaded.connect() as conn:
        entries = conn.execute(select(audit_log.c.action, audit_log.c.detail).order_by(audit_log.c.entry_id)).all()
    assert [e.action for e in entries] == ["import", "report.restricted"]
    assert json.loads(entries[1].detail) == {"report": "rearrest", "from": FROM, "to": TO, "people": 13}
    public = report(loaded)
    assert not {"person_id", "name", "date_of_birth", "booking_id", "rebooking_id"} & set(public["people"][0])


@pytest.mark.parametrize("fmt", FORMATS)
def test_public_output_never_carries_identity_fields(loaded, fmt):
    text = render(report(loaded), fmt)
    for name, dob in NAMES.values():
        for part in name.split():
            assert part not in text, (fmt, part)
        assert dob not in text, (fmt, dob)
    for raw_id in ("P1", "P13", "b1b", "bk7"):
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
    assert list(data)[:8] == ["report", "title", "period", "audience", "synthetic", "data_label", "parameters",
                              "definitions"]
    assert {"groups", "people", "sources", "fidelity", "generated_by", "data_through"} <= set(data)
    assert data["report"] == "rearrest" and data["period"] == {"from": FROM, "to": TO}
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert len(rows) == 9 + 2 + 2 + 2
    assert [row["status"] for row in rows if row["group"] == "declined"].count("rebooked") == 3
    assert next(row for row in rows if row["released_on"] == "2019-02-10")["charges"].startswith("'=BURGLARY")
    md = render(r, "md")
    # shares and bounds are stored rounded to 4 places (0.7495) and shown to one decimal
    assert ("| Released despite a detainer | 9 | 1 | 1 | 7 | 3 | 42.9% (15.8%–75.0%) | 30 |") in md
    assert "### Released despite a detainer (9)" in md and "### (c) Handed to ICE (detainer honoured) (2)" in md
    assert "| not re-booked |" in md and "| re-booked | 2019-02-01 | 22 |" in md
    html = render(r, "html")
    assert "42.9% (15.8%–75.0%)" in html and "Scope and data fidelity" in html and "censored" in html


def test_fidelity_says_what_cannot_be_seen(loaded):
    notes = " ".join(report(loaded)["fidelity"])
    assert "The last booking in the data began on 2019-06-01" in notes
    assert "censored (1 in declined, 0 in lifted_released, 0 in declined_under_honors, 0 in honored)" in notes
    assert "1 of the 13 people released cannot be followed" in notes and "gives each booking its own" in notes
    assert "linked only when the sources share ids" in notes
    assert "lower bound" in notes and "not a conviction" in notes
    assert "Franklin County (NC, OH)" in notes


def test_synthetic_data_is_labelled_in_every_format(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", package(), synthetic=True))
    r = report(engine)
    for fmt in FORMATS:
        assert "SYNTHETIC" in render(r, fmt), fmt
    assert all(row["data_label"] == "SYNTHETIC" for row in csv.DictReader(io.StringIO(render(r, "csv"))))



# ---------------------------------------------------------------- suppression and manifest

def test_public_report_suppresses_small_counts_and_their_complements(loaded):
    from detainers.reports import suppress

    raw, r = report(loaded), report(loaded, suppress_below=None)  # the default threshold, 5
    main = r["groups"][0]
    # released 9 = not linkable 1 + censored 1 + followed 7: the two small ones are "<5", and `followed` is
    # withheld too, or 9 − 7 would give not_linkable + censored = 2 and so both (each at least 1).
    assert (main["released"], main["not_linkable"], main["censored"], main["followed"]) == (9, "<5", "<5",
                                                                                            "suppressed")
    assert main["rebooked"] == "<5" and main["share"] is main["low"] is main["high"] is main["median_days"] is None
    assert "groups.0.followed" in r["suppression"]["complementary"]
    assert "groups.0.share" in r["suppression"]["rates_withheld"] and "too small to publish" in main["note"]
    assert all(c[k] in ("<5", 0) for c in main["new_charges"] for k in ("people", "charges", "pending"))
    # no suppressed cell can be worked out along the lines the report declares
    marks = {p: suppress.PRIMARY if str(shown_at(r, p)).startswith("<") else suppress.COMPLEMENTARY
             for p in r["suppression"]["cells"]}
    values = {p: shown_at(raw, p) for p in marks}
    for gi, g in enumerate(raw["groups"]):
        p = f"groups.{gi}"
        values.update({f"{p}.{k}": g[k] for k in ("released", "not_linkable", "censored", "followed")})
        line = suppress.Line((f"{p}.not_linkable", f"{p}.censored", f"{p}.followed"), f"{p}.released")
        for cell, (lo, hi) in suppress.ranges(line, values, marks, 5).items():
            if gi == 0:  # the other groups: every non-zero cell is small (the known limit)
                assert lo < hi, (cell, lo, hi)
    # every format renders the markers, and no share, interval or median of the main group is given away
    md = render(r, "md")
    assert "| Released despite a detainer | 9 | &lt;5 | &lt;5 | suppressed | &lt;5 | withheld | — |" in md
    assert "Only 7 people" not in md and "42.9%" not in md
    html = render(r, "html")
    assert "&lt;5" in html and "withheld" in html and "42.9%" not in html
    assert "Small cells are suppressed" in " ".join(r["fidelity"])
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert len(rows) == 15  # the list of people is row-level and not suppressed (the fidelity section says so)


def shown_at(r: dict, path: str):
    from detainers.reports.paths import get

    return get(r, path)


def test_restricted_report_is_not_suppressed(loaded):
    r = report(loaded, audience="restricted", suppress_below=None)
    assert r["suppression"]["applied"] is False and r["suppression"]["cells"] == []
    assert groups(r)["declined"][:5] == (9, 1, 1, 7, 3)
    assert "Small cells are suppressed" not in " ".join(r["fidelity"])


@pytest.mark.parametrize("audience", ["public", "restricted"])
def test_rebuild_from_the_manifest_gives_the_same_report(loaded, audience):
    from detainers.reports import manifest

    r = report(loaded, audience=audience, suppress_below=None)
    recorded = json.loads(render(r, "json"))["manifest"]
    assert recorded["report"] == "rearrest" and recorded["parameters"]["suppress_below"] == 5
    assert recorded["parameters"]["date_from"] == FROM and recorded["parameters"]["follow_days"] == 100
    assert manifest.rebuild(loaded, recorded) == r
