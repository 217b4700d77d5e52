"""The synthetic demo package: read straight from its CSV files, without the importer.

The facts (25 held in Wake on 2019-11-01, 11 of them charged with a sexual offence
against a child; 691 honored in Raleigh-Durham in FY2017) are recomputed here from
the rows by an independent reading of the lifecycle rules (DESIGN §4).
"""

from __future__ import annotations

import csv
import tomllib
from collections import Counter, defaultdict
from dataclasses import FrozenInstanceError
from datetime import date
from pathlib import Path

import pytest

from detainers.demo import SYNTHETIC_NOTE, DemoFacts, write_demo_package

AS_OF = "2019-11-01"
FY2017 = ("2016-10-01", "2017-09-30")
WAKE_JAIL = "nc-wake-jail"

# DESIGN §5, in order.
HEADERS = {
    "jurisdictions.csv": ["jurisdiction_id", "name", "state", "kind", "fips", "ori", "aor"],
    "policies.csv": ["jurisdiction_id", "effective_from", "effective_to", "stance", "agreement",
                     "criteria", "source"],
    "facilities.csv": ["facility_id", "name", "jurisdiction_id", "kind", "city", "state"],
    "people.csv": ["person_id", "birth_year", "sex", "citizenship", "name", "date_of_birth"],
    "bookings.csv": ["booking_id", "person_id", "facility_id", "booked_on", "released_on",
                     "release_reason"],
    "charges.csv": ["charge_id", "booking_id", "description", "code", "level", "stage", "category"],
    "detainers.csv": ["detainer_id", "person_id", "facility_id", "lodged_on", "booking_id", "form",
                      "lifted_on", "lift_reason", "outcome"],
    "regions.csv": ["region", "jurisdiction_id"],
}
CHILD_SEX = {
    "INDECENT LIBERTIES WITH CHILD", "STAT SEX OFFENSE W/CHILD <=15",
    "FIRST DEGREE SEX OFFENSE WITH CHILD", "STATUTORY RAPE OF CHILD <=15",
    "AGG SEXUAL ASSLT CHILD", "SEX ASSAULT - CHILD", "POSS CHILD PORNOGRAPHY",
}
CANCEL_REASONS = {"Wrong Person", "United States Citizen Interviewed"}
RELEASE_OUTCOME = {"to_ice": "honored", "to_other_custody": "transferred", "bond": "declined",
                   "sentence_served": "declined", "dismissed": "declined",
                   "recognizance": "declined", "other_release": "declined"}


class Package:
    """The rows of one written package, with the joins the tests need."""

    def __init__(self, directory: Path, facts: DemoFacts) -> None:
        self.dir, self.facts = directory, facts
        self.tables = {name: read_rows(directory / name) for name in HEADERS}
        self.bookings = {b["booking_id"]: b for b in self["bookings.csv"]}
        self.facilities = {f["facility_id"]: f for f in self["facilities.csv"]}
        self.by_person_facility = defaultdict(list)
        for b in self["bookings.csv"]:
            self.by_person_facility[b["person_id"], b["facility_id"]].append(b)
        self.charges = defaultdict(list)
        for c in self["charges.csv"]:
            self.charges[c["booking_id"]].append(c)

    def __getitem__(self, name: str) -> list[dict[str, str]]:
        return self.tables[name]

    def booking_of(self, d: dict[str, str]) -> dict[str, str] | None:
        """The booking a detainer is on: by id, else the one at that facility holding lodged_on."""
        if d["booking_id"]:
            return self.bookings[d["booking_id"]]
        found = [b for b in self.by_person_facility[d["person_id"], d["facility_id"]]
                 if b["booked_on"] <= d["lodged_on"] and (not b["released_on"]
                                                          or d["lodged_on"] <= b["released_on"])]
        assert len(found) <= 1, d
        return found[0] if found else None

    def jurisdiction_of(self, d: dict[str, str]) -> str:
        return self.facilities[d["facility_id"]]["jurisdiction_id"]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def derive(d: dict[str, str], booking: dict[str, str] | None) -> tuple[str, str]:
    """(outcome, end date) by DESIGN §4, written independently of detainers.outcomes."""
    released = booking["released_on"] if booking else ""
    if d["lifted_on"] and booking and (not released or d["lifted_on"] <= released):
        return ("cancelled" if d["lift_reason"] in CANCEL_REASONS else "lifted"), d["lifted_on"]
    if booking and released:
        return RELEASE_OUTCOME[booking["release_reason"]], released
    if booking:
        return "in_custody", ""
    return "unknown", ""


