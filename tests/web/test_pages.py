"""The main pages: the county map, jurisdictions, sources and search, for every role."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from detainers.demo import WAKE
from detainers.store.schema import (
    audit_log,
    bookings,
    charges,
    detainers,
    facilities,
    jurisdictions,
    people,
    person_identities,
    policies,
    sources,
)
from detainers.web import mapview
from detainers.web.app import create_app
from detainers.web.settings import WebSettings
from tests.web.conftest import csrf_of, signed_in

ROLES = (None, "viewer", "analyst", "admin")
AS_OF = "2019-11-01"
WAKE_PAGE = f"/jurisdictions/{WAKE}"
NC_COUNTIES = {"nc-durham", "nc-franklin", "nc-johnston", "nc-mecklenburg", "nc-orange", "nc-wake"}


@pytest.fixture(scope="module")
def clients(site):
    """One signed-in client per role (None: anonymous), made once per backend."""
    made = {role: signed_in(site, role) for role in ROLES}
    yield made
    for client in made.values():
        client.close()


def _entries(site, action: str) -> list[tuple[str, dict]]:
    with site.engine.connect() as conn:
        return [(r.actor, json.loads(r.detail)) for r in
                conn.execute(select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.entry_id))]


def _section(html: str, section_id: str) -> str:
    """The HTML of one `<section ... aria-labelledby="id">` of a page."""
    start = html.index(f'aria-labelledby="{section_id}"')
    return html[start:html.index("</section>", start)]


def _svg(html: str) -> str:
    start = html.index('<svg class="county-map"')
    return html[start:html.index("</svg>", start) + 6]


# ---------------------------------------------------------------- who may see what

OPEN = {None: 200, "viewer": 200, "analyst": 200, "admin": 200}
RESTRICTED = {None: 303, "viewer": 403, "analyst": 200, "admin": 200}
MISSING = {None: 404, "viewer": 404, "analyst": 404, "admin": 404}
MATRIX = [
    ("/", OPEN),
    ("/?view=volume&state=NC&fy=2019", OPEN),
    (f"/?view=stance&state=NC&day={AS_OF}", OPEN),
    ("/jurisdictions", OPEN),
    ("/jurisdictions?q=wake&state=NC&stance=declines&sort=-detainers", OPEN),
    (WAKE_PAGE, OPEN),
    (f"{WAKE_PAGE}?day={AS_OF}&from=2018-01-01&to=2019-06-30&cohort=ended", OPEN),
    ("/jurisdictions/no-such-place", MISSING),
    ("/sources", OPEN),
    ("/search", RESTRICTED),
    ("/search?q=Teodoro", RESTRICTED),
]


@pytest.mark.parametrize("path,expected", MATRIX, ids=[m[0] for m in MATRIX])
def test_every_page_answers_every_role_as_its_role_allows(site, clients, path, expected):
    for role, status in expected.items():
        response = clients[role].get(path, follow_redirects=False)
        assert response.status_code == status, (role, path, response.text[:300])
        if status == 303:
            assert response.headers["location"].startswith("/login?next=")
        elif status == 403:
            assert "This needs the analyst or admin role" in response.text
        elif status == 404:
            assert "No jurisdiction &#39;no-such-place&#39;." in response.text
        else:
            assert "<h1>" in response.text and "SYNTHETIC" in response.text


def test_with_anonymous_access_off_every_page_asks_to_sign_in(site):
    app = create_app(WebSettings(db_url=site.url, anonymous="off"))
    try:
        client = TestClient(app)
        for path in ("/", "/jurisdictions", WAKE_PAGE, "/sources", "/search"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
    finally:
        app.state.engine.dispose()


def test_bad_parameters_get_an_error_page_not_a_crash(clients):
    client = clients["viewer"]
    cases = {
        "/?state=ZZ": "no county in the data is in ZZ",
        "/?fy=1800": "1990–2100",
        "/?day=2019-02-30": "is not a date",
        f"{WAKE_PAGE}?from=2019-06-01&to=2019-01-01": "the period must run forwards",
        f"{WAKE_PAGE}?from=2000-01-01&to=2019-01-01": "choose at most 120",
        "/jurisdictions?sort=fips": "sort",
        "/jurisdictions?page=0": "page",
    }
    for path, message in cases.items():
        response = client.get(path)
        assert response.status_code == 422, path
        assert message in response.text, (path, response.text[:400])


# ---------------------------------------------------------------- the map


def test_the_map_links_each_demo_county_to_its_page_and_has_a_legend(clients):
    html = clients[None].get(f"/?state=NC&day={AS_OF}").text
    svg = _svg(html)
    links = set(re.findall(r'<a href="/jurisdictions/([^"]+)">', svg))
    assert links == NC_COUNTIES  # every NC county in the data, and nothing else, is a link
    assert '<a href="/jurisdictions/nc-wake"><title>Wake County, NC: declines detainers</title>' in svg
    assert "xlink:href" not in svg and "vega-datasets" not in svg and "<a>" not in svg
    assert svg.count("<path") > 100  # the other NC counties are drawn (grey), without links
    legend = html[html.index('<ul class="legend"'):html.index("</ul>", html.index('<ul class="legend"'))]
    for label in ("Declines detainers", "Honors only under conditions", "Honors detainers", "No policy recorded",
                  "No jurisdiction in the data"):
        assert label in legend
    assert "Declines detainers <span class=\"muted\">(3)</span>" in legend  # Wake, Mecklenburg, Orange
    table = html[html.index("Jurisdictions shown"):]
    assert '<a href="/jurisdictions/nc-wake">Wake County</a>' in table
    assert "State of North Carolina" in table and "(not on the map)" in table
    assert "Franklin County" in table and ">OH<" not in table  # the NC view lists NC only


def test_the_national_map_shows_every_state_with_data(clients):
    html = clients["viewer"].get("/").text
    links = set(re.findall(r'<a href="/jurisdictions/([^"]+)">', _svg(html)))
    assert links == NC_COUNTIES | {"oh-franklin", "tx-harris"}
    assert "U.S. Immigration and Customs Enforcement" in html  # listed under the map, though not on it
    assert 'href="/?view=stance&amp;state=NC' in html  # zoom to a state


def test_the_volume_map_colours_by_detainers_lodged(clients):
    html = clients["viewer"].get("/?view=volume&state=NC").text
    assert "Wake County, NC: 2,073 detainers lodged" in _svg(html)
    legend = html[html.index('<ul class="legend"'):]
    assert "1,000 or more" in legend and "None lodged" in legend
    assert '<td class="num">2,073</td>' in html
    fy = clients["viewer"].get("/?view=volume&state=NC&fy=2017").text
    assert "in FY2017" in fy and "Wake County, NC: 2,073" not in fy


def test_the_map_is_drawn_once_and_then_served_from_the_cache(site, clients, monkeypatch):
    path = "/?view=stance&state=TX&day=2016-06-01"
    first = clients["viewer"].get(path)
    assert first.status_code == 200

    def fail(*args, **kwargs):
        raise AssertionError("the map was drawn again")

    monkeypatch.setattr(mapview, "render", fail)
    second = clients["analyst"].get(path)
    assert second.status_code == 200 and _svg(second.text) == _svg(first.text)
    # Another day under the same policies is the same drawing: asking for many days draws no more maps.
    third = clients["viewer"].get("/?view=stance&state=TX&day=2016-06-02")
    assert third.status_code == 200 and _svg(third.text) == _svg(first.text)
    with site.engine.connect() as conn:
        version = mapview.data_version(conn)
    keys = [k for k in mapview.cache_of(site.app)._items if k[:2] == ("stance", "TX")]
    assert len(keys) == 1 and keys[0][-1] == version


def test_a_new_source_changes_the_data_version(fresh_site):
    with fresh_site.engine.begin() as conn:
        before = mapview.data_version(conn)
        conn.execute(insert(sources).values(kind="package", name="another", sha256="0" * 64,
                                            loaded_at=date(2024, 1, 1), rows_read=0))
        assert mapview.data_version(conn) != before


# ---------------------------------------------------------------- jurisdictions


def test_the_jurisdiction_list_filters_sorts_and_links(clients):
    client = clients["viewer"]
    html = client.get("/jurisdictions?q=wake").text
    assert "Showing 1–1 of 1 jurisdiction." in html and '<a href="/jurisdictions/nc-wake">Wake County</a>' in html
    html = client.get("/jurisdictions?stance=declines&on=2019-11-01&sort=-detainers").text
    names = re.findall(r'<a href="/jurisdictions/[^"]+">([^<]+)</a>', html)
    assert names == ["Wake County", "Mecklenburg County", "Orange County"]
    assert 'aria-sort="descending"' in html
    html = client.get("/jurisdictions?stance=declines&on=2018-01-01").text
    assert re.findall(r'<a href="/jurisdictions/[^"]+">([^<]+)</a>', html) == ["Orange County"]


def test_the_public_jurisdiction_page_shows_the_timeline_and_counts_only(site, clients):
    before = len(_entries(site, "view.held"))
    for role in (None, "viewer"):
        html = clients[role].get(f"{WAKE_PAGE}?day={AS_OF}").text
        assert "<h1>Wake County, NC</h1>" in html and "FIPS 37183" in html
        timeline = _section(html, "timeline")
        assert "2008-06-01" in timeline and "2018-12-03" in timeline
        assert "honors" in timeline and "declines" in timeline and "287(g) jail enforcement model" in timeline
        assert "in force on 2019-11-01" in timeline
        held = _section(html, "held")
        assert '<div class="value">25</div>' in held
        assert "<td>Sexual offense against a child</td><td class=\"num\">11</td>" in held
        assert "&lt;5" in held  # small counts suppressed
        assert "person" not in re.findall(r'<tr class="([^"]+)"', held)
        for name, dob in site.identities():
            assert name not in html
            assert dob is None or dob not in html
        assert "b-wake-held" not in html and "p-wake-held" not in html  # no raw booking or person ids
        assert "Wake County Detention Center" in _section(html, "facilities")
        reports = _section(html, "reports")
        assert "/reports/declined?jurisdiction=nc-wake&amp;from=" in reports
        assert "/reports/policy-change?jurisdiction=nc-wake&amp;change_date=2018-12-03" in reports
    assert len(_entries(site, "view.held")) == before  # nothing restricted was shown


def test_the_public_page_never_runs_the_identity_query(clients, monkeypatch):
    from detainers.analytics import custody

    def refuse(*args, **kwargs):
        raise AssertionError("identity query for the public audience")

    monkeypatch.setattr(custody, "identities_of", refuse)
    assert clients["viewer"].get(f"{WAKE_PAGE}?day={AS_OF}").status_code == 200
    assert clients["analyst"].get(f"{WAKE_PAGE}?day={AS_OF}").status_code == 500  # the analyst view needs it


def test_the_analyst_sees_the_25_people_held_and_the_view_is_audited(site, clients):
    html = clients["analyst"].get(f"{WAKE_PAGE}?day={AS_OF}").text
    held = _section(html, "held")
    assert held.count('<tr class="person">') == 25
    names = {name for name, _ in site.identities() if name and name in held}
    assert len(names) == 25
    assert "Charged with" in held and "convicted of" in held.lower()  # the explanation, not a label
    stages = set(re.findall(r'<span class="stage ([a-z_]+)">', held))
    assert stages and stages <= {"pending", "convicted", "dismissed", "unknown"}
    actor, detail = _entries(site, "view.held")[-1]
    assert actor == "web:analyst"
    assert detail["jurisdiction"] == WAKE and detail["as_of"] == AS_OF and detail["people"] == 25
    assert detail["address"] == "testclient"


def test_the_monthly_chart_follows_the_chosen_period(clients):
    html = clients["viewer"].get(f"{WAKE_PAGE}?from=2018-07-01&to=2019-06-30&cohort=ended").text
    monthly = _section(html, "monthly")
    assert '<svg role="img" aria-label="Detainers that ended per month, by outcome, Wake County, NC"' in monthly
    assert "2018-07-01 to 2019-06-30" in monthly
    months = re.findall(r"<tr><td>(\d{4}-\d{2})</td>", monthly)
    assert months[0] == "2018-07" and months[-1] == "2019-06"
    default = _section(clients["viewer"].get(WAKE_PAGE).text, "monthly")
    assert 'name="from" value="2017-12-01"' in default and 'name="to" value="2019-11-30"' in default


# ---------------------------------------------------------------- sources


def test_the_sources_page_lists_the_demo_source_as_synthetic(site, clients):
    with site.engine.connect() as conn:
        name = conn.execute(select(sources.c.name).where(sources.c.source_id == 1)).scalar_one()
    html = clients[None].get("/sources").text
    assert f"#1 · {name}</span>" in html and '<span class="pill">package</span>' in html
    assert '<span class="pill synthetic">SYNTHETIC</span>' in html
    assert "detainers.csv" in html and "5,550" in html
    assert "No unreadable cells" in html
    assert "facilities with no jurisdiction" in html


# ---------------------------------------------------------------- search


def _search(client, q: str):
    """Send the search form, as a browser does (POST with the page's CSRF token)."""
    token = csrf_of(client.get("/login").text)
    return client.post("/search", data={"q": q, "csrf_token": token})


def test_search_finds_a_person_by_name_for_analysts_and_is_audited(site, clients):
    name, dob = next((n, d) for n, d in site.identities() if n and d)
    surname = name.split()[-1]
    response = _search(clients["analyst"], surname)
    assert response.status_code == 200
    assert name in response.text and dob in response.text and "Bookings (" in response.text
    actor, detail = _entries(site, "view.search")[-1]
    assert actor == "web:analyst" and detail["query"] == surname and detail["results"] >= 1
    assert _search(clients["viewer"], surname).status_code == 403
    assert _entries(site, "view.search")[-1] == (actor, detail)  # the refused search was not run
    # A link (GET) only fills in the form: nothing is searched or audited until the analyst sends it.
    linked = clients["analyst"].get("/search", params={"q": surname})
    assert linked.status_code == 200 and f'value="{surname}"' in linked.text and name not in linked.text
    assert _entries(site, "view.search")[-1] == (actor, detail)


def test_search_by_booking_number_and_a_too_short_query(site, clients):
    with site.engine.connect() as conn:
        booking_id, person_id = conn.execute(select(bookings.c.booking_id, bookings.c.person_id)
                                             .order_by(bookings.c.booking_id).limit(1)).one()
    html = _search(clients["admin"], booking_id).text
    assert "1 person found" in html and person_id in html and "booking id" in html
    short = _search(clients["admin"], "x")
    assert short.status_code == 422 and "at least 2 characters" in short.text


# ---------------------------------------------------------------- hostile text


HOSTILE = '<script>alert("x")</script>'


def test_hostile_text_from_the_data_is_shown_as_text(fresh_site):
    with fresh_site.engine.begin() as conn:
        source_id = conn.execute(insert(sources).values(
            kind="jail-csv", name=f"jail {HOSTILE}.csv", sha256="f" * 64, loaded_at=date(2024, 1, 2),
            rows_read=3, quality=json.dumps({f"name {HOSTILE}: not readable": 2}))).inserted_primary_key[0]
        conn.execute(insert(jurisdictions).values(jurisdiction_id="nc-alamance", name=f"Alamance {HOSTILE}",
                                                  state="NC", kind="county", fips="37001", source_id=source_id))
        conn.execute(insert(policies).values(jurisdiction_id="nc-alamance", effective_from=date(2010, 1, 1),
                                             stance="limited", agreement="none", criteria=f"only {HOSTILE}",
                                             citation=HOSTILE))
        conn.execute(insert(facilities).values(facility_id="nc-alamance-jail", name=f"Jail {HOSTILE}",
                                               jurisdiction_id="nc-alamance", kind="county_jail", city="Graham",
                                               state="NC"))
        conn.execute(insert(people).values(person_id="p-hostile"))
        conn.execute(insert(person_identities).values(person_id="p-hostile", name=f"Mallory {HOSTILE}"))
        conn.execute(insert(bookings).values(booking_id="b-hostile", person_id="p-hostile",
                                             facility_id="nc-alamance-jail", booked_on=date(2019, 10, 1)))
        conn.execute(insert(detainers).values(detainer_id="d-hostile", person_id="p-hostile",
                                              facility_id="nc-alamance-jail", booking_id="b-hostile",
                                              booking_link="given", lodged_on=date(2019, 10, 2),
                                              outcome="in_custody", lodged_fy=2020))
        conn.execute(insert(charges).values(charge_id="c-hostile", booking_id="b-hostile",
                                            description=f"THEFT {HOSTILE}", category="theft_fraud",
                                            category_origin="source", stage="pending", level="misdemeanor"))
        conn.execute(update(sources).where(sources.c.source_id == 1).values(
            quality=json.dumps({"lodged_on: not a date": 3})))
    analyst = signed_in(fresh_site, "analyst")
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    pages = {
        "/?state=NC": 1, "/jurisdictions": 1, "/jurisdictions/nc-alamance?day=2019-11-01": 6,
        "/sources": 2, "search:Mallory": 3,
    }
    for path, at_least in pages.items():
        html = _search(analyst, path.split(":", 1)[1]).text if path.startswith("search:") else analyst.get(path).text
        assert HOSTILE not in html and "<script>alert" not in html, path
        shown = html.count(escaped) + html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
        assert shown >= at_least, (path, shown)
    svg = _svg(analyst.get("/?state=NC").text)
    assert '<a href="/jurisdictions/nc-alamance"><title>Alamance &lt;script&gt;' in svg
    sources_html = analyst.get("/sources").text
    assert "lodged_on: not a date" in sources_html and '<td class="num">3</td>' in sources_html
    assert "<td>jail-csv</td>" not in sources_html and '<span class="pill">jail-csv</span>' in sources_html


def _monthly_table(html: str) -> dict[tuple[str, str], str]:
    table = html.split("The numbers behind the chart", 1)[1].split("</table>", 1)[0]
    heads = re.findall(r'<th scope="col" class="num">([^<]+)</th>', table)
    cells = {}
    for month, row in re.findall(r"<tr><td>(\d{4}-\d{2})</td>(.*?)</tr>", table):
        values = re.findall(r'<td class="num">(.*?)</td>', row)
        cells.update({(month, h): re.sub(r"<[^>]+>", "", v) for h, v in zip(heads, values)})
    return cells


def test_suppressed_monthly_counts_are_marked_not_shown_as_zero(clients):
    path = "/jurisdictions/nc-durham?from=2015-01-01&to=2024-12-31"
    exact = _monthly_table(clients["analyst"].get(path).text)
    public = _monthly_table(clients["viewer"].get(path).text)
    small = [k for k, v in exact.items() if v.isdigit() and 1 <= int(v) <= 4]
    assert small, "the demo should have small monthly counts here"
    for key in small:
        assert public.get(key) == "suppressed", (key, exact[key], public.get(key))
    for key, value in public.items():
        assert value == "suppressed" or value == exact.get(key, "0"), (key, value, exact.get(key))
