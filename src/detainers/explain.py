"""Drill down from one count of a report to the records and source rows behind it.

``explain(conn, report, "jurisdictions.nc-wake.counts.by_category.sex_offense_child")``
finds the count in the report (see `detainers.reports.paths` for the path syntax),
reads the query spec the report stored for it (its ``provenance`` mapping), runs
that query against the database and returns the count and the records — each
with the source file (kind, name, SHA-256) and the row of it that it came from.

Audiences: ``public`` (the default) gives pseudonymous keys only (person key,
detainer key, booking key) and refuses counts that the report suppressed;
``restricted`` adds person, detainer and booking ids, names and dates of birth,
explains suppressed counts too, and is recorded in the audit log.

Before running the query the loaded sources are compared with the report's
manifest: if they differ, the records would not be the ones the report counted,
and `explain` stops (`check_sources=False` runs anyway, and says so).
"""

from __future__ import annotations

from sqlalchemy import Connection

from detainers import audit
from detainers.analytics import custody, drilldown
from detainers.errors import InputError
from detainers.model import Audience
from detainers.privacy import Keyer, installation_secret
from detainers.reports import manifest as manifests
from detainers.reports import paths, suppress


class Refused(InputError):
    """The count may not be explained to this audience (it is suppressed)."""


def spec_for(report: dict, path: str) -> tuple[str, object, dict]:
    """(canonical path, the value in the report, the query spec behind it)."""
    steps = paths.walk(report, path)
    canonical = [key for _, key in steps]
    container, key = steps[-1]
    value = container[int(key)] if isinstance(container, list) else container[key]
    # the deepest object along the path whose `provenance` names the rest of the path
    node: object = report
    found = None
    for i, (_, step_key) in enumerate(steps):
        if isinstance(node, dict) and isinstance(node.get("provenance"), dict):
            rest = ".".join(canonical[i:])
            if rest in node["provenance"]:
                found = node["provenance"][rest]
        node = node[int(step_key)] if isinstance(node, list) else node[step_key]
    if found is None:
        raise InputError(f"{'.'.join(canonical)} is not a count this report can explain "
                         f"(value {value!r}). `detainers.explain.countable(report)` lists those it can.")
    return ".".join(canonical), value, found


def countable(report: dict) -> list[str]:
    """Every path `explain` accepts in this report, in report order."""
    found: list[str] = []

    def visit(node, prefix: str) -> None:
        if isinstance(node, dict):
            for rel in (node.get("provenance") or {}) if isinstance(node.get("provenance"), dict) else ():
                found.append(f"{prefix}{rel}")
            for k, v in node.items():
                if k not in ("provenance", "manifest"):
                    visit(v, f"{prefix}{k}.")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, f"{prefix}{i}.")

    visit(report, "")
    return found


def is_suppressed(report: dict, canonical_path: str, value: object) -> bool:
    cells = (report.get("suppression") or {}).get("cells") or []
    return canonical_path in cells or suppress.is_marker(value)


