"""The JSON API: every endpoint for every role, what each audience receives, and the demo's numbers.

Viewers and anonymous callers get the public audience: no name or date of birth anywhere in any
answer, and no raw person, booking or detainer ids, only pseudonymous keys. Analysts and admins
get identity fields, and each such answer is in the audit log with who asked and from where.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from detainers.analytics.provenance import SYNTHETIC_LABEL
from detainers.cli import app as cli
from detainers.demo import REGION, WAKE, WAKE_JAIL
from detainers.privacy import Keyer, installation_secret
from detainers.store.schema import agreements, audit_log, bookings, detainers, people, person_identities
from detainers.web.app import create_app
from detainers.web.settings import WebSettings
from tests.web.conftest import IdentityFinder, signed_in

ROLES = ("anonymous", "viewer", "analyst", "admin")
PUBLIC = ("anonymous", "viewer")
RESTRICTED = ("analyst", "admin")
IDENTITY_KEYS = {"name", "date_of_birth", "person_id", "booking_id", "detainer_id", "outcome_rule", "lift_reason"}

# One call per endpoint, with the status each audience gets.
CALLS = [
    ("/api/v1/me", 200, 200),
    ("/api/v1/jurisdictions?limit=500", 200, 200),
    (f"/api/v1/jurisdictions/{WAKE}", 200, 200),
    ("/api/v1/facilities", 200, 200),
    (f"/api/v1/detainers?jurisdiction_id={WAKE}&outcome=in_custody&limit=500", 200, 200),
    ("/api/v1/stats/outcomes?by=jurisdiction&by=fy&by=stance", 200, 200),
    ("/api/v1/sources", 200, 200),
    ("/api/v1/agreements", 200, 200),
    ("/api/v1/regions", 200, 200),
    ("/api/v1/classify?text=AGG%20SEXUAL%20ASSLT%20CHILD", 200, 200),
    ("/api/v1/search?q=p-wake-held-01", 403, 200),
]
UNLABELLED = ("/api/v1/me", "/api/v1/classify")


@pytest.fixture(scope="module")
def clients(site):
    """One signed-in client per role (sign-in hashes a password: do it once per role)."""
    return {role: signed_in(site, None if role == "anonymous" else role) for role in ROLES}


def _last_entry(site) -> int:
    with site.engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.max(audit_log.c.entry_id), 0))).scalar_one()


def _entries_since(site, entry_id: int, action: str) -> list[tuple[str, dict]]:
    with site.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.detail)
                            .where(audit_log.c.entry_id > entry_id, audit_log.c.action == action)
                            .order_by(audit_log.c.entry_id))
        return [(actor, json.loads(detail)) for actor, detail in rows]


def _keys(value) -> set[str]:
    """Every key of every object in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.fixture(scope="module")
def finder(site) -> IdentityFinder:
    """Names and dates of birth only: what must never reach the public, and what the restricted get."""
    identities = site.identities()
    assert len(identities) > 5000 and all(n and d for n, d in identities)
    return IdentityFinder(identities)


@pytest.fixture(scope="module")
def public_finder(site) -> IdentityFinder:
    """Names, dates of birth and every raw person, booking and detainer id."""
    with site.engine.connect() as conn:
        ids = [*conn.execute(select(people.c.person_id)).scalars(),
               *conn.execute(select(bookings.c.booking_id)).scalars(),
               *conn.execute(select(detainers.c.detainer_id)).scalars()]
    assert len(ids) == 5549 + 6086 + 5550
    return IdentityFinder(site.identities(), ids)


