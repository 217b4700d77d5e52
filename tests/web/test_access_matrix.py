"""Who may do what, for every route the app has, and what the public can never see.

`RULES` declares every route. A route added without a rule fails `test_every_route_has_a_rule`,
so nobody can add a page or an endpoint without deciding who may use it.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from detainers.store.schema import bookings, detainers, people
from tests.web.conftest import IdentityFinder, csrf_of, signed_in

EVERYONE, RESTRICTED, ADMIN = "everyone", "analyst or admin", "admin"
ROLES = (None, "viewer", "analyst", "admin")
ALLOWED = {EVERYONE: set(ROLES), RESTRICTED: {"analyst", "admin"}, ADMIN: {"admin"}}

# (method, route) → (who, a concrete address to try)
RULES = {
    ("GET", "/api/v1/openapi.json"): (EVERYONE, "/api/v1/openapi.json"),
    ("GET", "/favicon.ico"): (EVERYONE, "/favicon.ico"),
    ("GET", "/api/docs"): (EVERYONE, "/api/docs"),
    ("GET", "/login"): (EVERYONE, "/login"),
    ("POST", "/login"): (EVERYONE, "/login"),
    ("POST", "/logout"): (EVERYONE, "/logout"),
    ("GET", "/api/v1/me"): (EVERYONE, "/api/v1/me"),
    ("GET", "/api/v1/jurisdictions"): (EVERYONE, "/api/v1/jurisdictions?state=NC"),
    ("GET", "/api/v1/jurisdictions/{jurisdiction_id}"): (EVERYONE, "/api/v1/jurisdictions/nc-wake"),
    ("GET", "/api/v1/facilities"): (EVERYONE, "/api/v1/facilities"),
    ("GET", "/api/v1/detainers"): (EVERYONE, "/api/v1/detainers?jurisdiction_id=nc-wake&limit=50"),
    ("GET", "/api/v1/stats/outcomes"): (EVERYONE, "/api/v1/stats/outcomes?by=region&by=fy"),
    ("GET", "/api/v1/sources"): (EVERYONE, "/api/v1/sources"),
    ("GET", "/api/v1/agreements"): (EVERYONE, "/api/v1/agreements"),
    ("GET", "/api/v1/regions"): (EVERYONE, "/api/v1/regions"),
    ("GET", "/api/v1/classify"): (EVERYONE, "/api/v1/classify?text=AGG+SEXUAL+ASSLT+CHILD"),
    ("GET", "/api/v1/search"): (RESTRICTED, "/api/v1/search?q=nc-wake"),
    ("GET", "/"): (EVERYONE, "/?state=NC"),
    ("GET", "/jurisdictions"): (EVERYONE, "/jurisdictions"),
    ("GET", "/jurisdictions/{jurisdiction_id}"): (EVERYONE, "/jurisdictions/nc-wake?day=2019-11-01"),
    ("GET", "/sources"): (EVERYONE, "/sources"),
    ("GET", "/search"): (RESTRICTED, "/search?q=nc-wake"),
    ("POST", "/search"): (RESTRICTED, "/search"),
    ("GET", "/api/v1/reports"): (EVERYONE, "/api/v1/reports"),
    ("GET", "/reports"): (EVERYONE, "/reports"),
    ("GET", "/reports/{name}"): (EVERYONE, "/reports/non-cooperative?as_of=2019-11-01"),
    ("GET", "/reports/{name}/full"): (EVERYONE, "/reports/declined/full?from=2019-01-01&to=2019-06-30"),
    ("GET", "/api/v1/reports/non-cooperative"): (EVERYONE, "/api/v1/reports/non-cooperative?as_of=2019-11-01"),
    ("GET", "/api/v1/reports/non-cooperative.{fmt}"):
        (EVERYONE, "/api/v1/reports/non-cooperative.csv?as_of=2019-11-01"),
    ("GET", "/api/v1/reports/declined"): (EVERYONE, "/api/v1/reports/declined?from=2019-01-01&to=2019-06-30"),
    ("GET", "/api/v1/reports/declined.{fmt}"): (EVERYONE, "/api/v1/reports/declined.md?from=2019-01-01&to=2019-06-30"),
    ("GET", "/api/v1/reports/transfers"): (EVERYONE, "/api/v1/reports/transfers?fy_from=2017&fy_to=2018"),
    ("GET", "/api/v1/reports/transfers.{fmt}"): (EVERYONE, "/api/v1/reports/transfers.json?fy_from=2017&fy_to=2018"),
    ("GET", "/api/v1/reports/policy-change"):
        (EVERYONE, "/api/v1/reports/policy-change?jurisdiction=nc-wake&change_date=2018-12-03"),
    ("GET", "/api/v1/reports/policy-change.{fmt}"):
        (EVERYONE, "/api/v1/reports/policy-change.csv?jurisdiction=nc-wake&change_date=2018-12-03"),
    ("GET", "/api/v1/reports/rearrest"): (EVERYONE, "/api/v1/reports/rearrest?from=2018-01-01&to=2018-06-30"),
    ("GET", "/api/v1/reports/rearrest.{fmt}"): (EVERYONE, "/api/v1/reports/rearrest.md?from=2018-01-01&to=2018-06-30"),
    ("GET", "/admin/users"): (ADMIN, "/admin/users"),
    ("POST", "/admin/users"): (ADMIN, "/admin/users"),
    ("POST", "/admin/users/{username}/role"): (ADMIN, "/admin/users/nobody-at-all/role"),
    ("POST", "/admin/users/{username}/disable"): (ADMIN, "/admin/users/nobody-at-all/disable"),
    ("POST", "/admin/users/{username}/enable"): (ADMIN, "/admin/users/nobody-at-all/enable"),
    ("POST", "/admin/users/{username}/password"): (ADMIN, "/admin/users/nobody-at-all/password"),
    ("GET", "/admin/audit"): (ADMIN, "/admin/audit"),
    ("GET", "/admin/policies/{jurisdiction_id}"): (ADMIN, "/admin/policies/nc-wake"),
    ("POST", "/admin/policies/{jurisdiction_id}"): (ADMIN, "/admin/policies/nc-wake"),
    ("GET", "/upload"): (RESTRICTED, "/upload"),
    ("POST", "/upload"): (RESTRICTED, "/upload"),
    ("GET", "/upload/jobs/{job_id}"): (RESTRICTED, "/upload/jobs/no-such-job"),
    ("GET", "/upload/jobs/{job_id}/status"): (RESTRICTED, "/upload/jobs/no-such-job/status"),
}


def app_routes(app) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, routers included (HEAD and the static mount aside)."""
    found = set()

    def add(route, prefix=""):
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add((method, prefix + route.path))

    for route in app.routes:
        if type(route).__name__ == "_IncludedRouter":  # FastAPI's included routers
            prefix = getattr(route.include_context, "prefix", "") or ""
            for sub in route.original_router.routes:
                add(sub, prefix)
        else:
            add(route)
    return found


