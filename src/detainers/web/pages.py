"""Server-rendered pages over the same analytics as the CLI and the API.

`/` the county map; `/jurisdictions` the list and `/jurisdictions/{id}` one jurisdiction
(policy timeline, monthly detainers, people held, facilities, 287(g) agreements);
`/sources` what was loaded; `/search` (restricted) people by key, booking or name.

Identity fields are fetched only for the restricted audience: the public jurisdiction page
never runs the identity query, and shows counts (small ones suppressed) instead of people.
Every page that shows identity fields writes an audit entry in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from sqlalchemy import Connection, func, select
from starlette.exceptions import HTTPException

from detainers import audit
from detainers.analytics import custody
from detainers.analytics.jurisdictions import STANCE_FILTERS, jurisdiction_detail, jurisdiction_list
from detainers.analytics.monthly import monthly_outcomes, months_between
from detainers.analytics.provenance import SYNTHETIC_LABEL, source_list, unplaced_facilities
from detainers.errors import InputError
from detainers.fiscal import fiscal_year
from detainers.model import OUTCOME_ORDER
from detainers.offenses import CATEGORIES, most_serious
from detainers.privacy import Keyer, installation_secret
from detainers.reports import charts, suppress
from detainers.store.schema import agreements, detainers, facilities
from detainers.web import mapview
from detainers.web.deps import Principal, csrf_checked, principal, require
from detainers.web.search import search_people
from detainers.web.templating import page, synthetic_loaded

router = APIRouter(include_in_schema=False)

DATE_PATTERN = r"^((19\d\d|20\d\d|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))?$"  # 1900–2100, or empty
STATE_PATTERN = r"^([A-Za-z]{2})?$"
PAGE_SIZE = 50
#: At most this many rows in the table under the map (the full list is /jurisdictions).
MAP_TABLE_ROWS = 500
#: The longest monthly chart, in months.
MAX_MONTHS = 120
DEFAULT_MONTHS = 24
CATEGORY_LABELS = {c.id: c.label for c in CATEGORIES}
CATEGORY_RANKS = {c.id: c.rank for c in CATEGORIES}
AGREEMENT_LABELS = {"287g-jem": "287(g) jail enforcement model", "287g-wso": "287(g) warrant service officer",
                    "287g-tfm": "287(g) task force model", "jem": "Jail enforcement model",
                    "wso": "Warrant service officer", "tfm": "Task force model", "none": "none"}
STAGE_WORDS = {"pending": "pending", "convicted": "convicted", "dismissed": "dismissed", "unknown": "stage unknown"}
FACILITY_KINDS = {"county_jail": "county jail", "city_jail": "city jail", "state_prison": "state prison",
                  "federal_prison": "federal prison", "ice_detention": "ICE detention"}


def _day(value: str | None, what: str) -> date | None:
    """A YYYY-MM-DD query value (already matched by DATE_PATTERN) as a date; empty is None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{what}: {value!r} is not a date (expected YYYY-MM-DD).") from None


def jurisdiction_href(jurisdiction_id: str) -> str:
    return f"/jurisdictions/{quote(jurisdiction_id, safe='')}"


