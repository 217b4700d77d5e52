"""The policy-change report on a hand-computed package, and the interval formulas against published values.

nc-franklin honoured detainers (287(g)) until 2018-12-31 and declines them from
2019-01-01. Change date 2019-01-01, windows of 90 days:
before = 2018-10-03 … 2018-12-31, after = 2019-01-01 … 2019-03-31.

    id   lodged      ended       outcome      window
    n1   2018-09-20  2018-10-03  declined     before (its first day; lodged before the window)
    n2   2018-10-05  2018-11-15  honored      before
    n3   2018-12-01  2018-12-31  honored      before (its last day)
    n4   2018-11-01  2018-12-10  transferred  before (not a decline)
    n5   2018-09-01  2018-10-02  declined     nowhere (the day before the window)
    n6   2018-12-01  2019-01-05  declined     after (lodged before the change: counted when it ended)
    n7   2019-01-10  2019-02-01  declined     after
    n8   2019-03-01  2019-03-31  declined     after (its last day)
    n9   2019-01-20  2019-02-10  honored      after
    n10  2019-02-01  2019-02-15  unknown      after (release with no reason: in no share)
    n11  2019-02-05  2019-03-01  lifted       after (lifted while held; released 2019-04-10)
    n12  2019-03-10  2019-04-01  declined     nowhere (after the window); open at its end
    n13  2019-03-01  —           in_custody   open at the end of the after window
    o1   2019-01-02  2019-01-10  declined     Franklin County, OH: same name, other state — not counted

    window  lodged  hon dec tra lif can unk  ended decided  open at end
    before  4       2   1   1   0   0   0    4     4        1 (n6)
    after   7       1   3   0   1   0   1    6     4        2 (n12, n13)

Decline share before 1/4 = 25%, Wilson 95% 0.0456–0.6994; after 3/4 = 75%, 0.3006–0.9544.
Difference 0.5; Newcombe: 0.5 − √((.75−.3006)² + (.6994−.25)²) = −0.1355,
                          0.5 + √((.9544−.75)² + (.25−.0456)²) = 0.7891.
"""

from __future__ import annotations

import csv
import io
import json
from collections import namedtuple
from datetime import date

import pytest

from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.reports.policy_change import (
    PolicyChangeQuery,
    _compare,
    _window,
    add_months,
    build,
    newcombe_interval,
    wilson_interval,
    windows,
)
from detainers.reports.render import FORMATS, render
from tests.pkg import base_places, write_package

NC, OH = "nc-franklin-jail", "oh-franklin-jail"

NAMES = {"pn1": ("Evander Quillfeather", "1981-04-09"), "pn7": ("Rosalind Marchetti-Vow", "1992-11-30")}

# (detainer, facility, lodged, booked, released, release_reason)
ROWS = [
    ("n1", NC, "2018-09-20", "2018-09-19", "2018-10-03", "bond"),
    ("n2", NC, "2018-10-05", "2018-10-04", "2018-11-15", "to_ice"),
    ("n3", NC, "2018-12-01", "2018-11-30", "2018-12-31", "to_ice"),
    ("n4", NC, "2018-11-01", "2018-10-31", "2018-12-10", "to_other_custody"),
    ("n5", NC, "2018-09-01", "2018-08-31", "2018-10-02", "bond"),
    ("n6", NC, "2018-12-01", "2018-11-30", "2019-01-05", "bond"),
    ("n7", NC, "2019-01-10", "2019-01-09", "2019-02-01", "bond"),
    ("n8", NC, "2019-03-01", "2019-02-28", "2019-03-31", "dismissed"),
    ("n9", NC, "2019-01-20", "2019-01-19", "2019-02-10", "to_ice"),
    ("n10", NC, "2019-02-01", "2019-01-31", "2019-02-15", None),
    ("n11", NC, "2019-02-05", "2019-02-04", "2019-04-10", "bond"),
    ("n12", NC, "2019-03-10", "2019-03-09", "2019-04-01", "bond"),
    ("n13", NC, "2019-03-01", "2019-02-28", None, None),
    ("o1", OH, "2019-01-02", "2019-01-01", "2019-01-10", "bond"),
]


