"""When each 287(g) agreement was active, from lists published on different dates (spans computed by hand)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from detainers.agreements import AgreementSpan, diff, timeline
from detainers.ingest import agreements_287g as g
from detainers.ingest.base import IngestOptions

LISTS = Path(__file__).parent / "data" / "287g"
L1, L2, L3 = date(2021, 1, 1), date(2022, 1, 1), date(2023, 1, 1)


def entry(list_date, agency="Gaston County Sheriff's Office", model="jem", signed=None, state="NC", **more) -> dict:
    row = {"list_date": list_date, "state": state, "agency": agency,
           "agency_key": g.agency_key(state, agency), "agency_type": None, "county": None, "county_fips": None,
           "model": model, "signed_on": signed, "moa": "link", "source_row": 2}
    row.update(more)
    return row


def spans_of(spans, model="jem"):
    return [(s.active_from, s.active_to, s.first_list, s.last_list, s.signed_on) for s in spans if s.model == model]


def test_appears_disappears_reappears_with_a_new_signing_date():
    spans = timeline([
        entry(L1, signed=date(2020, 6, 18)),
        entry(L2, agency="Nash County Sheriff's Office"),  # the list of 2022 exists, without Gaston
        entry(L3, signed=date(2022, 9, 1)),
    ])
    gaston = [s for s in spans if s.agency_key == "NC:gaston county sheriff"]
    assert spans_of(gaston) == [
        (date(2020, 6, 18), L2, L1, L1, date(2020, 6, 18)),
        (date(2022, 9, 1), None, L3, L3, date(2022, 9, 1)),
    ]


def test_reappearing_under_the_same_signing_date_bridges_the_gap():
    spans = timeline([
        entry(L1, signed=date(2020, 6, 18)),
        entry(L2, agency="Nash County Sheriff's Office"),
        entry(L3, signed=date(2020, 6, 18)),
    ])
    gaston = [s for s in spans if s.agency_key == "NC:gaston county sheriff"]
    assert spans_of(gaston) == [(date(2020, 6, 18), None, L1, L3, date(2020, 6, 18))]


def test_wso_and_jem_of_one_agency_are_separate_agreements():
    nash = "Nash County Sheriff's Office"
    spans = timeline([
        entry(L1, nash, "wso", date(2020, 4, 12)),
        entry(L2, nash, "wso", date(2020, 4, 12)),
        entry(L2, nash, "jem", date(2021, 6, 1)),
        entry(L3, nash, "jem", date(2021, 6, 1)),
    ])
    assert spans_of(spans, "wso") == [(date(2020, 4, 12), L3, L1, L2, date(2020, 4, 12))]
    assert spans_of(spans, "jem") == [(date(2021, 6, 1), None, L2, L3, date(2021, 6, 1))]


def test_start_is_the_first_list_when_no_signing_date_or_a_later_one():
    spans = timeline([
        entry(L1, "Etowah County Sheriff's Office", state="AL"),
        entry(L3, "Lubbock County Sheriff's Office", "wso", date(2023, 2, 1), state="TX"),
    ])
    assert [(s.agency_key, s.active_from, s.signed_on) for s in spans] == [
        ("AL:etowah county sheriff", L1, None),
        ("TX:lubbock county sheriff", L3, date(2023, 2, 1)),
    ]


def three_lists() -> list[dict]:
    return [
        entry(L1, signed=date(2020, 6, 18)),
        entry(L1, "Bay County Sheriff's Office", "tfm", date(2020, 4, 18), state="FL"),
        entry(L2, "Bay County Sheriff's Office", "tfm", date(2020, 4, 18), state="FL"),
        entry(L3, signed=date(2022, 9, 1)),
    ]


def test_a_list_published_twice_changes_nothing():
    twice = three_lists() + [entry(L2, "Bay County Sheriff's Office", "tfm", date(2020, 4, 18), state="FL",
                                   source_row=7)]
    assert timeline(twice) == timeline(three_lists())


def test_lists_given_out_of_order():
    assert timeline(list(reversed(three_lists()))) == timeline(three_lists())
    bay = [s for s in timeline(list(reversed(three_lists()))) if s.state == "FL"]
    assert spans_of(bay, "tfm") == [(date(2020, 4, 18), L3, L1, L2, date(2020, 4, 18))]


def test_descriptive_fields_follow_the_latest_list_that_states_them():
    spans = timeline([
        entry(L2, county="Gaston County", county_fips="37071", agency_type="County"),
        entry(L1),
        entry(L3, agency="Gaston County Sheriffs Office"),
    ])
    assert spans == [AgreementSpan(
        state="NC", agency="Gaston County Sheriffs Office", agency_key="NC:gaston county sheriff",
        agency_type="County", county="Gaston County", county_fips="37071", model="jem", signed_on=None,
        active_from=L1, active_to=None, first_list=L1, last_list=L3)]


def test_list_dates_given_as_datetimes():
    spans = timeline([entry(datetime(2021, 1, 1, 9, 30)), entry(datetime(2022, 1, 1), agency="Other Agency")])
    assert spans_of([s for s in spans if s.agency_key == "NC:gaston county sheriff"]) == [(L1, L2, L1, L1, None)]


def read_list(name: str, day: date) -> list[dict]:
    options = IngestOptions(as_of=datetime(day.year, day.month, day.day))
    return g.read(LISTS / name, options).extra["roster_entries"]


def test_timeline_from_real_files_in_any_order_with_a_republished_list():
    entries = (read_list("list-2023-01-01.xlsx", L3) + read_list("participatingAgencies2022.xlsx", L2)
               + read_list("list-2021-01-01.xlsx", L1) + read_list("list-2022-01-01.xlsx", L2))
    got = [(s.state, s.agency_key, s.model, s.signed_on, s.active_from, s.active_to, s.first_list, s.last_list)
           for s in timeline(entries)]
    assert got == [
        ("AL", "AL:etowah county sheriff", "jem", None, L1, None, L1, L3),
        ("FL", "FL:bay county sheriff", "tfm", date(2020, 4, 18), date(2020, 4, 18), L3, L1, L2),
        ("NC", "NC:gaston county sheriff", "jem", date(2020, 6, 18), date(2020, 6, 18), L2, L1, L1),
        ("NC", "NC:gaston county sheriff", "jem", date(2022, 9, 1), date(2022, 9, 1), None, L3, L3),
        ("NC", "NC:nash county sheriff", "jem", date(2021, 6, 1), date(2021, 6, 1), None, L2, L3),
        ("NC", "NC:nash county sheriff", "wso", date(2020, 4, 12), date(2020, 4, 12), None, L1, L3),
        ("TX", "TX:lubbock county sheriff", "wso", date(2023, 2, 1), L3, None, L3, L3),
    ]
    spans = timeline(entries)
    assert spans[0].county == "Etowah County" and spans[0].county_fips == "01055"


def test_diff_between_two_lists():
    changes = diff(read_list("list-2022-01-01.xlsx", L2), read_list("list-2023-01-01.xlsx", L3))
    assert [(e["agency"], e["model"]) for e in changes["added"]] == [
        ("Gaston County Sheriff's Office", "jem"), ("Lubbock County Sheriff's Office", "wso")]
    assert [(e["agency"], e["model"]) for e in changes["removed"]] == [("Bay County Sheriff's Office", "tfm")]
    assert [(c["key"], c["fields"]) for c in changes["changed"]] == [
        (("NC", "NC:nash county sheriff", "wso"),
         {"moa": ("https://example.org/moa.pdf", "https://example.org/moa-2023.pdf")})]


def test_diff_of_a_republished_list_is_empty():
    changes = diff(read_list("list-2022-01-01.xlsx", L2), read_list("participatingAgencies2022.xlsx", L2))
    assert changes == {"added": [], "removed": [], "changed": []}


def test_diff_reports_signed_on_and_county_changes():
    before = [entry(L1, signed=date(2020, 6, 18), county="Gaston County")]
    after = [entry(L2, signed=date(2022, 9, 1), county="Gaston County", county_fips="37071")]
    (change,) = diff(before, after)["changed"]
    assert change["fields"] == {"signed_on": (date(2020, 6, 18), date(2022, 9, 1))}