def _href(path: str, **params) -> str:
    """A site path with the non-empty parameters as its query string."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


# ---------------------------------------------------------------- the map


@router.get("/")
def home(request: Request, p: Principal = Depends(principal),
         view: Literal["stance", "volume"] = Query("stance", description="Colour counties by stance or volume."),
         state: str = Query("", pattern=STATE_PATTERN, description="One state (postal code); empty: the nation."),
         day: str = Query("", pattern=DATE_PATTERN, description="The day whose policies are shown."),
         fy: str = Query("all", pattern=r"^(all|\d{4})$", description="Fiscal year of the detainer counts.")):
    state = state.upper() or None
    fiscal = None if fy == "all" else int(fy)
    if fiscal is not None and not 1990 <= fiscal <= 2100:
        raise InputError(f"fy: {fy} is not a fiscal year this data could hold (1990–2100), or use 'all'.")
    with request.app.state.engine.connect() as conn:
        latest = mapview.latest_day(conn)
        chosen = _day(day, "day") or latest or date.today()
        states = mapview.state_choices(conn)
        by_code = {s["state"]: s for s in states}
        if state and state not in by_code:
            shown = ", ".join(by_code) or "none"
            raise InputError(f"state: no county in the data is in {state} (states with counties: {shown}).")
        q = mapview.MapQuery(view=view, state=state, day=chosen, fy=fiscal)
        rows = mapview.jurisdiction_rows(conn, q)
        years = mapview.fiscal_years(conn)
        version = mapview.data_version(conn)
        synthetic = synthetic_loaded(conn)
    legend = mapview.classify(rows, view)
    state_fips = by_code[state]["fips"] if state else None
    place = by_code[state]["name"] if state else "the United States"
    what = ("the detainer policy in force on the day shown above" if view == "stance"
            else f"detainers lodged {'in FY' + str(fiscal) if fiscal else 'in all years loaded'}")
    label = f"Map of the counties of {place}, coloured by {what}. Each county in the data links to its page."
    # Keyed by what is drawn, not by the day asked for: every day under the same policies shares one
    # drawing, so asking for many days cannot make the server draw many maps.
    drawn = tuple(sorted((r["fips"], r.get("cls"), mapview.county_label(r, view), r["jurisdiction_id"])
                         for r in rows if r["fips"] and r.get("cls")))
    key = (view, state, label, drawn, tuple((i["key"], i["colour"]) for i in legend), version)
    svg, _ = mapview.cache_of(request.app).get(key, lambda: mapview.render(rows, legend, view, state_fips, label))
    for r in rows:
        r["href"] = jurisdiction_href(r["jurisdiction_id"])
    mapped = [r for r in rows if r["fips"]]
    stances = Counter(r["stance"] for r in mapped)

    def area_link(code: str) -> str:
        return _href("/", view=view, state=code, day=day, fy=fy if fy != "all" else "")

    return page(request, "map.html", title="Map", nav="map", synthetic=synthetic, svg=svg,
                area_link=area_link,
                legend=legend, rows=rows[:MAP_TABLE_ROWS], more_rows=max(0, len(rows) - MAP_TABLE_ROWS),
                view=view, state=state or "", states=states, day=chosen.isoformat(),
                latest=latest.isoformat() if latest else None, fy=fy, years=years, fiscal=fiscal, place=place,
                mapped=len(mapped), stances=stances, total_detainers=sum(r["detainers"] for r in rows),
                unmapped=len(rows) - len(mapped), stance_labels=mapview.STANCE_LABELS)


# ---------------------------------------------------------------- jurisdictions


@router.get("/jurisdictions")
def jurisdictions_page(
        request: Request, p: Principal = Depends(principal),
        q: str = Query("", max_length=100, description="Part of a name."),
        state: str = Query("", pattern=STATE_PATTERN),
        stance: Literal["", "declines", "limited", "honors", "unknown"] = Query(""),
        sort: Literal["name", "-name", "state", "-state", "detainers", "-detainers"] = Query("name"),
        on: str = Query("", pattern=DATE_PATTERN, description="The day whose policies are shown (default today)."),
        page_no: int = Query(1, alias="page", ge=1, le=100_000)):
    day = _day(on, "on") or date.today()
    with request.app.state.engine.connect() as conn:
        total, items = jurisdiction_list(conn, day, state=state.upper() or None, stance=stance or None,
                                         q=q.strip() or None, sort=sort, limit=PAGE_SIZE,
                                         offset=(page_no - 1) * PAGE_SIZE)
        states = sorted({s["state"] for s in mapview.state_choices(conn)}
                        | {r.state for r in conn.execute(select(facilities.c.state).distinct()) if r.state})
        synthetic = synthetic_loaded(conn)
    for item in items:
        item["href"] = jurisdiction_href(item["jurisdiction_id"])
    pages = max(1, -(-total // PAGE_SIZE))
    params = {"q": q, "state": state.upper(), "stance": stance, "on": on}

    def sort_link(key: str) -> str:
        return _href("/jurisdictions", **params, sort=f"-{key}" if sort == key else key)

    sorted_by = {sort.lstrip("-"): "descending" if sort.startswith("-") else "ascending"}
    return page(request, "jurisdictions.html", title="Jurisdictions", nav="jurisdictions", synthetic=synthetic,
                items=items, total=total, q=q, state=state.upper(), stance=stance, sort=sort, on=on,
                day=day.isoformat(), states=states, stances=STANCE_FILTERS, page_no=page_no, pages=pages,
                sort_link=sort_link, sorted_by=sorted_by,
                prev_link=_href("/jurisdictions", **params, sort=sort, page=page_no - 1) if page_no > 1 else None,
                next_link=_href("/jurisdictions", **params, sort=sort, page=page_no + 1) if page_no < pages else None,
                first=(page_no - 1) * PAGE_SIZE + 1)


def _detainer_span(conn: Connection, jurisdiction_id: str) -> tuple[date | None, date | None]:
    """First and last day a detainer of this jurisdiction was lodged or ended."""
    joined = detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id)
    row = conn.execute(select(func.min(detainers.c.lodged_on), func.max(detainers.c.lodged_on),
                              func.max(detainers.c.ended_on))
                       .select_from(joined).where(facilities.c.jurisdiction_id == jurisdiction_id)).one()
    last = max((d for d in (row[1], row[2]) if d is not None), default=None)
    return row[0], last


def _agreements_of(conn: Connection, jurisdiction_id: str) -> list:
    """Every 287(g) agreement span attributed to the jurisdiction (not only those in force on one day)."""
    return list(conn.execute(select(agreements).where(agreements.c.jurisdiction_id == jurisdiction_id)
                             .order_by(agreements.c.active_from, agreements.c.model)))


def _default_period(first: date | None, last: date | None, fallback: date) -> tuple[date, date]:
    """The last DEFAULT_MONTHS whole months of the jurisdiction's data (fewer when it has less)."""
    end = last or fallback
    to = date(end.year + (end.month == 12), end.month % 12 + 1, 1) - timedelta(days=1)
    y, m = end.year, end.month - (DEFAULT_MONTHS - 1)
    while m < 1:
        y, m = y - 1, m + 12
    start = date(y, m, 1)
    if first and first > start:
        start = date(first.year, first.month, 1)
    return start, to


