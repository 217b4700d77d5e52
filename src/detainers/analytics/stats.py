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

from detainers.fiscal import fiscal_year
from detainers.model import OUTCOME_ORDER
from detainers.store.schema import detainers, facilities, jurisdictions, outcome_counts, policies, regions

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
    """Rows of counts: the group's keys, `lodged` (all detainers in the group), one count per outcome.

    Whole fiscal years without the stance dimension are read from the stored counts
    (store/summary.py); anything else counts the detainers themselves. The answers are the same.
    """
    fys = _whole_fiscal_years(q)
    if fys is not None and "stance" not in q.by:
        return _run(conn, q, _from_counts(q, fys))
    return _run(conn, q, _from_detainers(q))


def _whole_fiscal_years(q: OutcomeQuery) -> tuple[int | None, int | None] | None:
    """(first FY, last FY) when the window is whole fiscal years (or open), else None."""
    if q.date_from is not None and (q.date_from.month, q.date_from.day) != (10, 1):
        return None
    if q.date_to is not None and (q.date_to.month, q.date_to.day) != (9, 30):
        return None
    return (fiscal_year(q.date_from) if q.date_from else None, fiscal_year(q.date_to) if q.date_to else None)


class _Plan:
    """Where the counts come from: the grouped source, its FY column, and how to count."""

    def __init__(self, source, fy, counts, conditions) -> None:
        self.source, self.fy, self.counts, self.conditions = source, fy, counts, conditions


def _from_detainers(q: OutcomeQuery) -> _Plan:
    day = detainers.c.lodged_on if q.cohort == "lodged" else detainers.c.ended_on
    fy = detainers.c.lodged_fy if q.cohort == "lodged" else detainers.c.ended_fy
    source = detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id)
    if "stance" in q.by:
        source = source.outerjoin(policies, and_(
            policies.c.jurisdiction_id == facilities.c.jurisdiction_id,
            policies.c.effective_from <= detainers.c.ended_on,
            or_(policies.c.effective_to.is_(None), policies.c.effective_to > detainers.c.ended_on)))
    counts = [func.count().label("lodged")] + [
        func.sum(case((detainers.c.outcome == o, 1), else_=0)).label(o) for o in OUTCOME_ORDER
    ]
    conditions = [day.is_not(None)]
    if q.date_from:
        conditions.append(day >= q.date_from)
    if q.date_to:
        conditions.append(day <= q.date_to)
    return _Plan(source, fy, counts, conditions)


def _from_counts(q: OutcomeQuery, fys: tuple[int | None, int | None]) -> _Plan:
    c = outcome_counts.c
    source = outcome_counts.join(facilities, facilities.c.facility_id == c.facility_id)
    counts = [func.sum(c.n).label("lodged")] + [func.sum(c[o]).label(o) for o in OUTCOME_ORDER]
    conditions = [c.cohort == q.cohort]
    if fys[0] is not None:
        conditions.append(c.fy >= fys[0])
    if fys[1] is not None:
        conditions.append(c.fy <= fys[1])
    return _Plan(source, c.fy, counts, conditions)


def _run(conn: Connection, q: OutcomeQuery, plan: _Plan) -> list[dict]:
    source = plan.source.outerjoin(jurisdictions, jurisdictions.c.jurisdiction_id == facilities.c.jurisdiction_id)
    keys, labels = [], []
    if "region" in q.by or q.region:
        source = source.outerjoin(regions, regions.c.jurisdiction_id == facilities.c.jurisdiction_id)
    for dim in q.by:
        if dim == "jurisdiction":
            keys += [facilities.c.jurisdiction_id, jurisdictions.c.name, jurisdictions.c.state]
            labels += ["jurisdiction_id", "jurisdiction_name", "state"]
        elif dim == "fy":
            keys.append(plan.fy)
            labels.append("fy")
        elif dim == "region":
            keys.append(regions.c.region)
            labels.append("region")
        elif dim == "stance":
            keys.append(policies.c.stance)
            labels.append("stance")
    query = select(*(k.label(n) for k, n in zip(keys, labels)), *plan.counts).select_from(source)
    query = query.where(*plan.conditions)
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
