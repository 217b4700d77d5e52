"""The JSON API under /api/v1/: the same analytics as the CLI, for the caller's audience.

Every parameter declares its bounds, so the OpenAPI document says exactly what is accepted;
every answer that carries data says whether it is synthetic. Identity fields reach only the
restricted audience (analysts, admins), and each such answer is written to the audit log.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, BeforeValidator
from starlette.exceptions import HTTPException

from detainers import audit
from detainers.analytics.jurisdictions import jurisdiction_detail, jurisdiction_list
from detainers.analytics.policies import check_known, unknown_jurisdictions
from detainers.analytics.provenance import SYNTHETIC_LABEL, is_synthetic, source_list
from detainers.analytics.stats import OutcomeQuery, outcome_stats
from detainers.errors import InputError
from detainers.model import Outcome
from detainers.offenses import classify as classify_charge
from detainers.privacy import Keyer, installation_secret
from detainers.store.schema import facilities as facilities_table
from detainers.web import answers
from detainers.web import api_models as m
from detainers.web.api_queries import (
    DetainerFilter,
    agreement_spans,
    agreements_on_day,
    detainer_page,
    facility_page,
    known,
    region_list,
)
from detainers.web.deps import Forbidden, NotSignedIn, Principal, engine, principal
from detainers.web.search import search_people

ERRORS = {
    401: {"model": m.ApiError, "description": "Not signed in, where the installation allows no anonymous access."},
    422: {"model": m.ApiError, "description": "A parameter is missing, malformed or out of bounds."},
}
NOT_FOUND = {404: {"model": m.ApiError, "description": "No such record."}}
FORBIDDEN = {403: {"model": m.ApiError, "description": "The caller's role may not see this."}}

router = APIRouter(prefix="/api/v1", tags=["api"], responses=ERRORS, dependencies=[Depends(principal)])

#: Free text and ids: any characters but control characters (which no id or name contains).
TEXT = r"^[^\x00-\x1f\x7f]*$"
ID = Annotated[str, Query(min_length=1, max_length=128, pattern=TEXT)]
MAX_OFFSET = 10_000_000


def _iso_day(value):
    """Dates are YYYY-MM-DD only (pydantic alone would also read '0' as 1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)")
    return value


#: An optional day: declare as `Annotated[Day, Query(...)] = None`.
Day = Annotated[date | None, BeforeValidator(_iso_day)]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def _known_jurisdiction(conn, jurisdiction_id: str | None) -> None:
    """A filter naming no jurisdiction is a typo, not an empty answer."""
    if jurisdiction_id is not None and unknown_jurisdictions(conn, (jurisdiction_id,)):
        raise InputError(f"jurisdiction_id: {jurisdiction_id!r} is not a known jurisdiction id")


def _labelled(conn) -> dict:
    synthetic = is_synthetic(source_list(conn))
    return {"synthetic": synthetic, "data_label": SYNTHETIC_LABEL if synthetic else None}


class Me(BaseModel):
    username: str | None
    role: str
    audience: str


@router.get("/me", response_model=Me, summary="Who the caller is, and which audience they get")
def me(p: Principal = Depends(principal)) -> Me:
    return Me(username=p.user.username if p.user else None, role=p.role, audience=p.audience)


@router.get("/jurisdictions", response_model=m.JurisdictionList,
            summary="Jurisdictions with their stance on a day and their detainer counts")
def jurisdictions(
    engine=Depends(engine),
    state: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", description="Two-letter state code.")] = None,
    stance: Annotated[Literal["declines", "limited", "honors", "unknown"] | None, Query(
        description="The policy in force on `on`; unknown: no policy recorded for that day.")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, pattern=TEXT,
                                   description="Part of the name, any case.")] = None,
    on: Annotated[Day, Query(description="The day whose policies count (default: today).")] = None,
    sort: Annotated[Literal["name", "-name", "state", "-state", "detainers", "-detainers"], Query(
        description="Sort key; a leading '-' sorts descending.")] = "name",
    limit: Limit = 100,
    offset: Offset = 0,
):
    day = on or date.today()
    with engine.connect() as conn:
        total, items = jurisdiction_list(conn, day, state=state, stance=stance, q=q, sort=sort, limit=limit,
                                         offset=offset)
        return {**_labelled(conn), "total": total, "limit": limit, "offset": offset, "on": day, "items": items}


@router.get("/jurisdictions/{jurisdiction_id}", response_model=m.JurisdictionDetail, responses=NOT_FOUND,
            summary="One jurisdiction: policy timeline, facilities, regions and outcome totals")