def _held_counts(people: list[dict], threshold: int) -> tuple[object, list[dict], bool]:
    """Public counts of people held: the total and the people per most serious category, small ones
    suppressed (the categories add up to the total, so complementary suppression applies)."""
    by = Counter(person["top"] for person in people)
    order = sorted(by, key=lambda c: (c is None, CATEGORY_RANKS.get(c, len(CATEGORY_RANKS) + 1), c or ""))
    values = {("cat", c): n for c, n in by.items()}
    values["total"] = len(people)
    marks = suppress.plan(values, [suppress.Line(tuple(("cat", c) for c in by), "total")], threshold)

    def shown(cell) -> object:
        mark = marks.get(cell)
        if mark is None:
            return values[cell]
        return suppress.primary_marker(threshold) if mark == suppress.PRIMARY else suppress.COMPLEMENTARY_MARKER

    rows = [{"category": c, "label": CATEGORY_LABELS.get(c, c or "No charge recorded"), "people": shown(("cat", c))}
            for c in order]
    return shown("total"), rows, bool(marks)


def _small(n: int, threshold: int, restricted: bool) -> int | str:
    """A count as the audience may see it: 1 to threshold-1 is "<threshold" for the public."""
    return suppress.primary_marker(threshold) if not restricted and 0 < n < threshold else n


def _held(conn: Connection, jurisdiction_id: str, day: date, restricted: bool) -> list[dict]:
    """People held on `day` with an active detainer; names, dates of birth and booking ids only when
    `restricted` (the identity query does not run otherwise)."""
    held = custody.held_on(conn, day, [jurisdiction_id])
    charge_rows = custody.charges_of(conn, sorted({h.booking_id for h in held}))
    identities = custody.identities_of(conn, sorted({h.person_id for h in held})) if restricted else {}
    people = []
    for h in held:
        rows = charge_rows.get(h.booking_id, [])
        top = most_serious((c.category, c.level) for c in rows)
        person = {"top": top[0] if top else None, "booked_on": h.booked_on, "lodged_on": h.lodged_on,
                  "days_held": (day - h.booked_on).days}
        if restricted:
            name, dob = identities.get(h.person_id, (None, None))
            person.update(name=name, date_of_birth=dob, booking_id=h.booking_id, charges=[
                {"description": c.description, "category": CATEGORY_LABELS.get(c.category, c.category),
                 "stage": STAGE_WORDS.get(c.stage, c.stage), "stage_id": c.stage, "level": c.level}
                for c in rows])
        people.append(person)
    if restricted:
        people.sort(key=lambda x: (x["name"] or "", x["booked_on"]))
    return people


