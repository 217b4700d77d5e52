"""Jurisdictions for lists and detail views: stance on a day, detainer counts, policy timeline.

One query feeds the JSON API (`/api/v1/jurisdictions`) and the pages. Nothing here
touches people, so every result is fit for the public audience.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, select

from detainers.analytics.policies import in_force, timeline
from detainers.analytics.stats import OutcomeQuery, outcome_stats
from detainers.model import OUTCOME_ORDER
from detainers.store.schema import detainers, facilities, jurisdictions, policies, regions

#: Sort keys of `jurisdiction_list`; a leading "-" sorts descending.
SORTS = ("name", "state", "detainers")
#: Stance filter values: a policy stance, or "unknown" for no policy in force on the day.
STANCE_FILTERS = ("declines", "limited", "honors", "unknown")


def _detainer_counts():
    """Subquery: detainers lodged with each jurisdiction's facilities, all time."""
    return (select(facilities.c.jurisdiction_id.label("jurisdiction_id"), func.count().label("n"))
            .select_from(detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id))
            .where(facilities.c.jurisdiction_id.is_not(None))
            .group_by(facilities.c.jurisdiction_id)
            .subquery("detainer_counts"))


def _facility_counts():
    return (select(facilities.c.jurisdiction_id.label("jurisdiction_id"), func.count().label("n"))
            .where(facilities.c.jurisdiction_id.is_not(None))
            .group_by(facilities.c.jurisdiction_id)
            .subquery("facility_counts"))


def jurisdiction_list(conn: Connection, on: date, state: str | None = None, stance: str | None = None,
                      q: str | None = None, sort: str = "name", limit: int | None = None,
                      offset: int = 0) -> tuple[int, list[dict]]:
    """(total matching, one page of jurisdictions) with the policy in force on `on` and detainer counts.

    `stance` is one of STANCE_FILTERS ("unknown": no policy in force on `on`); `q` matches a
    name substring, case-insensitively; `sort` is one of SORTS, optionally prefixed with "-".
    Each item's `stance` is None when no policy is in force on `on`.
    """
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)} (optionally with '-'), not {sort!r}")
    if stance is not None and stance not in STANCE_FILTERS:
        raise ValueError(f"stance must be one of {', '.join(STANCE_FILTERS)}, not {stance!r}")
    counts, fcounts = _detainer_counts(), _facility_counts()
    source = (jurisdictions
              .outerjoin(policies, (policies.c.jurisdiction_id == jurisdictions.c.jurisdiction_id) & in_force(on))
              .outerjoin(counts, counts.c.jurisdiction_id == jurisdictions.c.jurisdiction_id)
              .outerjoin(fcounts, fcounts.c.jurisdiction_id == jurisdictions.c.jurisdiction_id))
    conditions = []
    if state:
        conditions.append(jurisdictions.c.state == state.upper())
    if stance == "unknown":
        conditions.append(policies.c.stance.is_(None))
    elif stance:
        conditions.append(policies.c.stance == stance)
    if q:
        conditions.append(func.lower(jurisdictions.c.name).contains(q.lower(), autoescape=True))
    n_detainers = func.coalesce(counts.c.n, 0)
    total = conn.execute(select(func.count()).select_from(source).where(*conditions)).scalar_one()
    primary = {"name": jurisdictions.c.name, "state": jurisdictions.c.state, "detainers": n_detainers}[key]
    order = [primary.desc() if descending else primary.asc()]
    order += [c for c in (jurisdictions.c.state, jurisdictions.c.name) if c is not primary]
    order.append(jurisdictions.c.jurisdiction_id)
    query = (select(jurisdictions.c.jurisdiction_id, jurisdictions.c.name, jurisdictions.c.state,
                    jurisdictions.c.kind, jurisdictions.c.fips, policies.c.stance, policies.c.agreement,
                    policies.c.effective_from, n_detainers.label("detainers"),
                    func.coalesce(fcounts.c.n, 0).label("facilities"))
             .select_from(source).where(*conditions).order_by(*order).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    items = []
    for r in conn.execute(query):
        items.append({
            "jurisdiction_id": r.jurisdiction_id, "name": r.name, "state": r.state, "kind": r.kind,
            "fips": r.fips or None, "stance": r.stance, "agreement": r.agreement,
            "policy_from": r.effective_from, "detainers": int(r.detainers), "facilities": int(r.facilities),
        })
    return total, items


def _policy(row) -> dict:
    return {"effective_from": row.effective_from, "effective_to": row.effective_to, "stance": row.stance,
            "agreement": row.agreement, "criteria": row.criteria, "citation": row.citation,
            "origin": row.origin}


def jurisdiction_detail(conn: Connection, jurisdiction_id: str, on: date | None = None) -> dict | None:
    """One jurisdiction: its policy timeline, the policy on `on` (default today), facilities, regions
    and outcome totals of the detainers lodged with its facilities; None if the id is unknown."""
    j = conn.execute(select(jurisdictions).where(jurisdictions.c.jurisdiction_id == jurisdiction_id)).first()
    if j is None:
        return None
    on = on or date.today()
    policies_ = [_policy(p) for p in timeline(conn, jurisdiction_id)]
    current = next((p for p in policies_ if p["effective_from"] <= on
                    and (p["effective_to"] is None or p["effective_to"] > on)), None)
    per_facility = (select(detainers.c.facility_id, func.count().label("n"))
                    .group_by(detainers.c.facility_id).subquery("per_facility"))
    facility_rows = conn.execute(
        select(facilities.c.facility_id, facilities.c.name, facilities.c.kind, facilities.c.city,
               facilities.c.state, func.coalesce(per_facility.c.n, 0).label("detainers"))
        .select_from(facilities.outerjoin(per_facility, per_facility.c.facility_id == facilities.c.facility_id))
        .where(facilities.c.jurisdiction_id == jurisdiction_id)
        .order_by(facilities.c.name, facilities.c.facility_id))
    region_names = list(conn.execute(select(regions.c.region).where(regions.c.jurisdiction_id == jurisdiction_id)
                                     .order_by(regions.c.region)).scalars())
    totals = outcome_stats(conn, OutcomeQuery(by=(), jurisdiction_ids=(jurisdiction_id,)))
    outcomes = {k: (totals[0][k] if totals else 0) for k in ("lodged", *OUTCOME_ORDER)}
    return {
        "jurisdiction_id": j.jurisdiction_id, "name": j.name, "state": j.state, "kind": j.kind,
        "fips": j.fips or None, "ori": j.ori or None, "aor": j.aor or None,
        "on": on, "policy_on": current, "policies": policies_,
        "facilities": [{**dict(f._mapping), "detainers": int(f.detainers)} for f in facility_rows],
        "regions": region_names, "outcomes": outcomes,
    }