def package() -> dict[str, list[dict]]:
    files = base_places()
    files["people.csv"] = [{"person_id": "p" + d, "citizenship": "Guatemala",
                            "name": NAMES.get("p" + d, (None, None))[0],
                            "date_of_birth": NAMES.get("p" + d, (None, None))[1]} for d, *_ in ROWS]
    files["bookings.csv"] = [{"booking_id": "b" + d, "person_id": "p" + d, "facility_id": f, "booked_on": booked,
                              "released_on": released, "release_reason": reason}
                             for d, f, _, booked, released, reason in ROWS]
    files["detainers.csv"] = [{"detainer_id": d, "person_id": "p" + d, "facility_id": f, "lodged_on": lodged,
                               "booking_id": "b" + d} for d, f, lodged, *_ in ROWS]
    next(r for r in files["detainers.csv"] if r["detainer_id"] == "n11").update(
        lifted_on="2019-03-01", lift_reason="Lifted")
    return files


@pytest.fixture
def loaded(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", package()))
    return engine


def report(engine, change="2019-01-01", **kw):
    kw.setdefault("window_days", 90)
    kw.setdefault("suppress_below", 1)  # these tests check the counting; suppression: tests at the end
    q = PolicyChangeQuery("nc-franklin", date.fromisoformat(change), **kw)
    with engine.begin() as conn:
        return build(conn, q)


WINDOW = ("from", "to", "days", "lodged", "honored", "declined", "transferred", "lifted", "cancelled", "unknown",
          "ended", "decided", "open_at_end")


# ---------------------------------------------------------------- the formulas

def test_wilson_against_known_values():
    # Wilson 95% for 8/10 is 0.490–0.943; 0/10 is 0–0.278; 81/263 is 0.2553–0.3662 (Newcombe 1998a)
    assert [round(x, 3) for x in wilson_interval(8, 10)] == [0.490, 0.943]
    assert [round(x, 3) for x in wilson_interval(0, 10)] == [0.0, 0.278]
    assert [round(x, 3) for x in wilson_interval(10, 10)] == [0.722, 1.0]
    assert [round(x, 4) for x in wilson_interval(81, 263)] == [0.2553, 0.3662]
    assert [round(x, 4) for x in wilson_interval(1, 4)] == [0.0456, 0.6994]
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_newcombe_against_published_values():
    # Newcombe (1998b), Statistics in Medicine 17:873, table II, method 10
    cases = {(56, 70, 48, 80): (0.2, 0.0524, 0.3339), (9, 10, 3, 10): (0.6, 0.1705, 0.8090),
             (6, 7, 2, 7): (0.5714, 0.0582, 0.8062), (5, 56, 0, 29): (0.0893, -0.0381, 0.1926)}
    for (x1, n1, x2, n2), expected in cases.items():
        assert tuple(round(v, 4) for v in newcombe_interval(x1, n1, x2, n2)) == expected
    assert newcombe_interval(1, 4, 0, 0) is None


def test_windows_are_equal_and_half_open():
    q = PolicyChangeQuery("x", date(2019, 1, 1), window_days=90)
    assert windows(q) == ((date(2018, 10, 3), date(2018, 12, 31)), (date(2019, 1, 1), date(2019, 3, 31)))
    q = PolicyChangeQuery("x", date(2019, 1, 15), window_months=1)
    assert windows(q) == ((date(2018, 12, 15), date(2019, 1, 14)), (date(2019, 1, 15), date(2019, 2, 14)))
    assert add_months(date(2019, 3, 31), -1) == date(2019, 2, 28)
    assert add_months(date(2019, 11, 30), 3) == date(2020, 2, 29)
    with pytest.raises(InputError):
        windows(PolicyChangeQuery("x", date(2019, 1, 1), window_days=0))


# ---------------------------------------------------------------- the report

def test_counts_by_end_date_in_each_window(loaded):
    r = report(loaded)
    before, after = r["windows"]
    #                                                             lod hon dec tra lif can unk end dcd open
    assert tuple(before[k] for k in WINDOW) == ("2018-10-03", "2018-12-31", 90, 4, 2, 1, 1, 0, 0, 0, 4, 4, 1)
    assert tuple(after[k] for k in WINDOW) == ("2019-01-01", "2019-03-31", 90, 7, 1, 3, 0, 1, 0, 1, 6, 4, 2)
    assert r["jurisdiction"] == {"jurisdiction_id": "nc-franklin", "name": "Franklin County", "state": "NC"}


def test_shares_with_wilson_intervals_and_the_difference(loaded):
    r = report(loaded)
    before, after = r["windows"]
    assert before["shares"]["declined"] == {"count": 1, "share": 0.25, "low": 0.0456, "high": 0.6994}
    assert after["shares"]["declined"] == {"count": 3, "share": 0.75, "low": 0.3006, "high": 0.9544}
    assert before["shares"]["honored"] == {"count": 2, "share": 0.5, "low": 0.15, "high": 0.85}
    assert before["shares"]["transferred"]["share"] == 0.25  # a transfer is a decision, not a decline
    c = r["comparison"]
    assert (c["difference"], c["low"], c["high"]) == (0.5, -0.1355, 0.7891)
    assert c["enough_data"] is False and c["intervals_overlap"] is True
    assert "Fewer than 30 detainers were decided in the before (4) and after (4) windows" in c["verdict"]
    assert "too few to say" in c["verdict"]


def test_verdicts_in_plain_words():
    Row = namedtuple("Row", "ended_on outcome n")
    day = date(2019, 1, 1)

    def window(name, declined, honored):
        rows = [Row(day, "declined", declined), Row(day, "honored", honored)]
        return _window(name, day, day, rows, [], [])

    apart = _compare(window("before", 40, 60), window("after", 60, 40))
    assert (apart["difference"], apart["low"], apart["high"]) == (0.2, 0.0614, 0.3281)
    assert "excludes zero: the decline share was higher after" in apart["verdict"]
    assert "does not by itself show that the policy caused" in apart["verdict"]
    close = _compare(window("before", 45, 55), window("after", 50, 50))
    assert close["low"] < 0 < close["high"]
    assert "the data cannot tell these apart" in close["verdict"]
    empty = _compare(window("before", 0, 0), window("after", 3, 1))
    assert empty["difference"] is None and "nothing to compare" in empty["verdict"]


def test_monthly_series_by_end_date(loaded):
    r = report(loaded)
    found = {(m["month"], m["window"], m["outcome"]): m["count"] for m in r["monthly"] if m["count"]}
    assert found == {
        ("2018-10", "before", "declined"): 1,       # n1 (n5 on 10-02 is outside)
        ("2018-11", "before", "honored"): 1,        # n2
        ("2018-12", "before", "honored"): 1,        # n3
        ("2018-12", "before", "transferred"): 1,    # n4
        ("2019-01", "after", "declined"): 1,        # n6
        ("2019-02", "after", "declined"): 1,        # n7
        ("2019-02", "after", "honored"): 1,         # n9
        ("2019-02", "after", "unknown"): 1,         # n10
        ("2019-03", "after", "declined"): 1,        # n8
        ("2019-03", "after", "lifted"): 1,          # n11
    }
    assert len(r["monthly"]) == 6 * 6  # six month segments, six outcomes each (zeros included)
    assert r["monthly"][0]["from"] == "2018-10-03"
    # the monthly series adds up to the window counts
    for w in r["windows"]:
        assert sum(m["count"] for m in r["monthly"] if m["window"] == w["window"]) == w["ended"]


def test_policies_in_force_and_the_recorded_change(loaded):
    r = report(loaded)
    before, after = r["windows"]
    assert [(p["stance"], p["agreement"]) for p in before["policies"]] == [("honors", "287g-jem")]
    assert [(p["stance"], p["from"], p["to"]) for p in after["policies"]] == [("declines", "2019-01-01", "2019-03-31")]
    assert before["one_policy"] and after["one_policy"]
    rc = r["recorded_change"]
    assert (rc["on"], rc["days_from_date_given"], rc["from_policy"]["stance"], rc["to_policy"]["stance"]) == (
        "2019-01-01", 0, "honors", "declines")
    notes = " ".join(r["fidelity"])
    assert "Policy in force in the before window: honors (2018-10-03 to 2018-12-31)." in notes
    assert "not a recorded policy change" not in notes
    assert "Franklin County (NC, OH)" in notes


def test_month_windows_cut_a_month_and_warn_about_a_date_off_the_change(loaded):
    r = report(loaded, "2019-01-15", window_months=1)
    before, after = r["windows"]
    # before 2018-12-15 … 2019-01-14: n3 honored, n6 declined; after 2019-01-15 … 2019-02-14: n7 declined, n9 honored
    assert (before["from"], before["to"], before["honored"], before["declined"]) == ("2018-12-15", "2019-01-14", 1, 1)
    assert (after["from"], after["to"], after["honored"], after["declined"]) == ("2019-01-15", "2019-02-14", 1, 1)
    assert r["parameters"]["window_months"] == 1 and r["parameters"]["window_days"] is None
    segments = sorted({(m["month"], m["window"], m["from"], m["to"]) for m in r["monthly"]})
    assert segments == [("2018-12", "before", "2018-12-15", "2018-12-31"),
                        ("2019-01", "after", "2019-01-15", "2019-01-31"),
                        ("2019-01", "before", "2019-01-01", "2019-01-14"),
                        ("2019-02", "after", "2019-02-01", "2019-02-14")]
    assert [p["stance"] for p in before["policies"]] == ["honors", "declines"] and not before["one_policy"]
    assert r["recorded_change"]["days_from_date_given"] == -14
    notes = " ".join(r["fidelity"])
    assert "is not a recorded policy change" in notes and "14 days before it" in notes
    assert "not under a single policy" in notes


def test_same_name_county_is_apart(loaded):
    q = PolicyChangeQuery("oh-franklin", date(2019, 1, 1), window_days=90, suppress_below=1)
    with loaded.begin() as conn:
        r = build(conn, q)
    assert r["windows"][1]["declined"] == 1 and r["windows"][1]["ended"] == 1  # o1 only
    assert r["recorded_change"] is None
    assert "No change of policy is recorded for oh-franklin" in " ".join(r["fidelity"])


def test_unknown_jurisdiction_is_an_input_error(loaded):
    with pytest.raises(InputError, match="No jurisdiction has the id 'franklin'"):
        with loaded.begin() as conn:
            build(conn, PolicyChangeQuery("franklin", date(2019, 1, 1)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_outputs_carry_no_identity_fields(loaded, fmt):
    text = render(report(loaded), fmt)
    for name, dob in NAMES.values():
        for part in name.split():
            assert part not in text, (fmt, part)
        assert dob not in text
    assert '"pn1"' not in text and ",pn1," not in text


def test_formats_agree(loaded):
    r = report(loaded)
    data = json.loads(render(r, "json"))
    assert list(data)[:11] == ["report", "title", "period", "audience", "synthetic", "data_label", "parameters",
                               "definitions", "jurisdiction", "recorded_change", "windows"]
    assert {"sources", "fidelity", "generated_by", "monthly", "comparison", "policies"} <= set(data)
    assert data["report"] == "policy-change" and data["period"] == {
        "from": "2018-10-03", "to": "2019-03-31", "change_date": "2019-01-01"}
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert len(rows) == 36 and rows[0]["data_label"] == "" and rows[0]["jurisdiction_id"] == "nc-franklin"
    assert sum(int(x["count"]) for x in rows if x["outcome"] == "declined") == 4
    md = render(r, "md")
    assert "| before | 4 | 50.0% (15.0%–85.0%) | 25.0% (4.6%–69.9%) | 25.0% (4.6%–69.9%) |" in md
    assert "**+50.0 points** (95% interval -13.6 to +78.9" in md
    assert "(95% interval -13.6 points to +78.9 points)" in md  # the verdict shows the same numbers
    assert "## What the data say" in md and "too few to say" in md and "## III. Month by month" in md
    html = render(r, "html")
    assert "75.0% (30.1%–95.4%)" in html and "Scope and data fidelity" in html and "too few to say" in html


def test_synthetic_data_is_labelled_in_every_format(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", package(), synthetic=True))
    r = report(engine)
    for fmt in FORMATS:
        assert "SYNTHETIC" in render(r, fmt), fmt
    assert all(row["data_label"] == "SYNTHETIC" for row in csv.DictReader(io.StringIO(render(r, "csv"))))



# ---------------------------------------------------------------- suppression and manifest

def shown_at(r: dict, path: str):
    from detainers.reports.paths import get

    return get(r, path)


def window_lines(wi: int):
    from detainers.reports import suppress

    p = f"windows.{wi}"
    outcomes = ("honored", "declined", "transferred", "lifted", "cancelled", "unknown")
    return [suppress.Line(tuple(f"{p}.{o}" for o in outcomes), f"{p}.ended"),
            suppress.Line(tuple(f"{p}.{o}" for o in ("honored", "declined", "transferred")), f"{p}.decided"),
            suppress.Line(tuple(f"{p}.{o}" for o in ("decided", "lifted", "cancelled", "unknown")), f"{p}.ended")]


def test_public_report_suppresses_small_counts_and_their_complements(loaded):
    from detainers.reports import suppress

    raw, r = report(loaded), report(loaded, suppress_below=3)
    after = r["windows"][1]
    # after: honored 1 + declined 3 + lifted 1 + unknown 1 = ended 6. The three ones are "<3"; with declined and
    # ended shown, 6 − 3 = 3 would pin each of them to 1, so declined, ended and decided are withheld too.
    assert tuple(raw["windows"][1][k] for k in ("honored", "declined", "lifted", "unknown", "ended", "decided")) == (
        1, 3, 1, 1, 6, 4)
    assert tuple(after[k] for k in ("honored", "declined", "lifted", "unknown", "ended", "decided")) == (
        "<3", "suppressed", "<3", "<3", "suppressed", "suppressed")
    assert after["transferred"] == 0 and after["lodged"] == 7 and after["shares"]["declined"]["count"] == "suppressed"
    assert {"windows.1.declined", "windows.1.ended", "windows.1.decided"} <= set(r["suppression"]["complementary"])
    marks = {p: suppress.PRIMARY if str(shown_at(r, p)).startswith("<") else suppress.COMPLEMENTARY
             for p in r["suppression"]["cells"]}
    for wi in (0, 1):
        for line in window_lines(wi):
            values = {c: shown_at(raw, c) for c in line.cells}
            for cell, (lo, hi) in suppress.ranges(line, values, marks, 3).items():
                assert lo < hi, (cell, lo, hi)
    # the monthly series: small months suppressed, and the months of one outcome do not give its window count back
    assert all(m["count"] in (0, "<3") or isinstance(m["count"], int) and m["count"] >= 3 for m in r["monthly"])
    assert sum(1 for m in r["monthly"] if m["count"] == "<3") == sum(1 for m in raw["monthly"] if 0 < m["count"] < 3)
    # shares, intervals and the comparison from suppressed counts are withheld, with a note
    for w in r["windows"]:
        for s in w["shares"].values():
            assert s["share"] is s["low"] is s["high"] is None and s["note"].startswith("withheld")
    c = r["comparison"]
    assert c["difference"] is c["low"] is c["high"] is c["decline_share_after"] is c["enough_data"] is None
    assert "too small to publish" in c["verdict"]
    assert "3 of 4" not in c["verdict"] and "of 4 decided" not in c["verdict"]
    md = render(r, "md")
    assert "| after | suppressed | withheld | withheld | withheld |" in md and "points**" not in md
    assert ("| after (2019-01-01 – 2019-03-31) | 90 | declines (2019-01-01 – 2019-03-31) | 7 | &lt;3 | suppressed |"
            in md)
    html = render(r, "html")
    assert "&lt;3" in html and "withheld" in html and "too small to publish" in html
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert {x["count"] for x in rows} <= {"0", "<3", "3", "4", "5", "6"} and "<3" in {x["count"] for x in rows}
    notes = " ".join(r["fidelity"])
    assert "Small cells are suppressed" in notes and "1 of 6" not in notes


def test_restricted_report_is_not_suppressed(loaded):
    r = report(loaded, audience="restricted", suppress_below=None)
    assert r["suppression"]["applied"] is False and r["suppression"]["cells"] == []
    assert r["windows"][1]["declined"] == 3 and r["comparison"]["difference"] is not None
    assert "Small cells are suppressed" not in " ".join(r["fidelity"])


@pytest.mark.parametrize("audience", ["public", "restricted"])
def test_rebuild_from_the_manifest_gives_the_same_report(loaded, audience):
    from detainers.reports import manifest

    r = report(loaded, audience=audience, suppress_below=None)
    recorded = json.loads(render(r, "json"))["manifest"]
    assert recorded["report"] == "policy-change" and recorded["parameters"]["suppress_below"] == 5
    assert recorded["parameters"]["change_date"] == "2019-01-01" and recorded["parameters"]["window_days"] == 90
    assert manifest.rebuild(loaded, recorded) == r