def explain(conn: Connection, report: dict, path: str, *, audience: str = Audience.PUBLIC,
            check_sources: bool = True) -> dict:
    """The count at `path` and the records behind it (see the module doc)."""
    if audience not in (Audience.PUBLIC, Audience.RESTRICTED):
        raise InputError(f"The audience is public or restricted, not {audience!r}.")
    restricted = audience == Audience.RESTRICTED
    canonical, value, spec = spec_for(report, path)
    if not restricted and is_suppressed(report, canonical, value):
        raise Refused(f"{canonical} is a suppressed small count ({value!r}) in this public report; its records "
                      "are shown only to the restricted audience (--audience restricted, which is audited).")
    sources_checked = False
    if "manifest" in report and check_sources:
        manifests.check_sources(conn, report["manifest"])
        sources_checked = True
    unit, rows = drilldown.fetch(conn, spec)
    keyer = Keyer(installation_secret(conn))
    detainer_keyer = Keyer(installation_secret(conn), prefix="D-")
    booking_keyer = Keyer(installation_secret(conn), prefix="B-")
    identities = {}
    if restricted:
        people = sorted({r.person_id for r in rows} if unit == "detainers" else {p[0] for p in rows})
        identities = custody.identities_of(conn, people)

    def who(person_id: str) -> dict:
        out = {"person_key": keyer(person_id)}
        if restricted:
            name, dob = identities.get(person_id, (None, None))
            out.update(person_id=person_id, name=name, date_of_birth=dob.isoformat() if dob else None)
        return out

    def detainer(r) -> dict:
        out = {"detainer_key": detainer_keyer(r.detainer_id)}
        if restricted:
            out["detainer_id"] = r.detainer_id
        out.update(who(r.person_id))
        out.update({
            "facility_id": r.facility_id,
            "jurisdiction_id": r.jurisdiction_id,
            "booking_key": booking_keyer(r.booking_id) if r.booking_id else None,
            "lodged_on": r.lodged_on.isoformat() if r.lodged_on else None,
            "ended_on": r.ended_on.isoformat() if r.ended_on else None,
            "outcome": r.outcome,
            "outcome_rule": r.outcome_rule,
            "likely_duplicate": r.duplicate_of is not None,
            "source": _source(r.source_id, r.source_kind, r.source_name, r.source_sha256),
            "source_row": r.source_row,
        })
        if restricted:
            out["booking_id"] = r.booking_id
        return out

    if unit == "detainers":
        records = [detainer(r) for r in rows]
    elif unit == "released_people":
        charge_src = drilldown.charge_sources(conn, sorted({c.charge_id for p in rows for c in p[3]}))
        records = []
        for person_id, follow, row, new_charges in rows:
            record = who(person_id)
            b = follow["rebooking"]
            record.update({
                "group": follow.get("group") or spec["where"].get("group"),
                "released_on": follow["released_on"].isoformat(),
                "window_end": follow["window_end"].isoformat(),
                "status": follow["status"],
                "not_linkable_reason": follow["not_linkable_reason"],
                "release_reason": row_reason(follow["row"]),
                "detainer": detainer(row),
                "rebooking_key": booking_keyer(b.booking_id) if b else None,
                "rebooked_on": b.booked_on.isoformat() if b else None,
                "rebooking_facility_id": b.facility_id if b else None,
                "charges": [_charge(c, charge_src.get(c.charge_id)) for c in new_charges],
            })
            if restricted:
                record["rebooking_id"] = b.booking_id if b else None
            records.append(record)
    else:
        charge_src = drilldown.charge_sources(conn, sorted({c.charge_id for p in rows for c in p[3]}))
        records = []
        for person_id, booking_id, active, matching in rows:
            record = who(person_id)
            record["booking_key"] = booking_keyer(booking_id)
            if restricted:
                record["booking_id"] = booking_id
            record["detainers"] = [detainer(r) for r in active]
            record["charges"] = [_charge(c, charge_src.get(c.charge_id)) for c in matching]
            records.append(record)
    result = {
        "report": report.get("report"),
        "path": canonical,
        "reported": value,
        "count": len(records),
        "unit": unit,
        "matches_report": value == len(records) if isinstance(value, int) else None,
        "audience": str(audience),
        "query": spec,
        "sources_checked": sources_checked,
        "records": records,
    }
    if restricted:
        audit.record(conn, "explain.restricted", {"report": report.get("report"), "path": canonical,
                                                   "records": len(records)})
    return result


def row_reason(row) -> str | None:
    return getattr(row, "release_reason", None)


def _source(source_id, kind, name, sha256) -> dict | None:
    if source_id is None:
        return None
    return {"source_id": source_id, "kind": kind, "name": name, "sha256": sha256}


def _charge(c, src) -> dict:
    return {"description": c.description, "category": c.category, "stage": c.stage, "level": c.level,
            "source": _source(src.source_id, src.kind, src.name, src.sha256) if src else None,
            "source_row": src.source_row if src else None}
