"""Reports over the web: the JSON API, downloads in six formats, the pages, audiences and errors."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from detainers.demo import REGION, WAKE
from detainers.reports.noncooperative import NonCooperativeQuery
from detainers.reports.noncooperative import build as build_noncooperative
from detainers.reports.render import render
from detainers.store.schema import audit_log, detainers
from tests.web.conftest import signed_in

ROLES = (None, "viewer", "analyst", "admin")
NAMES = ("non-cooperative", "declined", "transfers", "policy-change", "rearrest")
#: Parameters of each report that land on the demo's facts.
PARAMS = {
    "non-cooperative": {"as_of": "2019-11-01", "jurisdiction": WAKE},
    "declined": {"from": "2018-10-01", "to": "2019-09-30"},
    "transfers": {"fy_from": 2017, "fy_to": 2017, "by": "region", "region": REGION},
    "policy-change": {"jurisdiction": WAKE, "change_date": "2018-12-03"},
    "rearrest": {"from": "2018-10-01", "to": "2019-09-30"},
}
HEADLINES = {
    "non-cooperative": "People held with an active detainer on 2019-11-01",
    "declined": "Detainers ended 2018-10-01 to 2019-09-30",
    "transfers": "Transfers to ICE custody by fiscal year (ended cohort)",
    "policy-change": "Wake County: decline share before and after 2018-12-03",
    "rearrest": "Booked again within 365 days of release",
}
MEDIA = {"md": "text/markdown", "csv": "text/csv", "json": "application/json", "html": "text/html",
         "pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@pytest.fixture(scope="module")
def clients(site):
    """One signed-in client per role (None: anonymous), shared by this module's tests on one backend."""
    return {role: signed_in(site, role) for role in ROLES}


@pytest.fixture(scope="module")
def identities(site):
    return identity_sets(site)


def identity_sets(site) -> tuple[set, set]:
    """Every name and date of birth in the database, as sets (what must never reach the public)."""
    pairs = site.identities()
    names, dobs = {" ".join(n.split()) for n, _ in pairs if n}, {d for _, d in pairs if d}
    assert len(names) > 100 and len(dobs) > 100  # the demo has names and dates of birth to leak
    return names, dobs


def leaks(text: str, identities: tuple[set, set]) -> list[str]:
    """The names and dates of birth found in `text`, looked up word run by word run (fast on big reports)."""
    names, dobs = identities
    longest = max(len(n.split()) for n in names)
    words = re.findall(r"[^\W\d_][\w'’.-]*", text)
    runs = {" ".join(words[i:i + k]) for k in range(1, longest + 1) for i in range(len(words) - k + 1)}
    return sorted((runs & names) | (set(re.findall(r"\d{4}-\d{2}-\d{2}", text)) & dobs))


def text_of(body: bytes, fmt: str, tmp_path) -> str:
    if fmt == "pdf":
        path = tmp_path / "report.pdf"
        path.write_bytes(body)
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        return " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    return body.decode("utf-8")


def _audit(site, action: str) -> list[tuple[str, dict]]:
    with site.engine.connect() as conn:
        return [(r.actor, json.loads(r.detail)) for r in conn.execute(
            select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.entry_id))]


# ---------------------------------------------------------------- API

@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("name", NAMES)
def test_every_report_as_json_for_every_role(site, clients, identities, name, role):
    response = clients[role].get(f"/api/v1/reports/{name}", params=PARAMS[name])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert report["report"] == name and report["audience"] == "public"
    assert report["synthetic"] is True and report["data_label"].startswith("SYNTHETIC")
    assert report["fidelity"] and report["sources"] and report["manifest"]
    assert leaks(response.text, identities) == []


def test_demo_numbers_through_the_api(clients):
    wake = clients["viewer"].get("/api/v1/reports/non-cooperative", params=PARAMS["non-cooperative"]).json()
    (j,) = wake["jurisdictions"]
    assert (j["jurisdiction_id"], j["counts"]["people"], j["counts"]["by_category"]["sex_offense_child"]) \
        == (WAKE, 25, 11)
    assert j["counts"]["by_category_convicted"]["sex_offense_child"] == "<5"  # a small cell, suppressed
    fy = clients[None].get("/api/v1/reports/transfers", params=PARAMS["transfers"]).json()
    (group,) = fy["groups"]
    (year,) = group["years"]
    assert (group["region"], year["fy"], year["honored_by_ended"]) == (REGION, 2017, 691)


