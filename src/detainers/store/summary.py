"""Outcome counts per cohort, facility, fiscal year and outcome, kept with the detainers they count.

`outcome_counts` says, for each cohort (`lodged`: by the day ICE lodged the detainer; `ended`: by
the day it ended), facility and fiscal year, how many detainers there are, in all and per outcome. It is rebuilt
inside the transaction of every write that changes detainers (imports, ingests, re-derivation), so a
reader always sees it and the detainers from the same moment; a backup carries it along. The
outcome statistics read it when the question allows (whole fiscal years, no policy stance) and count
the detainers themselves otherwise; both give the same answers (tests/test_summary.py).
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, text

from detainers.model import OUTCOME_ORDER

from detainers.store.schema import detainers, outcome_counts

COHORT_COLUMNS = {
    "lodged": (detainers.c.lodged_on, detainers.c.lodged_fy),
    "ended": (detainers.c.ended_on, detainers.c.ended_fy),
}


def refresh(conn: Connection) -> None:
    """Count every detainer again, in the caller's transaction."""
    conn.execute(delete(outcome_counts))
    per_outcome = ", ".join(f"SUM(CASE WHEN outcome = '{o}' THEN 1 ELSE 0 END)" for o in OUTCOME_ORDER)
    # SQLite would walk the facility index and fetch rows in its order, jumping about the table; reading
    # the table in its own order and sorting is twice as fast (PostgreSQL chooses well by itself).
    table = "detainers NOT INDEXED" if conn.dialect.name == "sqlite" else "detainers"
    for cohort, (day, fy) in COHORT_COLUMNS.items():
        conn.execute(text(
            f"INSERT INTO outcome_counts (cohort, facility_id, fy, n, {', '.join(OUTCOME_ORDER)}) "
            f"SELECT :cohort, facility_id, {fy.name}, COUNT(*), {per_outcome} FROM {table} "
            f"WHERE {day.name} IS NOT NULL GROUP BY facility_id, {fy.name}"), {"cohort": cohort})
