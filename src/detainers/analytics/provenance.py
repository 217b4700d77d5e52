"""What a report is made from: the sources loaded, and whether any is synthetic."""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, select

from detainers import __version__
from detainers.offenses import TABLES_VERSION
from detainers.store.schema import facilities, jurisdictions, sources

SYNTHETIC_LABEL = "SYNTHETIC DATA — invented records for demonstration, not real people or real counts"


def source_list(conn: Connection) -> list[dict]:
    """Every loaded source, oldest first."""
    rows = conn.execute(select(sources).order_by(sources.c.source_id))
    return [
        {
            "source_id": r.source_id,
            "kind": r.kind,
            "name": r.name,
            "sha256": r.sha256,
            "loaded_at": r.loaded_at.isoformat(timespec="seconds") if r.loaded_at else None,
            "rows_read": r.rows_read,
            "row_counts": json.loads(r.row_counts or "{}"),
            "synthetic": bool(r.synthetic),
            "family": r.family,
            "as_of": r.as_of.isoformat() if r.as_of else None,
            "quality": json.loads(r.quality or "{}"),
        }
        for r in rows
    ]


def is_synthetic(source_rows: list[dict]) -> bool:
    """A report is synthetic if anything it could draw on is synthetic."""
    return any(s["synthetic"] for s in source_rows)


def unplaced_facilities(conn: Connection) -> int:
    """Facilities that no jurisdiction has been assigned to."""
    return conn.execute(select(func.count()).where(facilities.c.jurisdiction_id.is_(None))).scalar_one()


def shared_names(conn: Connection) -> list[str]:
    """Jurisdiction names used in more than one state, e.g. 'Franklin County (NC, OH)'."""
    query = (select(jurisdictions.c.name, jurisdictions.c.state)
             .order_by(jurisdictions.c.name, jurisdictions.c.state))
    by_name: dict[str, list[str]] = {}
    for name, state in conn.execute(query):
        by_name.setdefault(name, []).append(state)
    return [f"{name} ({', '.join(states)})" for name, states in by_name.items() if len(set(states)) > 1]


def tool_info() -> dict:
    return {"tool": "detainers", "version": __version__, "classifier_tables": TABLES_VERSION}