def held_on(pkg: Package, day: str, facility: str) -> dict[str, dict[str, str]]:
    """person_id -> booking, for people held at `facility` on `day` with an active detainer."""
    held = {}
    for d in pkg["detainers.csv"]:
        if d["facility_id"] != facility or d["lodged_on"] > day:
            continue
        if d["lifted_on"] and d["lifted_on"] <= day:
            continue
        b = pkg.booking_of(d)
        if b and b["booked_on"] <= day and (not b["released_on"] or b["released_on"] > day):
            held[d["person_id"]] = b
    return held


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Package:
    directory = tmp_path_factory.mktemp("demo")
    return Package(directory, write_demo_package(directory))


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> Package:
    directory = tmp_path_factory.mktemp("scaled")
    return Package(directory, write_demo_package(directory, scale=2000))


@pytest.fixture(params=["demo", "scaled"])
def pkg(request) -> Package:
    return request.getfixturevalue(request.param)


# --- format -------------------------------------------------------------------------------

def test_headers_are_the_design_columns(pkg):
    for name, expected in HEADERS.items():
        with (pkg.dir / name).open(encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == expected, name


def test_package_toml_labels_the_data_synthetic(demo):
    meta = tomllib.loads((demo.dir / "package.toml").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True
    assert meta["generated_by"] == "detainers demo"
    assert meta["seed"] == 20191101
    assert meta["title"] and "SYNTHETIC" in meta["description"]
    assert "SYNTHETIC" in SYNTHETIC_NOTE and demo.facts.note == SYNTHETIC_NOTE


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_demo_package(a, scale=300)
    write_demo_package(b, scale=300)
    write_demo_package(c, seed=7, scale=300)
    names = [*HEADERS, "package.toml"]
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert (a / "people.csv").read_bytes() != (c / "people.csv").read_bytes()
    assert (a / "detainers.csv").read_bytes() != (c / "detainers.csv").read_bytes()


def test_facts_match_rows_written(pkg):
    facts = pkg.facts
    assert facts.synthetic and facts.as_of == date(2019, 11, 1)
    assert facts.wake_jurisdiction_id == "nc-wake" and facts.region == "Raleigh-Durham"
    assert {n: len(rows) for n, rows in pkg.tables.items()} == facts.rows
    with pytest.raises(FrozenInstanceError):
        facts.wake_held = 0  # type: ignore[misc]
    assert "SYNTHETIC" in facts.lines()[0]


# --- the two public facts -------------------------------------------------------------------

def test_wake_holds_25_people_11_charged_with_child_sex_offences(pkg):
    held = held_on(pkg, AS_OF, WAKE_JAIL)
    assert len(held) == pkg.facts.wake_held == 25
    child = [p for p, b in held.items()
             if any(c["description"] in CHILD_SEX for c in pkg.charges[b["booking_id"]])]
    assert len(child) == pkg.facts.wake_held_child_sex == 11
    # Charges are not convictions: 3 of the 11 convicted of the child-sex charge, 8 pending.
    stages = Counter(next(c["stage"] for c in pkg.charges[held[p]["booking_id"]]
                          if c["description"] in CHILD_SEX) for p in child)
    assert stages == {"convicted": 3, "pending": 8}
    # Some were lodged while Wake still honoured detainers under 287(g).
    lodged = {d["person_id"]: d["lodged_on"] for d in pkg["detainers.csv"] if d["person_id"] in held}
    assert sum(day < "2018-12-03" for day in lodged.values()) >= 5


def test_wake_edge_cases_are_not_counted(demo):
    held = held_on(demo, AS_OF, WAKE_JAIL)
    detainers = {d["person_id"]: d for d in demo["detainers.csv"]}
    expect = {
        "p-wake-edge-released-asof": ("declined", AS_OF),
        "p-wake-edge-lifted-in-custody": ("lifted", "2019-10-15"),
        "p-wake-edge-cancelled": ("cancelled", "2019-08-20"),
        "p-wake-edge-lodged-after": ("in_custody", ""),
        "p-wake-edge-bond-2019": ("declined", "2019-04-19"),
        "p-wake-edge-honored-2018": ("honored", "2018-10-10"),
        "p-wake-edge-honored-last-day": ("honored", "2018-12-02"),
        "p-wake-edge-lodged-287g-declined": ("declined", "2018-12-20"),
        "p-wake-edge-transferred": ("transferred", "2019-08-15"),
    }
    for person, outcome in expect.items():
        d = detainers[person]
        assert derive(d, demo.booking_of(d)) == outcome, person
        assert person not in held, person
    # Re-arrested after a declined release: in the jail on as_of, but with no detainer.
    open_bookings = [b for b in demo.by_person_facility["p-wake-edge-bond-2019", WAKE_JAIL]
                     if not b["released_on"]]
    assert len(open_bookings) == 1 and open_bookings[0]["booked_on"] < AS_OF
    # Variations that still count: lodged on as_of, released the day after, lifted later.
    for n in ("25", "24", "23", "09", "17"):
        assert f"p-wake-held-{n}" in held
    assert sum(d["person_id"] == "p-wake-held-05" for d in demo["detainers.csv"]) == 2


def fy2017_outcomes(pkg: Package, region: str) -> Counter:
    members = {r["jurisdiction_id"] for r in pkg["regions.csv"] if r["region"] == region}
    counts = Counter()
    for d in pkg["detainers.csv"]:
        if pkg.jurisdiction_of(d) in members:
            outcome, end = derive(d, pkg.booking_of(d))
            if FY2017[0] <= end <= FY2017[1]:
                counts[outcome] += 1
    return counts


def test_raleigh_durham_honored_691_in_fy2017(pkg):
    counts = fy2017_outcomes(pkg, "Raleigh-Durham")
    assert counts["honored"] == pkg.facts.region_fy2017_honored == 691
    # Not the only number: the same year also has declines, transfers and lifts.
    assert counts["declined"] > 50 and counts["transferred"] > 10 and counts["lifted"] > 10
    assert fy2017_outcomes(pkg, "Charlotte")["honored"] > 0


def test_two_franklin_counties_are_kept_apart(demo):
    franklins = [j for j in demo["jurisdictions.csv"] if j["name"] == "Franklin County"]
    assert {(j["state"], j["fips"]) for j in franklins} == {("NC", "37069"), ("OH", "39049")}
    stance = {p["jurisdiction_id"]: p["stance"] for p in demo["policies.csv"]}
    assert stance["nc-franklin"] == "limited" and stance["oh-franklin"] == "honors"
    honored = Counter(demo.jurisdiction_of(d) for d in demo["detainers.csv"]
                      if derive(d, demo.booking_of(d))[0] == "honored")
    assert honored["oh-franklin"] > 5 * honored["nc-franklin"] > 0


# --- integrity ------------------------------------------------------------------------------

def test_references_resolve(pkg):
    ids = {name: {r[HEADERS[name][0]] for r in pkg[name]} for name in HEADERS}
    for name in HEADERS:
        if name not in ("policies.csv", "regions.csv"):  # keyed by two columns
            assert len(ids[name]) == len(pkg[name]), f"duplicate ids in {name}"
    for name, key in (("policies.csv", ("jurisdiction_id", "effective_from")),
                      ("regions.csv", ("region", "jurisdiction_id"))):
        assert len({tuple(r[k] for k in key) for r in pkg[name]}) == len(pkg[name]), name
    juris = ids["jurisdictions.csv"]
    assert all(r["jurisdiction_id"] in juris for n in ("policies.csv", "facilities.csv",
                                                       "regions.csv") for r in pkg[n])
    for b in pkg["bookings.csv"]:
        assert b["person_id"] in ids["people.csv"] and b["facility_id"] in ids["facilities.csv"]
    assert all(c["booking_id"] in ids["bookings.csv"] for c in pkg["charges.csv"])
    for d in pkg["detainers.csv"]:
        assert d["person_id"] in ids["people.csv"] and d["facility_id"] in ids["facilities.csv"]
        if d["booking_id"]:
            b = pkg.bookings[d["booking_id"]]
            assert (b["person_id"], b["facility_id"]) == (d["person_id"], d["facility_id"])


def test_blank_booking_ids_match_one_booking_except_the_unmatched(pkg):
    blank = [d for d in pkg["detainers.csv"] if not d["booking_id"]]
    unmatched = [d["person_id"] for d in blank if pkg.booking_of(d) is None]
    assert 0.02 < len(blank) / len(pkg["detainers.csv"]) < 0.08
    scenario_unmatched = [p for p in unmatched if p.startswith("p-nomatch-")]
    assert len(scenario_unmatched) == 3
    assert all(p.startswith("p-nomatch-") or "-syn" in p for p in unmatched)


def test_dates_and_vocabularies(pkg):
    for b in pkg["bookings.csv"]:
        date.fromisoformat(b["booked_on"])
        assert bool(b["released_on"]) == bool(b["release_reason"]), b
        if b["released_on"]:
            assert b["booked_on"] <= b["released_on"] and b["release_reason"] in RELEASE_OUTCOME
    for d in pkg["detainers.csv"]:
        date.fromisoformat(d["lodged_on"])
        b = pkg.booking_of(d)
        if b:
            assert b["booked_on"] <= d["lodged_on"]
            assert not b["released_on"] or d["lodged_on"] <= b["released_on"]
        assert not d["lifted_on"] or d["lifted_on"] >= d["lodged_on"]
        assert bool(d["lifted_on"]) == bool(d["lift_reason"])
        expected_form = ({"I-247A"} if d["lodged_on"] >= "2017-04-02"
                         else {"I-247D", "I-247N"} if d["lodged_on"] >= "2015-06-01" else {"I-247"})
        assert d["form"] in expected_form, d
        assert d["outcome"] in {"", "honored", "declined", "transferred", "lifted", "cancelled",
                                "in_custody", "unknown"}
    for c in pkg["charges.csv"]:
        assert c["level"] in {"felony", "misdemeanor", "infraction", "unknown"}
        assert c["stage"] in {"pending", "convicted", "dismissed", "unknown"}
        assert c["category"] == "" and c["description"]
    for p in pkg["people.csv"]:
        assert p["sex"] in {"M", "F"} and p["date_of_birth"][:4] == p["birth_year"]
    kinds = {f["kind"] for f in pkg["facilities.csv"]}
    assert {"county_jail", "state_prison", "ice_detention"} <= kinds


def test_policy_intervals_do_not_overlap_and_honoured_only_where_allowed(pkg):
    periods = defaultdict(list)
    for p in pkg["policies.csv"]:
        assert p["stance"] in {"honors", "limited", "declines"}
        assert p["agreement"] in {"none", "287g-jem", "287g-wso", "287g-tfm"}
        periods[p["jurisdiction_id"]].append((p["effective_from"], p["effective_to"], p["stance"]))
    for jid, rows in periods.items():
        rows.sort()
        for (start, end, _), (next_start, _, _) in zip(rows, rows[1:]):
            assert end and start < end <= next_start, jid
        assert not rows[-1][1] or rows[-1][0] < rows[-1][1]

    def stance_on(jid: str, day: str) -> str:
        return next(s for f, t, s in periods[jid] if f <= day and (not t or day < t))

    for d in pkg["detainers.csv"]:
        outcome, end = derive(d, pkg.booking_of(d))
        if outcome == "honored":
            assert stance_on(pkg.jurisdiction_of(d), end) != "declines", d


def test_only_the_planted_claim_disagrees(demo):
    claims = [(d, derive(d, demo.booking_of(d))[0]) for d in demo["detainers.csv"] if d["outcome"]]
    assert 0 < len(claims) < 0.1 * len(demo["detainers.csv"])
    assert [d["detainer_id"] for d, derived in claims if derived != d["outcome"]] == [
        "d-rdu-edge-claim-disagrees-1"]


def test_names_are_unique_and_distinctive(pkg):
    names = [p["name"] for p in pkg["people.csv"]]
    assert all(names) and len(set(names)) == len(names)
    assert all(len(n) >= 8 and " " in n for n in names)
    # A surname never doubles as another column's value, so a leak is easy to spot.
    surnames = {n.split(" ", 1)[1] for n in names}
    assert not surnames & {c["description"] for c in pkg["charges.csv"]}


def test_re_arrests_after_declined_release(demo):
    second = [b for b in demo["bookings.csv"] if b["booking_id"].endswith("-2")
              and demo.facilities[b["facility_id"]]["kind"] == "county_jail"]
    assert len(second) >= 5


# --- scale ----------------------------------------------------------------------------------

def test_scale_adds_about_that_many_detainers(demo, scaled):
    added = len(scaled["detainers.csv"]) - len(demo["detainers.csv"])
    assert 1900 <= added <= 2100
    new_counties = {j["jurisdiction_id"] for j in scaled["jurisdictions.csv"]} - {
        j["jurisdiction_id"] for j in demo["jurisdictions.csv"]}
    assert 90 <= len(new_counties) <= 110
    volume = Counter(scaled.jurisdiction_of(d) for d in scaled["detainers.csv"]
                     if scaled.jurisdiction_of(d) in new_counties)
    top = [n for _, n in volume.most_common()]
    assert top[0] > 10 * top[len(top) // 2]  # power law: a few large, many small
    outcomes = Counter(derive(d, scaled.booking_of(d))[0] for d in scaled["detainers.csv"]
                       if scaled.jurisdiction_of(d) in new_counties)
    assert set(outcomes) == {"honored", "declined", "transferred", "lifted", "cancelled",
                             "in_custody", "unknown"}
    lodged_years = {d["lodged_on"][:4] for d in scaled["detainers.csv"]
                    if scaled.jurisdiction_of(d) in new_counties}
    assert {"2013", "2016", "2020"} <= lodged_years
