"""Outcome statistics by jurisdiction, fiscal year, region and stance."""

from __future__ import annotations

from datetime import date

from detainers.analytics.stats import OutcomeQuery, outcome_stats
from detainers.datapackage.importer import import_package
from tests.pkg import base_places, write_package

NC, OH = "nc-franklin-jail", "oh-franklin-jail"


def fy_package() -> dict:
    files = base_places()
    files["people.csv"] = [{"person_id": f"q{i}"} for i in range(1, 8)]
    files["bookings.csv"] = [
        # lodged FY2018 (honours era), released on bond FY2019 (declines era)
        {"booking_id": "k1", "person_id": "q1", "facility_id": NC, "booked_on": "2018-09-01",
         "released_on": "2019-02-01", "release_reason": "bond"},
        # lodged and handed to ICE in FY2017
        {"booking_id": "k2", "person_id": "q2", "facility_id": NC, "booked_on": "2016-10-01",
         "released_on": "2017-09-30", "release_reason": "to_ice"},
        # handed to ICE on the first day of FY2018
        {"booking_id": "k3", "person_id": "q3", "facility_id": NC, "booked_on": "2017-09-01",
         "released_on": "2017-10-01", "release_reason": "to_ice"},
        # transferred to prison: not a decline
        {"booking_id": "k4", "person_id": "q4", "facility_id": NC, "booked_on": "2019-03-01",
         "released_on": "2019-04-01", "release_reason": "to_other_custody"},
        {"booking_id": "k5", "person_id": "q5", "facility_id": OH, "booked_on": "2017-01-01",
         "released_on": "2017-02-01", "release_reason": "to_ice"},
        {"booking_id": "k6", "person_id": "q6", "facility_id": NC, "booked_on": "2019-05-01"},
    ]
    files["detainers.csv"] = [
        {"detainer_id": "e1", "person_id": "q1", "facility_id": NC, "lodged_on": "2018-09-02", "booking_id": "k1"},
        {"detainer_id": "e2", "person_id": "q2", "facility_id": NC, "lodged_on": "2016-10-02", "booking_id": "k2"},
        {"detainer_id": "e3", "person_id": "q3", "facility_id": NC, "lodged_on": "2017-09-02", "booking_id": "k3"},
        {"detainer_id": "e4", "person_id": "q4", "facility_id": NC, "lodged_on": "2019-03-02", "booking_id": "k4"},
        {"detainer_id": "e5", "person_id": "q5", "facility_id": OH, "lodged_on": "2017-01-02", "booking_id": "k5"},
        {"detainer_id": "e6", "person_id": "q6", "facility_id": NC, "lodged_on": "2019-05-02", "booking_id": "k6"},
        {"detainer_id": "e7", "person_id": "q7", "facility_id": NC, "lodged_on": "2019-05-03"},
    ]
    return files


def stats(engine, **kw):
    with engine.connect() as conn:
        return outcome_stats(conn, OutcomeQuery(**kw))


def test_by_jurisdiction_keeps_same_name_counties_apart(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "p", fy_package()))
    rows = stats(engine, by=("jurisdiction",))
    assert [(r["jurisdiction_id"], r["state"], r["lodged"]) for r in rows] == [
        ("nc-franklin", "NC", 6), ("oh-franklin", "OH", 1)]
    nc = rows[0]
    assert (nc["honored"], nc["declined"], nc["transferred"], nc["in_custody"], nc["unknown"]) == (2, 1, 1, 1, 1)


def test_fiscal_years_by_lodged_and_by_ended(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "p", fy_package()))
    lodged = {r["fy"]: r for r in stats(engine, by=("fy",), cohort="lodged", jurisdiction_ids=("nc-franklin",))}
    assert {fy: r["lodged"] for fy, r in lodged.items()} == {2017: 2, 2018: 1, 2019: 3}
    ended = {r["fy"]: r for r in stats(engine, by=("fy",), cohort="ended", jurisdiction_ids=("nc-franklin",))}
    # e2 ended 2017-09-30 (FY2017); e3 ended 2017-10-01 (FY2018); e1 and e4 in FY2019; open ones not counted
    assert {fy: (r["lodged"], r["honored"]) for fy, r in ended.items()} == {2017: (1, 1), 2018: (1, 1), 2019: (2, 0)}
    assert ended[2019]["declined"] == 1 and ended[2019]["transferred"] == 1


def test_region_and_date_window(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "p", fy_package()))
    rows = stats(engine, by=("region",), cohort="ended", date_from=date(2016, 10, 1), date_to=date(2017, 9, 30),
                 region="Triangle")
    assert rows == [{"region": "Triangle", "lodged": 1, "honored": 1, "declined": 0, "transferred": 0,
                     "lifted": 0, "cancelled": 0, "in_custody": 0, "unknown": 0}]


def test_decline_is_attributed_to_the_policy_on_the_release_day(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "p", fy_package()))
    rows = stats(engine, by=("stance",), cohort="ended", jurisdiction_ids=("nc-franklin",))
    by_stance = {r["stance"]: r for r in rows}
    # e1 was lodged under "honors" (2018-09-02) but released on bond under "declines" (2019-02-01)
    assert by_stance["declines"]["declined"] == 1
    assert by_stance["honors"]["declined"] == 0
    assert by_stance["honors"]["honored"] == 2


def test_combined_dimensions(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "p", fy_package()))
    rows = stats(engine, by=("jurisdiction", "fy"), cohort="lodged")
    assert [(r["jurisdiction_id"], r["fy"], r["lodged"]) for r in rows] == [
        ("nc-franklin", 2017, 2), ("nc-franklin", 2018, 1), ("nc-franklin", 2019, 3), ("oh-franklin", 2017, 1)]