@router.get("/jurisdictions/{jurisdiction_id}")
def jurisdiction_page(
        request: Request, p: Principal = Depends(principal),
        jurisdiction_id: str = Path(max_length=128),
        day: str = Query("", pattern=DATE_PATTERN, description="The day of the people-held table."),
        date_from: str = Query("", alias="from", pattern=DATE_PATTERN),
        date_to: str = Query("", alias="to", pattern=DATE_PATTERN),
        cohort: Literal["lodged", "ended"] = Query("lodged")):
    engine = request.app.state.engine
    # The restricted view writes an audit entry, so it runs in a transaction; the public one only reads.
    with (engine.begin() if p.restricted else engine.connect()) as conn:
        latest = mapview.latest_day(conn)
        chosen = _day(day, "day") or latest or date.today()
        detail = jurisdiction_detail(conn, jurisdiction_id, on=chosen)
        if detail is None:
            raise HTTPException(404, f"No jurisdiction {jurisdiction_id!r}.")
        first, last = _detainer_span(conn, jurisdiction_id)
        start, end = _default_period(first, last, chosen)
        start = _day(date_from, "from") or start
        end = _day(date_to, "to") or end
        if start > end:
            raise InputError(f"from ({start}) is after to ({end}): the period must run forwards.")
        months = months_between(start, end)
        if len(months) > MAX_MONTHS:
            raise InputError(f"The chart period covers {len(months)} months; choose at most {MAX_MONTHS}.")
        monthly = monthly_outcomes(conn, [jurisdiction_id], start, end, cohort)
        people = _held(conn, jurisdiction_id, chosen, p.restricted)
        agreement_rows = _agreements_of(conn, jurisdiction_id)
        synthetic = synthetic_loaded(conn)
        if p.restricted and people:
            audit.record(conn, "view.held", {"jurisdiction": jurisdiction_id, "as_of": chosen.isoformat(),
                                             "people": len(people)})
    threshold = suppress.resolve_threshold()
    monthly_suppressed, hidden_cells = 0, set()
    if not p.restricted:
        every_cell = {(r["month"], r["outcome"]) for r in monthly}
        monthly, monthly_suppressed = charts.suppress_monthly(monthly, {"applied": True, "threshold": threshold})
        hidden_cells = every_cell - {(r["month"], r["outcome"]) for r in monthly}
    figure = None
    if monthly:
        verb = "lodged" if cohort == "lodged" else "that ended"
        chart = charts.monthly_outcomes_chart(
            monthly, months=months, cohort=cohort, suppressed=monthly_suppressed,
            synthetic=SYNTHETIC_LABEL if synthetic else False,
            title=f"{detail['name']}, {detail['state']}: detainers {verb} per month, by outcome",
            subtitle=[f"{start.isoformat()} to {end.isoformat()}; detainers lodged with its facilities."])
        figure = charts.figure_html(charts.Figure("monthly", f"Detainers {verb} per month, by outcome, "
                                                  f"{detail['name']}, {detail['state']}", chart))
    # A month or outcome whose every count is suppressed still gets its row or column, marked.
    table_months = [m for m in months if any(r["month"] == m for r in monthly) or any(k[0] == m for k in hidden_cells)]
    outcomes = [o for o in OUTCOME_ORDER if any(r["outcome"] == o for r in monthly)
                or any(k[1] == o for k in hidden_cells)]
    cells = {(r["month"], r["outcome"]): r["detainers"] for r in monthly}
    public_total, public_rows, suppressed_any = (None, [], False) if p.restricted else _held_counts(people, threshold)
    policies = detail["policies"]
    changes = [pol["effective_from"] for pol in policies[1:]]
    jid = detail["jurisdiction_id"]
    fy_to = fiscal_year(last or chosen)
    reports = [
        ("People held (non-cooperative report)", _href("/reports/non-cooperative", jurisdiction=jid,
                                                       as_of=chosen.isoformat())),
        ("Declined detainers and their outcomes", _href("/reports/declined", jurisdiction=jid,
                                                        **{"from": start.isoformat(), "to": end.isoformat()})),
        ("Transfers by fiscal year", _href("/reports/transfers", jurisdiction=jid, fy_from=fy_to - 4, fy_to=fy_to)),
        *[(f"Before and after the policy change of {c.isoformat()}",
           _href("/reports/policy-change", jurisdiction=jid, change_date=c.isoformat())) for c in changes],
    ]
    return page(request, "jurisdiction.html", title=f"{detail['name']}, {detail['state']}", nav="jurisdictions",
                synthetic=synthetic, j=detail, policies=policies, policy_on=detail["policy_on"],
                day=chosen.isoformat(), latest=latest.isoformat() if latest else None,
                date_from=start.isoformat(), date_to=end.isoformat(), cohort=cohort, figure=figure,
                table_months=table_months, outcomes=outcomes, cells=cells, hidden_cells=hidden_cells,
                outcome_labels=charts.OUTCOME_LABELS, monthly_suppressed=monthly_suppressed,
                people=people, held_count=len(people), public_total=public_total, public_rows=public_rows,
                suppressed_any=suppressed_any, threshold=threshold, agreements=agreement_rows,
                agreement_labels=AGREEMENT_LABELS, facility_kinds=FACILITY_KINDS, reports=reports,
                lodged_total=detail["outcomes"].get("lodged", 0),
                outcome_totals={o: _small(detail["outcomes"].get(o, 0), threshold, p.restricted)
                                for o in ("honored", "declined")})