def test_every_route_has_a_rule(site):
    routes = app_routes(site.app)
    assert routes - set(RULES) == set(), "routes without an access rule"
    assert set(RULES) - routes == set(), "rules for routes that do not exist"


def _denied(response, role, path: str) -> bool:
    if role is None:  # not signed in: the API says 401, pages send you to the sign-in form
        if path.startswith("/api/"):
            return response.status_code == 401
        return response.status_code == 303 and response.headers["location"].startswith("/login")
    return response.status_code == 403


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_who_may_read_what(site, role):
    client = signed_in(site, role)
    checked = 0
    for (method, _), (who, path) in sorted(RULES.items()):
        if method != "GET":
            continue
        response = client.get(path, follow_redirects=False)
        if role in ALLOWED[who]:
            assert response.status_code in (200, 301, 404), (role, path, response.status_code, response.text[:300])
            assert not _denied(response, role, path)
        else:
            assert _denied(response, role, path), (role, path, response.status_code)
        checked += 1
    assert checked == sum(1 for m, _ in RULES if m == "GET")


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_who_may_change_what(fresh_site, role):
    """Every POST: refused for roles that may not use it (before anything happens); refused without the
    CSRF token even for roles that may; accepted as a request (not 401/403) for roles that may."""
    client = signed_in(fresh_site, role)
    token = csrf_of(client.get("/login").text)
    for (method, _), (who, path) in sorted(RULES.items()):
        if method != "POST" or path in ("/login", "/logout"):
            continue
        without = client.post(path, data={"x": "1"}, follow_redirects=False)
        with_token = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        if role in ALLOWED[who]:
            assert without.status_code == 403 and "CSRF" in without.text, (role, path, without.status_code)
            assert with_token.status_code not in (401, 403), (role, path, with_token.status_code)
        else:
            assert _denied(without, role, path) or without.status_code == 403, (role, path, without.status_code)
            assert _denied(with_token, role, path), (role, path, with_token.status_code)


