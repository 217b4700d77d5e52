"""287(g) agreements in force on a day, one row per agency (its models listed together)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, or_, select

from detainers.store.schema import agreements

MODEL_ORDER = ("jem", "wso", "tfm")


def agreements_on(conn: Connection, day: date) -> list[dict]:
    """Agencies with at least one agreement active on `day` ([active_from, active_to))."""
    query = (select(agreements)
             .where(agreements.c.active_from <= day,
                    or_(agreements.c.active_to.is_(None), agreements.c.active_to > day))
             .order_by(agreements.c.state, agreements.c.agency_key, agreements.c.model))
    grouped: dict[tuple, dict] = {}
    for a in conn.execute(query):
        row = grouped.setdefault((a.state, a.agency_key), {
            "state": a.state, "agency": a.agency, "county": a.county, "county_fips": a.county_fips,
            "jurisdiction_id": a.jurisdiction_id, "models": [], "signed_on": a.signed_on,
            "active_from": a.active_from, "active_to": a.active_to})
        row["models"].append(a.model)
        if a.signed_on and (row["signed_on"] is None or a.signed_on < row["signed_on"]):
            row["signed_on"] = a.signed_on
        row["active_from"] = min(row["active_from"], a.active_from)
        if row["active_to"] is not None:
            row["active_to"] = None if a.active_to is None else max(row["active_to"], a.active_to)
    rows = []
    for row in grouped.values():
        row["models"] = sorted(row["models"], key=MODEL_ORDER.index)
        for key in ("signed_on", "active_from", "active_to"):
            row[key] = row[key].isoformat() if row[key] else None
        rows.append(row)
    return rows