# ---------------------------------------------------------------- sources


@router.get("/sources")
def sources_page(request: Request, p: Principal = Depends(principal)):
    with request.app.state.engine.connect() as conn:
        rows = source_list(conn)
        unplaced = unplaced_facilities(conn)
    for s in rows:
        s["problems"] = sorted(((str(k), v) for k, v in (s["quality"] or {}).items()),
                               key=lambda kv: (-kv[1] if isinstance(kv[1], (int, float)) else 0, kv[0]))
        s["cells_nulled"] = sum(v for _, v in s["problems"] if isinstance(v, (int, float)))
    synthetic = any(s["synthetic"] for s in rows)
    return page(request, "sources.html", title="Sources", nav="sources", synthetic=synthetic, sources=rows,
                unplaced=unplaced, rows_total=sum(s["rows_read"] or 0 for s in rows),
                problems_total=sum(s["cells_nulled"] for s in rows))


# ---------------------------------------------------------------- search (restricted)


@router.get("/search")
def search_form(request: Request, p: Principal = Depends(require("analyst", "admin")),
                q: str = Query("", max_length=200, description="Prefills the form; the search runs when sent.")):
    """The search form. A search runs only when the form is sent (POST with its CSRF token): a link
    from another site cannot make an analyst's account search, and names stay out of addresses and logs."""
    return _search_page(request, q.strip(), None)


@router.post("/search", dependencies=[Depends(csrf_checked)])
def search_run(request: Request, p: Principal = Depends(require("analyst", "admin")),
               q: str = Form("", max_length=200)):
    q = q.strip()
    return _search_page(request, q, q)


def _search_page(request: Request, q: str, run: str | None):
    results, error, status, limit, truncated = None, None, 200, 50, False
    with request.app.state.engine.begin() as conn:
        synthetic = synthetic_loaded(conn)
        if run:
            try:
                results = search_people(conn, run, Keyer(installation_secret(conn)), limit=limit + 1)
            except InputError as exc:
                error, status = exc.message(), 422
            else:
                truncated, results = len(results) > limit, results[:limit]
                audit.record(conn, "view.search", {"query": run, "results": len(results)})
    return page(request, "search.html", status_code=status, title="Search people", nav="search",
                synthetic=synthetic, q=q, results=results, error=error, limit=limit, truncated=truncated,
                outcome_labels=charts.OUTCOME_LABELS, jurisdiction_href=jurisdiction_href,
                category_labels=CATEGORY_LABELS, stage_words=STAGE_WORDS)