# --- who may do what -----------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_every_role_with_labelled_json(site, clients, role):
    for url, public_status, restricted_status in CALLS:
        response = clients[role].get(url)
        expected = restricted_status if role in RESTRICTED else public_status
        if expected == 403 and role == "anonymous":
            expected = 401  # not signed in at all: sign in first
        assert response.status_code == expected, (role, url, response.text)
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        if expected == 401:
            assert body["status"] == 401 and body["error"].startswith("Sign in first")
        elif expected != 200:
            assert body == {"error": "Search shows names and dates of birth: it needs the analyst or admin role; "
                                     "you are signed in as viewer.", "status": 403}
        elif not url.startswith(UNLABELLED):
            assert body["synthetic"] is True and body["data_label"] == SYNTHETIC_LABEL, url
    me = clients[role].get("/api/v1/me").json()
    assert me == {"username": None if role == "anonymous" else role, "role": role,
                  "audience": "restricted" if role in RESTRICTED else "public"}


def test_the_api_asks_for_sign_in_when_anonymous_access_is_off(site):
    closed = create_app(WebSettings(db_url=site.url, anonymous="off"))
    try:
        client = TestClient(closed)
        for url, _, _ in CALLS:
            response = client.get(url)
            assert response.status_code == 401, url
            assert response.json()["error"].startswith("Sign in first")
    finally:
        closed.state.engine.dispose()


@pytest.mark.parametrize("role", PUBLIC)
def test_public_answers_carry_no_identity_anywhere(site, clients, public_finder, role):
    client = clients[role]
    bodies = [client.get(url).text for url, status, _ in CALLS if status == 200]
    # every detainer, page by page, and the drill-downs a public caller can reach
    offset, total = 0, None
    while total is None or offset < total:
        page = client.get(f"/api/v1/detainers?limit=500&offset={offset}")
        assert page.status_code == 200
        total = page.json()["total"]
        bodies.append(page.text)
        offset += 500
    assert total == 5550
    for j in client.get("/api/v1/jurisdictions?limit=500").json()["items"]:
        bodies.append(client.get(f"/api/v1/jurisdictions/{j['jurisdiction_id']}").text)
    bodies.append(client.get("/api/v1/stats/outcomes?by=region&by=fy&cohort=ended").text)
    for text in bodies:
        assert public_finder(text) == set()
        assert not _keys(json.loads(text)) & {"date_of_birth", "person_id", "booking_id", "detainer_id"}


@pytest.mark.parametrize("role", PUBLIC)
def test_public_detainers_have_keys_not_ids(clients, role):
    body = clients[role].get(f"/api/v1/detainers?jurisdiction_id={WAKE}&outcome=in_custody&limit=500").json()
    assert body["audience"] == "public" and body["total"] == 25 == len(body["items"])
    for item in body["items"]:
        assert not set(item) & IDENTITY_KEYS, item
        assert item["detainer_key"].startswith("D-") and item["person_key"].startswith("P-")
        assert item["booking_key"].startswith("B-") and item["charges"]
    # one person is held on two detainers
    assert len({i["person_key"] for i in body["items"]}) == 24
    assert len({i["detainer_key"] for i in body["items"]}) == 25


@pytest.mark.parametrize("role", RESTRICTED)
def test_restricted_detainers_carry_identity_and_are_audited(site, clients, finder, role):
    mark = _last_entry(site)
    url = f"/api/v1/detainers?jurisdiction_id={WAKE}&outcome=in_custody&limit=10&offset=5&sort=-lodged_on"
    body = clients[role].get(url).json()
    assert body["audience"] == "restricted" and body["total"] == 25 and len(body["items"]) == 10
    identities = dict(site.identities())
    for item in body["items"]:
        assert {"detainer_id", "person_id", "booking_id", "name", "date_of_birth", "outcome_rule"} <= set(item)
        assert item["person_id"].startswith("p-wake-") and item["booking_id"].startswith("b-wake-")
        assert identities[item["name"]] == item["date_of_birth"]
    assert finder(json.dumps(body))
    (actor, detail), = _entries_since(site, mark, "view.detainers")
    assert actor == f"web:{role}"
    assert detail == {"jurisdiction_id": WAKE, "outcome": "in_custody", "cohort": "lodged", "sort": "-lodged_on",
                      "limit": 10, "offset": 5, "rows": 10, "address": "testclient"}


