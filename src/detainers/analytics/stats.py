"""Outcome counts by jurisdiction, fiscal year and region: one query for every output.

A detainer is counted against the jurisdiction of the facility it was lodged
with. The cohort says which date places a detainer in a fiscal year and in the
FROM–TO window: `lodged` (the day ICE lodged it) or `ended` (the day it ended:
release, transfer or lift; detainers that have not ended are not in that cohort).

The `stance` dimension is the custodian's policy on the day the detainer ended
(DESIGN §4: a decline is attributed to the policy in force at release, not at
lodging); it is empty for detainers that have not ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, case, func, or_, select

from detainers.model import OUTCOME_ORDER
from detainers.store.schema import detainers, facilities, jurisdictions, policies, regions

DIMENSIONS = ("jurisdiction", "fy", "region", "stance")
COHORTS = ("lodged", "ended")


@dataclass(frozen=True)
class OutcomeQuery:
    by: tuple[str, ...] = ("jurisdiction",)
    cohort: str = "lodged"
    date_from: date | None = None
    date_to: date | None = None
    jurisdiction_ids: tuple[str, ...] = ()
    region: str | None = None


def outcome_stats(conn: Connection, q: OutcomeQuery) -> list[dict]:
    """Rows of counts: the group's keys, `lodged` (all detainers in the group), one count per outcome."""
    day = detainers.c.lodged_on if q.cohort == "lodged" else detainers.c.ended_on
    fy = detainers.c.lodged_fy if q.cohort == "lodged" else detainers.c.ended_fy
    source = detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id).outerjoin(
        jurisdictions, jurisdictions.c.jurisdiction_id == facilities.c.jurisdiction_id)
    keys, labels = [], []
    if "region" in q.by or q.region:
        source = source.outerjoin(regions, regions.c.jurisdiction_id == facilities.c.jurisdiction_id)
    if "stance" in q.by:
        source = source.outerjoin(policies, and_(
            policies.c.jurisdiction_id == facilities.c.jurisdiction_id,
            policies.c.effective_from <= detainers.c.ended_on,
            or_(policies.c.effective_to.is_(None), policies.c.effective_to > detainers.c.ended_on)))
    for dim in q.by:
        if dim == "jurisdiction":
            keys += [facilities.c.jurisdiction_id, jurisdictions.c.name, jurisdictions.c.state]
            labels += ["jurisdiction_id", "jurisdiction_name", "state"]
        elif dim == "fy":
            keys.append(fy)
            labels.append("fy")
        elif dim == "region":
            keys.append(regions.c.region)
            labels.append("region")
        elif dim == "stance":
            keys.append(policies.c.stance)
            labels.append("stance")
    counts = [func.count().label("lodged")] + [
        func.sum(case((detainers.c.outcome == o, 1), else_=0)).label(o) for o in OUTCOME_ORDER
    ]
    query = select(*(k.label(n) for k, n in zip(keys, labels)), *counts).select_from(source)
    query = query.where(day.is_not(None))
    if q.date_from:
        query = query.where(day >= q.date_from)
    if q.date_to:
        query = query.where(day <= q.date_to)
    if q.jurisdiction_ids:
        query = query.where(facilities.c.jurisdiction_id.in_(q.jurisdiction_ids))
    if q.region:
        query = query.where(regions.c.region == q.region)
    if keys:
        query = query.group_by(*keys).order_by(*(k.is_(None) for k in keys), *keys)
    rows = []
    for r in conn.execute(query):
        row = dict(r._mapping)
        for o in ("lodged", *OUTCOME_ORDER):
            row[o] = int(row[o] or 0)
        if "fy" in row and row["fy"] is not None:
            row["fy"] = int(row["fy"])
        rows.append(row)
    return rows