def _finder(site) -> IdentityFinder:
    """Names, dates of birth (ISO and US spellings) and the raw ids that stand for a person."""
    with site.engine.connect() as conn:
        ids = [v for column in (people.c.person_id, bookings.c.booking_id, detainers.c.detainer_id)
               for v in conn.execute(select(column)).scalars()]
    return IdentityFinder(site.identities(), ids)


SKIP_CRAWL = (".pdf", ".xlsx", ".html")  # pdf/xlsx: checked with pdftotext/openpyxl in test_reports_web; html: the same page as /full


def crawl(client: TestClient, starts: list[str], limit: int = 400) -> dict[str, str]:
    """Follow every link on this site from `starts` (GET only); the pages and answers found, by address."""
    seen: dict[str, str] = {}
    queue = deque(starts)
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen or urlsplit(url).path.startswith("/static/") or urlsplit(url).path.endswith(SKIP_CRAWL):
            continue
        response = client.get(url)
        seen[url] = response.text
        if "html" not in response.headers.get("content-type", ""):
            continue
        for href in re.findall(r'href="([^"#]+)', response.text):
            href = href.replace("&amp;", "&")
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc in ("", "testserver") and parts.path.startswith("/"):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


@pytest.mark.parametrize("role", (None, "viewer"), ids=("anonymous", "viewer"))
def test_the_public_never_sees_a_name_a_birth_date_or_a_raw_id(site, role):
    client = signed_in(site, role)
    starts = ["/", "/?state=NC", "/?state=NC&view=volume", "/jurisdictions", "/reports", "/sources",
              *[path for (method, _), (who, path) in RULES.items() if method == "GET" and who == EVERYONE],
              "/api/v1/detainers?limit=500", "/api/v1/detainers?limit=500&offset=500",
              "/jurisdictions/nc-mecklenburg?day=2019-11-01", "/reports/declined?from=2018-10-01&to=2019-09-30",
              "/reports/rearrest?from=2018-01-01&to=2018-12-31", "/api/v1/reports/rearrest?from=2018-01-01&to=2018-12-31",
              "/api/v1/reports/declined.csv?from=2018-10-01&to=2019-09-30"]
    pages = crawl(client, starts)
    assert len(pages) > 60, sorted(pages)  # the crawl really went through the site
    finder = _finder(site)
    assert len(finder.names) > 5000 and len(finder.ids) > 15000
    for url, body in pages.items():
        assert finder(body) == set(), url


def test_the_same_check_finds_names_in_what_an_analyst_sees(site):
    """The leak check is not vacuous: in the restricted view the same strings are there."""
    client = signed_in(site, "analyst")
    body = client.get("/jurisdictions/nc-wake?day=2019-11-01").text
    assert len(_finder(site)(body)) >= 50  # 25 names and 25 dates of birth, at least