@pytest.mark.parametrize("role", PUBLIC)
def test_public_detainer_views_are_not_audited_as_identity_views(site, clients, role):
    mark = _last_entry(site)
    assert clients[role].get("/api/v1/detainers?limit=5").status_code == 200
    assert _entries_since(site, mark, "view.detainers") == []


def test_public_and_restricted_answers_differ_only_by_identity_fields(site, clients):
    url = f"/api/v1/detainers?jurisdiction_id={WAKE}&outcome=in_custody&limit=500"
    public = clients["viewer"].get(url).json()["items"]
    restricted = clients["analyst"].get(url).json()["items"]
    assert [{k: v for k, v in r.items() if k not in IDENTITY_KEYS} for r in restricted] == public
    with site.engine.connect() as conn:
        secret = installation_secret(conn)
    person, detainer, booking = Keyer(secret), Keyer(secret, "D-"), Keyer(secret, "B-")
    for r in restricted:  # the keys are the installation's pseudonyms of the ids
        assert (r["person_key"], r["detainer_key"], r["booking_key"]) == (
            person(r["person_id"]), detainer(r["detainer_id"]), booking(r["booking_id"]))


# --- search (restricted) -------------------------------------------------------------------

@pytest.mark.parametrize("role", RESTRICTED)
def test_search_finds_people_by_key_id_booking_and_name_and_is_audited(site, clients, role):
    client = clients[role]
    with site.engine.connect() as conn:
        key = Keyer(installation_secret(conn))("p-wake-held-01")
        name = conn.execute(select(person_identities.c.name)
                            .where(person_identities.c.person_id == "p-wake-held-01")).scalar_one()
    mark = _last_entry(site)
    for q, how in ((key, "person key"), (key.lower(), "person key"), ("p-wake-held-01", "person id"),
                   ("b-wake-held-01-1", "booking id"), (name.upper(), "name"), (name[1:-1].lower(), "name")):
        body = client.get("/api/v1/search", params={"q": q}).json()
        assert body["synthetic"] is True
        person = next(p for p in body["people"] if p["person_id"] == "p-wake-held-01")
        assert how in person["matched_by"], q
        assert person["person_key"] == key and person["name"] == name and person["date_of_birth"]
        assert [b["booking_id"] for b in person["bookings"]] == ["b-wake-held-01-1"]
        assert person["bookings"][0]["facility_id"] == WAKE_JAIL and person["bookings"][0]["charges"]
        assert person["detainers"][0]["outcome"] == "in_custody"
    entries = _entries_since(site, mark, "view.search")
    assert len(entries) == 6
    assert all(actor == f"web:{role}" and detail["address"] == "testclient" for actor, detail in entries)
    assert entries[2][1]["q"] == "p-wake-held-01" and entries[2][1]["people"] == 1


def test_search_limits_and_says_when_it_cut_the_list(clients):
    body = clients["analyst"].get("/api/v1/search", params={"q": "an", "limit": 3}).json()
    assert len(body["people"]) == 3 and body["truncated"] is True
    nobody = clients["analyst"].get("/api/v1/search", params={"q": "zzqx"}).json()
    assert nobody["people"] == [] and nobody["truncated"] is False
    short = clients["analyst"].get("/api/v1/search", params={"q": "a"})
    assert short.status_code == 422 and short.json()["error"].startswith("q: ")


# --- jurisdictions -------------------------------------------------------------------------

