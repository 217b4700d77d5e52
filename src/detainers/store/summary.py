"""Outcome counts per cohort, facility, fiscal year and outcome, kept with the detainers they count.

`outcome_counts` says, for each cohort (`lodged`: by the day ICE lodged the detainer; `ended`: by
the day it ended), facility and fiscal year, how many detainers there are, in all and per outcome. It is rebuilt
inside the transaction of every write that changes detainers (imports, ingests, re-derivation), so a
reader always sees it and the detainers from the same moment; a backup carries it along. The
outcome statistics read it when the question allows (whole fiscal years, no policy stance) and count
the detainers themselves otherwise; both give the same answers (tests/test_summary.py).
"""

from __future__ import annotations

from sqlalchemy import Connection, case, delete, func, insert, literal, select

from detainers.model import OUTCOME_ORDER

from detainers.store.schema import detainers, outcome_counts

COHORT_COLUMNS = {
    "lodged": (detainers.c.lodged_on, detainers.c.lodged_fy),
    "ended": (detainers.c.ended_on, detainers.c.ended_fy),
}


def refresh(conn: Connection) -> None:
    """Count every detainer again, in the caller's transaction."""
    conn.execute(delete(outcome_counts))
    per_outcome = [func.sum(case((detainers.c.outcome == o, 1), else_=0)) for o in OUTCOME_ORDER]
    for cohort, (day, fy) in COHORT_COLUMNS.items():
        counted = (select(literal(cohort), detainers.c.facility_id, fy, func.count(), *per_outcome)
                   .where(day.is_not(None))
                   .group_by(detainers.c.facility_id, fy))
        conn.execute(insert(outcome_counts).from_select(
            ["cohort", "facility_id", "fy", "n", *OUTCOME_ORDER], counted))