def jurisdiction(
    jurisdiction_id: Annotated[str, Path(min_length=1, max_length=128, pattern=TEXT)],
    engine=Depends(engine),
    on: Annotated[Day, Query(description="The day for `policy_on` (default: today).")] = None,
):
    with engine.connect() as conn:
        detail = jurisdiction_detail(conn, jurisdiction_id, on=on)
        if detail is None:
            raise HTTPException(404, f"No jurisdiction {jurisdiction_id!r}.")
        return {**_labelled(conn), **detail}


@router.get("/facilities", response_model=m.FacilityList, summary="Facilities and the jurisdictions they belong to")
def facilities(
    engine=Depends(engine),
    jurisdiction_id: ID | None = None,
    unplaced: Annotated[bool | None, Query(
        description="true: only facilities no jurisdiction has been assigned to; false: only placed ones.")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    with engine.connect() as conn:
        _known_jurisdiction(conn, jurisdiction_id)
        total, items = facility_page(conn, jurisdiction_id=jurisdiction_id, unplaced=unplaced, limit=limit,
                                     offset=offset)
        return {**_labelled(conn), "total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/detainers", response_model=m.DetainerList, response_model_exclude_unset=True,
            summary="Detainers, filtered and paginated, for the caller's audience",
            description="The public audience gets pseudonymous keys (D- detainer, P- person, B- booking) only. "
                        "Analysts and admins also get ids, names, dates of birth, the lift reason and the outcome "
                        "rule; each such answer is written to the audit log (view.detainers).")
def detainers(
    p: Principal = Depends(principal),
    engine=Depends(engine),
    jurisdiction_id: ID | None = None,
    facility_id: ID | None = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    lodged_from: Annotated[Day, Query(description="Lodged on or after (YYYY-MM-DD).")] = None,
    lodged_to: Annotated[Day, Query(description="Lodged on or before.")] = None,
    ended_from: Annotated[Day, Query(description="Ended on or after.")] = None,
    ended_to: Annotated[Day, Query(description="Ended on or before.")] = None,
    fy: Annotated[int | None, Query(ge=1990, le=2100, description="Federal fiscal year (of the cohort date).")] = None,
    cohort: Annotated[Literal["lodged", "ended"], Query(
        description="Which date `fy` applies to: the day lodged or the day ended.")] = "lodged",
    sort: Annotated[Literal["lodged_on", "-lodged_on", "ended_on", "-ended_on"], Query(
        description="Sort key; a leading '-' sorts descending; detainers not ended sort last.")] = "lodged_on",
    limit: Limit = 100,
    offset: Offset = 0,
):
    f = DetainerFilter(jurisdiction_id, facility_id, outcome.value if outcome else None, lodged_from, lodged_to,
                       ended_from, ended_to, fy, cohort)
    with (engine.begin() if p.restricted else engine.connect()) as conn:
        _known_jurisdiction(conn, jurisdiction_id)
        if facility_id is not None and not known(conn, facilities_table, facilities_table.c.facility_id, facility_id):
            raise InputError(f"facility_id: {facility_id!r} is not a known facility id")
        total, items = detainer_page(conn, f, restricted=p.restricted, sort=sort, limit=limit, offset=offset)
        if p.restricted:
            filters = {k: v for k, v in vars(f).items() if v is not None}
            audit.record(conn, "view.detainers", {**filters, "sort": sort, "limit": limit, "offset": offset,
                                                  "rows": len(items)})
        return {**_labelled(conn), "total": total, "limit": limit, "offset": offset, "audience": p.audience,
                "items": items}


STATS_DEFINITIONS = {
    "lodged": "all detainers in the row (the denominator of every outcome count)",
    "cohort": "lodged: counted by the day the detainer was lodged; ended: by the day it ended "
              "(detainers that have not ended are not in this cohort)",
    "fy": "U.S. federal fiscal year: FY2017 = 2016-10-01 … 2017-09-30",
    "stance": "the custodian's policy on the day the detainer ended",
}


@router.get("/stats/outcomes", response_model=m.OutcomeStats, response_model_exclude_unset=True,
            summary="Detainer outcomes counted by jurisdiction, fiscal year, region and/or stance",
            description="The same query as `detainers stats outcomes`. Each row has the keys of the dimensions "
                        "asked for, `lodged` (the denominator) and one count per outcome.")
def stats_outcomes(
    request: Request,
    engine=Depends(engine),
    by: Annotated[list[Literal["jurisdiction", "fy", "region", "stance"]] | None, Query(
        max_length=4, description="Group by these (repeat the parameter); default jurisdiction.")] = None,
    cohort: Annotated[Literal["lodged", "ended"], Query(
        description="Which date places a detainer in a year and in from/to.")] = "lodged",
    date_from: Annotated[Day, Query(alias="from", description="First day, inclusive.")] = None,
    date_to: Annotated[Day, Query(alias="to", description="Last day, inclusive.")] = None,
    jurisdiction: Annotated[list[Annotated[str, Query(min_length=1, max_length=128, pattern=TEXT)]] | None, Query(
        max_length=50, description="Only these jurisdiction ids (repeat the parameter).")] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=128, pattern=TEXT,
                                        description="Only this region.")] = None,
):
    dims = tuple(dict.fromkeys(by)) if by else ("jurisdiction",)
    ids = tuple(dict.fromkeys(jurisdiction or ()))
    query = OutcomeQuery(dims, cohort, date_from, date_to, ids, region)
    with engine.connect() as conn:
        def made() -> bytes:
            check_known(conn, ids, region, flag="")
            rows = outcome_stats(conn, query)
            answer = m.OutcomeStats.model_validate(
                {**_labelled(conn), "cohort": cohort, "by": list(dims), "from": date_from, "to": date_to,
                 "definitions": STATS_DEFINITIONS, "rows": rows})
            return answer.model_dump_json(by_alias=True, exclude_unset=True).encode()

        body = answers.kept_or_made(request, conn, ("stats/outcomes", query), made)
    return Response(body, media_type="application/json")


