"""What a report is made from: the sources loaded, and whether any is synthetic."""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, select

from detainers import __version__
from detainers.offenses import active_version
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
    return {"tool": "detainers", "version": __version__, "classifier_tables": active_version()}


#: What each kind of source cannot tell, said in every report made from it.
KIND_LIMITS = {
    "ice-lesa": "ICE detainer releases carry no jail bookings: their detainers place nobody in custody, and "
                "their outcomes come only from ICE's lift reason (through the lift-reason table).",
    "jail-report": "Sheriffs' detainer reports do not give the day a detainer was lodged; the booking day "
                   "is used instead.",
    "jail-csv": "Jail exports read through a mapping file are only as complete as the columns the mapping names.",
    "roster-snapshot": "Records from jail roster snapshots are only as precise as the snapshots: a hold is "
                       "dated by the first snapshot that shows it, and a release by the first snapshot "
                       "without the person, with the release reason unknown.",
    "287g-roster": "287(g) lists are dated by the list, not by the agreement: an agreement's start and end "
                   "are known only to within the time between two lists.",
}


def source_limits(source_rows: list[dict]) -> list[str]:
    """The limits of the kinds of source loaded, in the order they were first loaded."""
    kinds = dict.fromkeys(s["kind"] for s in source_rows)
    return [KIND_LIMITS[k] for k in kinds if k in KIND_LIMITS]
