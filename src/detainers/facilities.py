"""Placing facilities in jurisdictions: one at a time, or from a file of placements."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Connection, select, update

from detainers import audit
from detainers.errors import InputError, Problem
from detainers.store import version
from detainers.store.schema import facilities, jurisdictions


def facility_list(conn: Connection, *, unplaced: bool = False) -> list[dict]:
    """Facilities with their jurisdiction (None when unplaced)."""
    query = select(facilities.c.facility_id, facilities.c.name, facilities.c.code, facilities.c.city,
                   facilities.c.state, facilities.c.kind, facilities.c.jurisdiction_id).order_by(
        facilities.c.state, facilities.c.name, facilities.c.facility_id)
    if unplaced:
        query = query.where(facilities.c.jurisdiction_id.is_(None))
    return [dict(r._mapping) for r in conn.execute(query)]


def place(conn: Connection, facility_id: str, jurisdiction_id: str, *, where: str = "command line") -> str | None:
    """Assign a facility (by id or ICE facility code) to a jurisdiction; returns the previous one."""
    row = conn.execute(select(facilities.c.facility_id, facilities.c.jurisdiction_id).where(
        (facilities.c.facility_id == facility_id) | (facilities.c.code == facility_id.upper()))).first()
    if row is None:
        raise InputError(Problem(where, None, "facility", facility_id, "is not a known facility id or code"))
    exists = conn.execute(select(jurisdictions.c.jurisdiction_id).where(
        jurisdictions.c.jurisdiction_id == jurisdiction_id)).scalar()
    if exists is None:
        raise InputError(Problem(where, None, "jurisdiction", jurisdiction_id, "is not a known jurisdiction id"))
    conn.execute(update(facilities).where(facilities.c.facility_id == row.facility_id)
                 .values(jurisdiction_id=jurisdiction_id))
    version.bump(conn)
    audit.record(conn, "facility.place", {"facility_id": row.facility_id, "from": row.jurisdiction_id,
                                          "to": jurisdiction_id})
    return row.jurisdiction_id


def place_from_file(conn: Connection, path: Path) -> int:
    """Apply a CSV of placements (columns facility — an id or code — and jurisdiction_id), all or nothing."""
    try:
        text = Path(path).read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(path), None, None, None, f"cannot be read as UTF-8 text ({exc})")) from None
    reader = csv.DictReader(text.splitlines())
    header = set(reader.fieldnames or [])
    column = "facility_id" if "facility_id" in header else "facility" if "facility" in header else None
    if column is None or "jurisdiction_id" not in header:
        raise InputError(Problem(str(path), 1, None, None,
                                 "needs the columns facility_id (or facility: an id or code) and jurisdiction_id"))
    count = 0
    for number, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values()):
            continue
        place(conn, (row[column] or "").strip(), (row["jurisdiction_id"] or "").strip(),
              where=f"{path}, row {number}")
        count += 1
    return count