@router.get("/sources", response_model=m.SourceList, summary="What was loaded, when, with row counts and quality")
def sources(engine=Depends(engine)):
    with engine.connect() as conn:
        items = source_list(conn)
    synthetic = is_synthetic(items)
    return {"synthetic": synthetic, "data_label": SYNTHETIC_LABEL if synthetic else None, "items": items}


@router.get("/agreements", response_model=m.AgreementList, summary="287(g) agreements: in force on a day, or all")
def agreements(
    engine=Depends(engine),
    on: Annotated[Day, Query(description="Only agreements in force on this day (one row per agency, its models "
                                         "together); default: every agreement span.")] = None,
):
    with engine.connect() as conn:
        items = agreements_on_day(conn, on) if on else agreement_spans(conn)
        return {**_labelled(conn), "on": on, "items": items}


@router.get("/regions", response_model=m.RegionList, summary="Regions and the jurisdictions in each")
def regions(engine=Depends(engine)):
    with engine.connect() as conn:
        return {**_labelled(conn), "items": region_list(conn)}


@router.get("/classify", response_model=m.Classified, summary="Classify one charge text into an offense category")
def classify(
    text: Annotated[str, Query(min_length=1, max_length=500, description="The charge text, as the jail wrote it.")],
    code: Annotated[str | None, Query(min_length=1, max_length=40, pattern=TEXT,
                                      description="An offense code that goes with the text.")] = None,
):
    c = classify_charge(text, code=code)
    return {"text": c.text, "code": code, "category": c.category, "violent": c.violent, "rule": c.rule,
            "normalized": c.normalized, "level": c.level, "modifier": c.modifier, "is_detainer": c.is_detainer,
            "confident": c.confident, "runner_up": c.runner_up}


@router.get("/search", response_model=m.SearchResult, responses=FORBIDDEN,
            summary="Restricted: find people by person key, person id, booking id or name",
            description="Analysts and admins only; every search is written to the audit log (view.search).")
def search(
    q: Annotated[str, Query(min_length=2, max_length=100, pattern=TEXT,
                            description="A person key (P-…), person id, booking id, or part of a name.")],
    p: Principal = Depends(principal),
    engine=Depends(engine),
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many people.")] = 50,
):
    if p.user is None:
        raise NotSignedIn()
    if not p.restricted:
        raise Forbidden("Search shows names and dates of birth: it needs the analyst or admin role; "
                        f"you are signed in as {p.role}.")
    with engine.begin() as conn:
        found = search_people(conn, q, Keyer(installation_secret(conn)), limit=limit + 1)
        audit.record(conn, "view.search", {"q": q, "people": min(len(found), limit)})
        return {**_labelled(conn), "q": q, "limit": limit, "truncated": len(found) > limit, "people": found[:limit]}