def test_jurisdictions_paginate_sort_and_filter(clients):
    client = clients["viewer"]
    everything = client.get("/api/v1/jurisdictions?limit=500").json()
    assert everything["total"] == 10 and everything["on"] == date.today().isoformat()
    names = [(j["name"], j["state"]) for j in everything["items"]]
    assert names == sorted(names)
    pages = [client.get(f"/api/v1/jurisdictions?limit=3&offset={o}").json() for o in (0, 3, 6, 9)]
    assert [j for p in pages for j in p["items"]] == everything["items"]
    assert [len(p["items"]) for p in pages] == [3, 3, 3, 1] and {p["total"] for p in pages} == {10}
    by_count = client.get("/api/v1/jurisdictions?sort=-detainers").json()["items"]
    counts = [j["detainers"] for j in by_count]
    assert counts == sorted(counts, reverse=True) and by_count[0]["jurisdiction_id"] == WAKE == "nc-wake"
    assert by_count[0]["detainers"] == 2073
    by_state = [j["state"] for j in client.get("/api/v1/jurisdictions?sort=-state").json()["items"]]
    assert by_state == sorted(by_state, reverse=True)
    franklins = client.get("/api/v1/jurisdictions?q=FRANKLIN").json()
    assert [(j["jurisdiction_id"], j["fips"]) for j in franklins["items"]] == [("nc-franklin", "37069"),
                                                                              ("oh-franklin", "39049")]
    assert [j["jurisdiction_id"] for j in client.get("/api/v1/jurisdictions?state=oh").json()["items"]] == [
        "oh-franklin"]


@pytest.mark.parametrize("on, declining", [
    ("2018-01-01", ["nc-orange"]),
    ("2018-12-04", ["nc-orange", "nc-wake"]),
    ("2019-11-01", ["nc-mecklenburg", "nc-orange", "nc-wake"]),
])
def test_stance_is_the_policy_in_force_on_the_day(clients, on, declining):
    body = clients["anonymous"].get(f"/api/v1/jurisdictions?stance=declines&on={on}").json()
    assert sorted(j["jurisdiction_id"] for j in body["items"]) == declining and body["total"] == len(declining)
    assert all(j["stance"] == "declines" for j in body["items"]) and body["on"] == on


def test_stance_unknown_means_no_policy_recorded(clients):
    body = clients["viewer"].get("/api/v1/jurisdictions?stance=unknown").json()
    assert [(j["jurisdiction_id"], j["stance"], j["policy_from"]) for j in body["items"]] == [("us-ice", None, None)]


def test_jurisdiction_detail_has_the_timeline_facilities_regions_and_outcomes(clients):
    body = clients["viewer"].get(f"/api/v1/jurisdictions/{WAKE}?on=2018-06-01").json()
    assert (body["name"], body["state"], body["fips"]) == ("Wake County", "NC", "37183")
    assert [(p["effective_from"], p["effective_to"], p["stance"], p["agreement"]) for p in body["policies"]] == [
        ("2008-06-01", "2018-12-03", "honors", "287g-jem"), ("2018-12-03", None, "declines", "none")]
    assert body["policy_on"]["stance"] == "honors" and body["on"] == "2018-06-01"
    assert [(f["facility_id"], f["detainers"]) for f in body["facilities"]] == [(WAKE_JAIL, 2073)]
    assert body["regions"] == [REGION]
    outcomes = body["outcomes"]
    assert outcomes["lodged"] == 2073 and outcomes["in_custody"] == 25
    assert sum(v for k, v in outcomes.items() if k != "lodged") == outcomes["lodged"]
    today = clients["viewer"].get(f"/api/v1/jurisdictions/{WAKE}").json()
    assert today["policy_on"]["stance"] == "declines"


@pytest.mark.parametrize("role", ROLES)
def test_unknown_jurisdiction_is_a_404_in_json(clients, role):
    response = clients[role].get("/api/v1/jurisdictions/nowhere-county")
    assert response.status_code == 404
    assert response.json() == {"error": "No jurisdiction 'nowhere-county'.", "status": 404}


# --- facilities ----------------------------------------------------------------------------

def test_facilities_filter_by_jurisdiction_and_placement(clients):
    client = clients["viewer"]
    everything = client.get("/api/v1/facilities?limit=500").json()
    assert everything["total"] == 10 == len(everything["items"])
    assert sum(f["detainers"] for f in everything["items"]) == 5550
    wake = client.get(f"/api/v1/facilities?jurisdiction_id={WAKE}").json()
    assert [(f["facility_id"], f["jurisdiction_id"], f["detainers"]) for f in wake["items"]] == [
        (WAKE_JAIL, WAKE, 2073)]
    assert client.get("/api/v1/facilities?unplaced=true").json()["total"] == 0
    assert client.get("/api/v1/facilities?unplaced=false").json()["total"] == 10
    two = client.get("/api/v1/facilities?limit=2&offset=8").json()
    assert [f["facility_id"] for f in two["items"]] == [f["facility_id"] for f in everything["items"][8:]]
    unknown = client.get("/api/v1/facilities?jurisdiction_id=nowhere")
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "jurisdiction_id: 'nowhere' is not a known jurisdiction id"


