"""Detainers per calendar month and outcome: the series behind the monthly charts.

A detainer belongs to the jurisdiction of the facility it was lodged with. The
cohort says which day places it in a month and in the FROM–TO window: `ended`
(the day it ended — release, transfer or lift; detainers that have not ended are
left out, as in the declined report) or `lodged` (the day ICE lodged it; its
outcome may then be `in_custody`).

With no jurisdiction ids every detainer counts, those at facilities with no
jurisdiction included — the same scope as the declined report without
`jurisdiction_ids`; with ids, only those jurisdictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, extract, func, select

from detainers.errors import InputError
from detainers.model import OUTCOME_ORDER
from detainers.store.schema import detainers, facilities

COHORTS = ("ended", "lodged")


def monthly_outcomes(conn: Connection, jurisdiction_ids: Sequence[str], date_from: date, date_to: date,
                     cohort: str = "ended") -> list[dict]:
    """Rows `{month: 'YYYY-MM', outcome, detainers}`, by month then outcome (OUTCOME_ORDER); no zero rows."""
    if cohort not in COHORTS:
        raise InputError(f"Cohort is one of {', '.join(COHORTS)}, not {cohort!r}.")
    day = detainers.c.ended_on if cohort == "ended" else detainers.c.lodged_on
    year, month = extract("year", day).label("y"), extract("month", day).label("m")
    query = (select(year, month, detainers.c.outcome, func.count().label("n"))
             .select_from(detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id))
             .where(day.is_not(None), day >= date_from, day <= date_to)
             .group_by(year, month, detainers.c.outcome))
    if jurisdiction_ids:
        query = query.where(facilities.c.jurisdiction_id.in_(list(jurisdiction_ids)))
    order = {o: i for i, o in enumerate(OUTCOME_ORDER)}
    rows = [{"month": f"{int(r.y):04d}-{int(r.m):02d}", "outcome": r.outcome, "detainers": int(r.n)}
            for r in conn.execute(query)]
    rows.sort(key=lambda r: (r["month"], order.get(r["outcome"], len(order)), r["outcome"]))
    return rows


def months_between(date_from: date, date_to: date) -> list[str]:
    """Every 'YYYY-MM' from the month of date_from to the month of date_to, both included."""
    months, y, m = [], date_from.year, date_from.month
    while (y, m) <= (date_to.year, date_to.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months
