"""The lifecycle rules of DESIGN §4, one function at a time (no database)."""

from datetime import date

import pytest

from detainers.fiscal import fiscal_year, fiscal_year_bounds
from detainers.lift_reasons import meaning
from detainers.outcomes import Booking, derive, match_booking

D = date.fromisoformat
LODGED = D("2019-03-01")


def booking(released=None, reason=None, booked="2019-02-20", bid="B1"):
    return Booking(bid, D(booked), D(released) if released else None, reason)


def test_lift_before_release_is_lifted_on_the_lift_date():
    r = derive(LODGED, D("2019-04-01"), "Prosecutorial Discretion", booking("2019-05-01", "bond"))
    assert (r.outcome, r.ended_on) == ("lifted", D("2019-04-01"))
    assert r.rule.startswith("1:")


def test_lift_on_the_release_day_still_counts_as_a_lift():
    r = derive(LODGED, D("2019-05-01"), "Lifted", booking("2019-05-01", "bond"))
    assert (r.outcome, r.ended_on) == ("lifted", D("2019-05-01"))


def test_lift_after_release_does_not_hide_the_decline():
    r = derive(LODGED, D("2019-06-01"), "Case Closed", booking("2019-05-01", "bond"))
    assert (r.outcome, r.ended_on) == ("declined", D("2019-05-01"))


def test_lift_while_still_held_is_lifted():
    r = derive(LODGED, D("2019-04-01"), "Lifted", booking())
    assert (r.outcome, r.ended_on) == ("lifted", D("2019-04-01"))


@pytest.mark.parametrize("reason", ["United States Citizen Interviewed", "Wrong person", "ERROR IN ENTRY",
                                    "  wrong person in custody. "])
def test_errors_are_cancelled_not_lifted(reason):
    r = derive(LODGED, D("2019-04-01"), reason, booking())
    assert (r.outcome, r.ended_on) == ("cancelled", D("2019-04-01"))


def test_lift_with_no_reason_is_still_a_lift():
    r = derive(LODGED, D("2019-04-01"), None, booking("2019-05-01", "bond"))
    assert r.outcome == "lifted" and "no reason recorded" in r.rule


@pytest.mark.parametrize("reason,outcome", [
    ("to_ice", "honored"),
    ("to_other_custody", "transferred"),
    ("bond", "declined"),
    ("sentence_served", "declined"),
    ("dismissed", "declined"),
    ("recognizance", "declined"),
    ("other_release", "declined"),
])
def test_release_reason_decides(reason, outcome):
    r = derive(LODGED, None, None, booking("2019-05-01", reason))
    assert (r.outcome, r.ended_on) == (outcome, D("2019-05-01"))


def test_transfer_to_another_custodian_is_not_a_decline():
    assert derive(LODGED, None, None, booking("2019-05-01", "to_other_custody")).outcome == "transferred"


def test_release_without_a_recorded_reason_is_unknown_not_declined():
    r = derive(LODGED, None, None, booking("2019-05-01", None))
    assert (r.outcome, r.ended_on) == ("unknown", D("2019-05-01"))


def test_still_held_is_in_custody():
    r = derive(LODGED, None, None, booking())
    assert (r.outcome, r.ended_on) == ("in_custody", None)


@pytest.mark.parametrize("reason,outcome", [
    ("Booked into Detention", "honored"),
    ("Detainer Declined by LEA", "declined"),
    ("Transferred", "transferred"),
    ("Case Closed", "lifted"),
    ("Died", "lifted"),
    ("United States Citizen Interviewed", "cancelled"),
])
def test_ice_side_lift_reason_without_booking(reason, outcome):
    r = derive(LODGED, D("2019-04-01"), reason, None)
    assert r.outcome == outcome
    assert r.ended_on == D("2019-04-01")


@pytest.mark.parametrize("reason,outcome", [("Lifted", "lifted"), ("Case Closed", "lifted"),
                                            ("United States Citizen Interviewed", "cancelled"),
                                            ("Booked into Detention", "honored")])
def test_ice_side_reason_without_lift_date_or_booking(reason, outcome):
    # ICE releases carry the lift reason but often no lift date: the outcome is known, its day is not.
    r = derive(LODGED, None, reason, None)
    assert (r.outcome, r.ended_on) == (outcome, None)


def test_no_booking_and_no_reason_is_unknown():
    assert derive(LODGED, None, None, None).outcome == "unknown"


def test_unmapped_reason_is_never_guessed():
    r = derive(LODGED, None, "Something New From ICE", None)
    assert r.outcome == "unknown" and "not in the lift-reason table" in r.rule


def test_ice_side_honored_does_not_override_the_jail_booking():
    # ICE says "Booked into Detention" but the jail says the person bonded out: the jail record decides.
    r = derive(LODGED, D("2019-05-01"), "Booked into Detention", booking("2019-05-01", "bond"))
    assert r.outcome == "declined"


def test_meaning_table_normalises_case_and_spacing():
    assert meaning("  booked   INTO detention ") == "honored"
    assert meaning("") is None
    assert meaning("nope") == "unmapped"


def test_match_booking_contains_lodged_date_and_prefers_latest():
    old = booking("2018-01-10", "bond", booked="2018-01-01", bid="old")
    new = booking(None, None, booked="2019-02-01", bid="new")
    assert match_booking([old, new], D("2019-02-01")).booking_id == "new"
    assert match_booking([old, new], D("2018-01-10")).booking_id == "old"  # release day is inside
    assert match_booking([old, new], D("2018-06-01")) is None
    assert match_booking([old], D("2017-12-31")) is None


@pytest.mark.parametrize("day,fy", [("2016-09-30", 2016), ("2016-10-01", 2017), ("2017-09-30", 2017),
                                    ("2017-10-01", 2018), ("2017-01-15", 2017)])
def test_fiscal_year(day, fy):
    assert fiscal_year(D(day)) == fy


def test_fiscal_year_bounds():
    assert fiscal_year_bounds(2017) == (D("2016-10-01"), D("2017-09-30"))