# --- detainers -----------------------------------------------------------------------------

def test_detainers_paginate_and_sort(clients):
    client = clients["viewer"]
    url = f"/api/v1/detainers?jurisdiction_id={WAKE}&lodged_from=2019-01-01"
    whole = client.get(url + "&limit=500").json()
    assert 0 < whole["total"] <= 500 and len(whole["items"]) == whole["total"]
    lodged = [d["lodged_on"] for d in whole["items"]]
    assert lodged == sorted(lodged) and lodged[0] >= "2019-01-01"
    pages = [client.get(url + f"&limit=40&offset={o}").json()["items"] for o in range(0, whole["total"], 40)]
    assert [d["detainer_key"] for p in pages for d in p] == [d["detainer_key"] for d in whole["items"]]
    latest = client.get(url + "&sort=-ended_on&limit=500").json()["items"]
    ended = [d["ended_on"] for d in latest if d["ended_on"]]
    assert ended == sorted(ended, reverse=True)
    first_open = next(i for i, d in enumerate(latest) if d["ended_on"] is None)
    assert all(d["ended_on"] is None for d in latest[first_open:])  # not ended: last
    assert client.get(url + "&sort=-lodged_on&limit=1").json()["items"][0]["lodged_on"] == max(lodged)


def test_detainer_filters_match_the_fiscal_year_counts(clients):
    """The region's FY2017 ended cohort: 691 honoured (ICE's figure), counted detainer by detainer."""
    client = clients["viewer"]
    region = next(r for r in client.get("/api/v1/regions").json()["items"] if r["region"] == REGION)
    honored = sum(client.get(f"/api/v1/detainers?jurisdiction_id={j}&outcome=honored&fy=2017&cohort=ended&limit=1")
                  .json()["total"] for j in region["jurisdiction_ids"])
    assert honored == 691
    window = client.get(f"/api/v1/detainers?outcome=honored&ended_from=2016-10-01&ended_to=2017-09-30&limit=500"
                        f"&jurisdiction_id={WAKE}").json()
    assert all("2016-10-01" <= d["ended_on"] <= "2017-09-30" and d["ended_fy"] == 2017 for d in window["items"])
    by_fy = client.get(f"/api/v1/detainers?outcome=honored&fy=2017&cohort=ended&limit=1&jurisdiction_id={WAKE}")
    assert by_fy.json()["total"] == window["total"]
    lodged = client.get(f"/api/v1/detainers?facility_id={WAKE_JAIL}&lodged_to=2015-12-31&limit=500").json()
    assert lodged["items"] and all(d["lodged_on"] <= "2015-12-31" and d["lodged_fy"] <= 2016 for d in lodged["items"])


def test_detainer_filters_reject_unknown_ids(clients):
    for url, message in (
            ("/api/v1/detainers?jurisdiction_id=nowhere", "jurisdiction_id: 'nowhere' is not a known jurisdiction id"),
            ("/api/v1/detainers?facility_id=no-jail", "facility_id: 'no-jail' is not a known facility id")):
        response = clients["analyst"].get(url)
        assert response.status_code == 422 and response.json() == {"error": message, "status": 422}


# --- stats ---------------------------------------------------------------------------------