def test_the_same_json_as_the_cli_writes(clients, site):
    with site.engine.begin() as conn:
        built = build_noncooperative(conn, NonCooperativeQuery(date(2019, 11, 1), jurisdiction_ids=(WAKE,)))
    expected = json.loads(render(built, "json"))
    got = clients[None].get("/api/v1/reports/non-cooperative.json", params=PARAMS["non-cooperative"]).json()
    drop = ("manifest", "sources", "generated_by")  # carry the time they were made
    assert {k: v for k, v in got.items() if k not in drop} == {k: v for k, v in expected.items() if k not in drop}


@pytest.mark.parametrize("fmt", ["md", "csv", "json", "html", "pdf", "xlsx"])
def test_downloads_in_every_format_carry_no_identity_fields(clients, identities, tmp_path, fmt):
    response = clients["viewer"].get(f"/api/v1/reports/non-cooperative.{fmt}", params={"as_of": "2019-11-01"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == MEDIA[fmt]
    assert response.headers["content-disposition"] == f'attachment; filename="non-cooperative-2019-11-01.{fmt}"'
    body = response.content
    assert body
    if fmt == "pdf":
        assert body.startswith(b"%PDF")
    if fmt == "xlsx":
        assert zipfile.is_zipfile(io.BytesIO(body))
    text = text_of(body, fmt, tmp_path)
    assert "SYNTHETIC" in text and "Wake County" in text
    assert leaks(text, identities) == []


@pytest.mark.parametrize("name", NAMES)
def test_every_report_downloads_without_identity_fields(clients, identities, tmp_path, name):
    for fmt in ("md", "csv", "json", "html", "xlsx"):
        response = clients[None].get(f"/api/v1/reports/{name}.{fmt}", params=PARAMS[name])
        assert response.status_code == 200, (fmt, response.text)
        assert response.headers["content-type"].split(";")[0] == MEDIA[fmt]
        filename = re.fullmatch(r'attachment; filename="([A-Za-z0-9._-]+)"', response.headers["content-disposition"])
        assert filename and filename.group(1).startswith(name) and filename.group(1).endswith(f".{fmt}")
        assert leaks(text_of(response.content, fmt, tmp_path), identities) == [], (name, fmt)


def test_download_file_names_say_what_is_in_them(clients):
    def name_of(report, **params):
        disposition = clients[None].get(f"/api/v1/reports/{report}.csv", params=params).headers["content-disposition"]
        return disposition.split('filename="')[1].rstrip('"')

    assert name_of("declined", **PARAMS["declined"]) == "declined-2018-10-01-to-2019-09-30.csv"
    assert name_of("transfers", **PARAMS["transfers"]) == "transfers-FY2017-Raleigh-Durham.csv"
    assert name_of("transfers", fy_from=2016, fy_to=2018) == "transfers-FY2016-FY2018.csv"
    assert name_of("policy-change", **PARAMS["policy-change"]) == "policy-change-nc-wake-2018-12-03.csv"


def test_a_viewer_or_anonymous_asking_for_restricted_is_refused_not_downgraded(clients):
    for role in (None, "viewer"):
        for url in ("/api/v1/reports/non-cooperative", "/api/v1/reports/non-cooperative.csv"):
            response = clients[role].get(url, params={**PARAMS["non-cooperative"], "audience": "restricted"})
            assert response.status_code == 403, response.text
            assert response.json()["status"] == 403 and "analyst or admin" in response.json()["error"]
        page = clients[role].get("/reports/non-cooperative", params={"as_of": "2019-11-01", "audience": "restricted"})
        assert page.status_code == 403 and "analyst or admin" in page.text and "<html" in page.text


def test_restricted_reports_and_their_downloads_are_audited(fresh_site):
    analyst = signed_in(fresh_site, "analyst")
    params = {**PARAMS["non-cooperative"], "audience": "restricted"}
    known = identity_sets(fresh_site)

    report = analyst.get("/api/v1/reports/non-cooperative", params=params)
    assert report.status_code == 200 and report.json()["audience"] == "restricted"
    assert len(leaks(report.text, known)) >= 25 * 2  # the restricted audience gets names and dates of birth

    download = analyst.get("/api/v1/reports/non-cooperative.csv", params=params)
    assert download.status_code == 200
    assert download.headers["content-disposition"] == \
        'attachment; filename="non-cooperative-2019-11-01-restricted.csv"'
    assert len(leaks(download.text, known)) >= 25 * 2
    xlsx = analyst.get("/api/v1/reports/non-cooperative.xlsx", params=params)
    assert xlsx.status_code == 200

    exports = _audit(fresh_site, "export.report")
    assert [(actor, d["format"], d["report"], d["audience"]) for actor, d in exports] == [
        ("web:analyst", "csv", "non-cooperative", "restricted"), ("web:analyst", "xlsx", "non-cooperative",
                                                                   "restricted")]
    assert exports[0][1]["parameters"] == {"as_of": "2019-11-01", "stance": ["declines"], "jurisdiction": [WAKE]}
    assert exports[0][1]["address"] == "testclient"
    assert [(a, d["format"]) for a, d in _audit(fresh_site, "view.report")] == [("web:analyst", "json")]
    # Each build also records that identity fields were read, by the web user.
    assert [a for a, _ in _audit(fresh_site, "report.restricted")] == ["web:analyst"] * 3

    page = analyst.get("/reports/non-cooperative", params=params)
    assert page.status_code == 200 and "restricted audience" in page.text
    assert "audience=restricted" in page.text  # the download links keep the audience
    full = analyst.get("/reports/non-cooperative/full", params=params)
    assert full.status_code == 200 and len(leaks(full.text, known)) >= 25 * 2
    assert [(a, d["format"]) for a, d in _audit(fresh_site, "view.report")] == [("web:analyst", "json"),
                                                                                 ("web:analyst", "html")]
    # Public downloads by the same analyst are not audited as exports.
    analyst.get("/api/v1/reports/non-cooperative.csv", params=PARAMS["non-cooperative"])
    assert len(_audit(fresh_site, "export.report")) == 2


@pytest.mark.parametrize(("url", "params", "named"), [
    ("non-cooperative", {"as_of": "2019-02-30"}, "as_of"),
    ("non-cooperative", {"as_of": "1 Nov 2019"}, "as_of"),
    ("non-cooperative", {}, "as_of"),
    ("non-cooperative", {"as_of": "2019-11-01", "stance": "sometimes"}, "stance"),
    ("non-cooperative", {"as_of": "2019-11-01", "jurisdiction": "nc-nowhere"}, "jurisdiction"),
    ("non-cooperative", {"as_of": "2019-11-01", "audience": "everyone"}, "audience"),
    ("declined", {"from": "2019-10-01", "to": "2019-01-01"}, "to"),
    ("declined", {"from": "2019-10-01"}, "to"),
    ("transfers", {"fy_from": 1800, "fy_to": 2017}, "fy_from"),
    ("transfers", {"fy_from": 2017, "fy_to": "next"}, "fy_to"),
    ("transfers.pdf", {"fy_from": 1990, "fy_to": 2100}, "fy_to"),  # a century of years: too big to serve
    ("transfers", {"fy_from": 2017, "fy_to": 2017, "region": "Atlantis"}, "region"),
    ("transfers", {"fy_from": 2017, "fy_to": 2017, "by": "state"}, "by"),
    ("policy-change", {"jurisdiction": WAKE, "change_date": "2018-12-03", "window_days": 0}, "window_days"),
    ("policy-change", {"jurisdiction": "xx-none", "change_date": "2018-12-03"}, "jurisdiction"),
    ("rearrest", {"from": "2018-10-01", "to": "2019-09-30", "follow_days": 99999}, "follow_days"),
    ("rearrest.pdf", {"from": "1850-01-01", "to": "2019-09-30"}, "from"),
    ("rearrest", {"from": " 2018-10-01", "to": "2019-09-30"}, "from"),
    ("rearrest.docx", {"from": "2018-10-01", "to": "2019-09-30"}, "fmt"),
])
def test_bad_parameters_are_422_naming_the_parameter(clients, url, params, named):
    response = clients["viewer"].get(f"/api/v1/reports/{url}", params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == 422 and re.match(rf"{named}(\.\d+)?: ", body["error"]), body


def test_bad_parameters_on_a_page_keep_the_form(clients):
    response = clients[None].get("/reports/declined", params={"from": "2019-13-01", "to": "2019-12-31"})
    assert response.status_code == 422
    assert "from: &#39;2019-13-01&#39; is not a date (expected YYYY-MM-DD)" in response.text
    assert 'name="to" value="2019-12-31"' in response.text  # what the visitor typed stays
    unknown = clients[None].get("/reports/transfers", params={"fy_from": 2017, "fy_to": 2017, "region": "Atlantis"})
    assert unknown.status_code == 422 and "region: &#39;Atlantis&#39; is not a known region" in unknown.text
    assert clients[None].get("/reports/no-such-report").status_code == 404


# ---------------------------------------------------------------- pages

@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("name", NAMES)
def test_every_report_page_for_every_role(clients, identities, name, role):
    response = clients[role].get(f"/reports/{name}", params=PARAMS[name])
    assert response.status_code == 200, response.text
    html = response.text
    assert "SYNTHETIC" in html and HEADLINES[name] in html
    assert "Scope and data fidelity" in html and "public audience" in html
    for fmt in MEDIA:
        assert re.search(rf'href="/api/v1/reports/{name}\.{fmt}\?[^"]+"', html), fmt
    assert f'href="/reports/{name}/full?' in html
    if name != "rearrest":  # the re-arrest report has no charts
        assert '<svg role="img"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline scripts (CSP)
    assert ('name="audience"' in html) == (role in ("analyst", "admin"))
    assert leaks(html, identities) == []


def test_pages_show_the_demo_numbers(clients):
    html = clients[None].get("/reports/non-cooperative", params={"as_of": "2019-11-01"}).text
    row = re.search(r"<tr><td>Wake County, NC</td><td>declines</td>(.*?)</tr>", html).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["25", "11"]
    assert "As of 1 November 2019" in html
    html = clients["viewer"].get("/reports/transfers", params=PARAMS["transfers"]).text
    row = re.search(r"<tr><td>Raleigh-Durham</td><td>FY2017</td>(.*?)</tr>", html).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[0] == "691"


def test_forms_are_prefilled_from_the_loaded_data(site, clients):
    # The demo package says which day it describes (package.toml as_of): that is the default day,
    # not the latest lodged day (2019-11-04, a deliberate edge case of the demo).
    with site.engine.connect() as conn:
        last = conn.execute(select(func.max(detainers.c.lodged_on))).scalar()
    assert last.isoformat() == "2019-11-04"
    html = clients[None].get("/reports/non-cooperative").text
    assert 'name="as_of" value="2019-11-01"' in html
    assert "Show report" in html and "HTML</a>" not in html  # no report until asked
    html = clients[None].get("/reports/declined").text
    assert 'name="from" value="2018-10-01"' in html and 'name="to" value="2019-09-30"' in html  # the last whole FY
    html = clients[None].get("/reports/policy-change").text
    assert f'<option value="{WAKE}" selected>' in html and 'name="change_date" value="2018-12-03"' in html


def test_the_index_lists_every_report_with_a_description(clients):
    html = clients[None].get("/reports").text
    for name in NAMES:
        assert f'href="/reports/{name}"' in html
    assert "People held on a day, with an active detainer" in html
    latest = re.search(r'href="(/reports/non-cooperative\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert clients[None].get(latest).status_code == 200


def test_the_full_report_is_the_html_format(clients, identities):
    response = clients[None].get("/reports/declined/full", params=PARAMS["declined"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in response.headers
    assert "Scope and data fidelity" in response.text and "SYNTHETIC" in response.text
    assert leaks(response.text, identities) == []


# ---------------------------------------------------------------- OpenAPI

def test_openapi_declares_each_report_with_bounded_parameters(clients):
    spec = clients[None].get("/api/v1/openapi.json").json()
    for name in NAMES:
        for path in (f"/api/v1/reports/{name}", f"/api/v1/reports/{name}.{{fmt}}"):
            assert "get" in spec["paths"][path], path

    def params(path):
        return {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}

    nc = params("/api/v1/reports/non-cooperative")
    assert nc["as_of"]["required"] and nc["as_of"]["schema"]["format"] == "date"
    assert nc["audience"]["schema"]["enum"] == ["public", "restricted"]
    tr = params("/api/v1/reports/transfers")
    assert (tr["fy_from"]["schema"]["minimum"], tr["fy_from"]["schema"]["maximum"]) == (1990, 2100)
    pc = params("/api/v1/reports/policy-change")
    assert (pc["window_days"]["schema"]["minimum"], pc["window_days"]["schema"]["maximum"],
            pc["window_days"]["schema"]["default"]) == (1, 3660, 365)
    assert set(params("/api/v1/reports/declined")) == {"from", "to", "jurisdiction", "audience"}
    download = spec["paths"]["/api/v1/reports/rearrest.{fmt}"]["get"]
    assert params("/api/v1/reports/rearrest.{fmt}")["fmt"]["schema"]["enum"] == list(MEDIA)
    assert set(download["responses"]["200"]["content"]) == set(MEDIA.values())
    assert {"403", "422"} <= set(download["responses"])


def test_the_catalogue_lists_reports_and_parameters(clients):
    body = clients["analyst"].get("/api/v1/reports").json()
    assert [r["name"] for r in body["reports"]] == list(NAMES)
    transfers = next(r for r in body["reports"] if r["name"] == "transfers")
    fy_from = next(p for p in transfers["parameters"] if p["name"] == "fy_from")
    assert (fy_from["minimum"], fy_from["maximum"], fy_from["cli_flag"]) == (1990, 2100, "--fy-from")
    assert body["audiences"] == {"yours": "restricted", "may_restrict": True}