def test_stats_show_691_honored_in_the_region_in_fy2017(clients):
    body = clients["anonymous"].get(f"/api/v1/stats/outcomes?by=region&by=fy&cohort=ended&region={REGION}").json()
    assert body["by"] == ["region", "fy"] and body["cohort"] == "ended" and body["synthetic"] is True
    row = next(r for r in body["rows"] if r["fy"] == 2017)
    assert row["region"] == REGION and row["honored"] == 691
    assert set(row) == {"region", "fy", "lodged", "honored", "declined", "transferred", "lifted", "cancelled",
                        "in_custody", "unknown"}
    assert sum(row[k] for k in row if k not in ("region", "fy", "lodged")) == row["lodged"]


def test_stats_match_the_command_line(site, clients):
    args = ["--by", "jurisdiction", "--by", "fy", "--cohort", "ended", "--from", "2016-10-01", "--to", "2018-09-30",
            "--jurisdiction", WAKE, "--jurisdiction", "nc-durham"]
    result = CliRunner().invoke(cli, ["stats", "outcomes", *args, "--format", "json", "--db", site.url])
    assert result.exit_code == 0, result.output
    expected = json.loads(result.output)
    body = clients["viewer"].get("/api/v1/stats/outcomes?by=jurisdiction&by=fy&cohort=ended&from=2016-10-01"
                                 f"&to=2018-09-30&jurisdiction={WAKE}&jurisdiction=nc-durham").json()
    for key in ("cohort", "by", "from", "to", "synthetic", "data_label", "rows"):
        assert body[key] == expected[key], key
    assert len(body["rows"]) == 4
    assert set(expected["definitions"]) <= set(body["definitions"])


def test_stats_default_to_jurisdictions_and_deduplicate_dimensions(clients):
    body = clients["viewer"].get("/api/v1/stats/outcomes?by=fy&by=fy").json()
    assert body["by"] == ["fy"] and all(set(r) >= {"fy", "lodged"} and "region" not in r for r in body["rows"])
    plain = clients["viewer"].get("/api/v1/stats/outcomes").json()
    assert plain["by"] == ["jurisdiction"] and sum(r["lodged"] for r in plain["rows"]) == 5550


@pytest.mark.parametrize("query, message", [
    ("jurisdiction=nowhere", "jurisdiction: 'nowhere' is not a known jurisdiction id"),
    ("jurisdiction=nowhere&jurisdiction=elsewhere", "jurisdiction: 'nowhere', 'elsewhere' are not known "
                                                    "jurisdiction ids"),
    ("region=Atlantis", "region: 'Atlantis' is not a known region (see regions.csv)"),
])
def test_stats_refuse_unknown_jurisdictions_and_regions(clients, query, message):
    response = clients["viewer"].get(f"/api/v1/stats/outcomes?{query}")
    assert response.status_code == 422 and response.json() == {"error": message, "status": 422}


# --- sources, agreements, regions, classify ------------------------------------------------

def test_sources_list_the_demo_package(clients):
    body = clients["anonymous"].get("/api/v1/sources").json()
    (source,) = body["items"]
    assert source["kind"] == "package" and source["synthetic"] is True and len(source["sha256"]) == 64
    assert source["row_counts"]["detainers.csv"] == 5550 and source["row_counts"]["people.csv"] == 5549
    assert source["rows_read"] == sum(source["row_counts"].values())


def test_regions_list_their_jurisdictions(clients):
    body = clients["viewer"].get("/api/v1/regions").json()
    assert body["items"] == [
        {"region": "Charlotte", "jurisdiction_ids": ["nc-mecklenburg"]},
        {"region": REGION, "jurisdiction_ids": ["nc-durham", "nc-franklin", "nc-johnston", "nc-orange", WAKE]}]


def test_agreements_all_spans_or_those_in_force_on_a_day(fresh_site):
    row = {"state": "NC", "agency": "Wake County Sheriff's Office", "agency_key": "wake county sheriff",
           "agency_type": "county", "county": "Wake", "county_fips": "37183", "jurisdiction_id": WAKE,
           "signed_on": date(2008, 6, 1), "first_list": date(2017, 1, 1), "last_list": date(2018, 11, 1)}
    with fresh_site.engine.begin() as conn:
        conn.execute(insert(agreements), [
            {**row, "model": "jem", "active_from": date(2008, 6, 1), "active_to": date(2018, 12, 3)},
            {**row, "model": "wso", "active_from": date(2017, 6, 1), "active_to": None, "signed_on": None},
        ])
    client = signed_in(fresh_site, "viewer")
    spans = client.get("/api/v1/agreements").json()
    assert spans["on"] is None and spans["synthetic"] is True
    assert [(a["models"], a["active_from"], a["active_to"], a["first_list"]) for a in spans["items"]] == [
        (["jem"], "2008-06-01", "2018-12-03", "2017-01-01"), (["wso"], "2017-06-01", None, "2017-01-01")]
    on = client.get("/api/v1/agreements?on=2018-01-01").json()
    assert on["on"] == "2018-01-01"
    assert [(a["agency"], a["models"], a["signed_on"], a["active_from"], a["active_to"]) for a in on["items"]] == [
        ("Wake County Sheriff's Office", ["jem", "wso"], "2008-06-01", "2008-06-01", None)]
    assert [a["models"] for a in client.get("/api/v1/agreements?on=2019-01-01").json()["items"]] == [["wso"]]
    assert client.get("/api/v1/agreements?on=2000-01-01").json()["items"] == []


def test_classify_explains_a_charge(clients):
    body = clients["anonymous"].get("/api/v1/classify", params={"text": "AGG SEXUAL ASSLT CHILD",
                                                                "code": "11990004"}).json()
    assert body["category"] == "sex_offense_child" and body["violent"] is True and body["is_detainer"] is False
    assert body["normalized"] == "AGGRAVATED SEXUAL ASSAULT CHILD" and body["rule"] and body["code"] == "11990004"
    detainer = clients["viewer"].get("/api/v1/classify", params={"text": "IMMIGRATION DETAINER"}).json()
    assert detainer["is_detainer"] is True


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("url, where", [
    ("/api/v1/jurisdictions?limit=0", "limit"),
    ("/api/v1/jurisdictions?limit=501", "limit"),
    ("/api/v1/jurisdictions?offset=-1", "offset"),
    ("/api/v1/jurisdictions?sort=size", "sort"),
    ("/api/v1/jurisdictions?state=NCX", "state"),
    ("/api/v1/jurisdictions?stance=maybe", "stance"),
    ("/api/v1/jurisdictions?on=2019-02-30", "on"),
    ("/api/v1/jurisdictions?on=0", "on"),
    ("/api/v1/jurisdictions/nc-wake?on=yesterday", "on"),
    ("/api/v1/facilities?unplaced=perhaps", "unplaced"),
    ("/api/v1/detainers?fy=1989", "fy"),
    ("/api/v1/detainers?fy=2101", "fy"),
    ("/api/v1/detainers?outcome=released", "outcome"),
    ("/api/v1/detainers?lodged_from=2019/01/01", "lodged_from"),
    ("/api/v1/detainers?sort=name", "sort"),
    ("/api/v1/stats/outcomes?by=county", "by"),
    ("/api/v1/stats/outcomes?cohort=booked", "cohort"),
    ("/api/v1/stats/outcomes?from=01-01-2017", "from"),
    ("/api/v1/classify", "text"),
    ("/api/v1/classify?text=" + "x" * 501, "text"),
    ("/api/v1/search?q=", "q"),
    ("/api/v1/jurisdictions?q=a%00b", "q"),  # PostgreSQL cannot store NUL: refused before any query
    ("/api/v1/jurisdictions/nc%00wake", "jurisdiction_id"),
    ("/api/v1/stats/outcomes?jurisdiction=nc-wake&jurisdiction=a%00b", "jurisdiction"),
])
def test_bad_parameters_are_422_json_naming_the_parameter(clients, url, where):
    response = clients["analyst"].get(url)
    assert response.status_code == 422, response.text
    body = response.json()
    named = re.compile(rf"{where}(\.\d+)?: ")  # a repeated parameter is named with its position: by.0
    assert body["status"] == 422 and named.match(body["error"]), body
    assert all(named.match(p) for p in body["problems"])
