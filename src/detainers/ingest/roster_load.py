"""Storing a 287(g) list: its rows as published, then the agreements and policies derived from all lists.

Agreements are derived state: every list loaded so far is read again and the
agreement spans rebuilt, so lists may arrive in any order. Policies derived from
jail-enforcement (JEM) agreements say the county honours detainers; they never
overwrite or overlap a policy a user entered.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from sqlalchemy import Connection, Engine, delete, insert, select

from detainers import audit, interrupted
from detainers.agreements import diff, timeline
from detainers.ingest.base import Extract
from detainers.store import bulk, version
from detainers.store.schema import agreements, jurisdictions, policies, roster_entries, sources

ENTRY_COLUMNS = ("list_date", "state", "agency", "agency_key", "agency_type", "county", "county_fips", "model",
                 "signed_on", "moa")


def load_roster(engine: Engine, extract: Extract, sha: str, family: str, actor: str | None):
    """Write one list and rebuild agreements and roster-derived policies, in one transaction."""
    from detainers.ingest.load import IngestResult

    entries = extract.extra.get("roster_entries", [])
    list_date: date = extract.extra["list"][0]["list_date"]
    with interrupted.guard(engine, "ingest (287g-roster)", str(extract.path)) as mark, engine.begin() as conn:
        previous = _previous_list(conn, list_date)
        changes = diff(previous, entries)
        source_id = conn.execute(insert(sources).values(
            kind="287g-roster", name=extract.path.name, sha256=sha, loaded_at=datetime.now(timezone.utc),
            rows_read=extract.records, row_counts=json.dumps({"roster_entries": len(entries)}),
            synthetic=False, notes=json.dumps(extract.notes), family=family, sheet=extract.sheet,
            quality=json.dumps(dict(sorted(extract.quality.items()))),
            as_of=datetime(list_date.year, list_date.month, list_date.day),
        ).returning(sources.c.source_id)).scalar_one()
        bulk.insert_rows(conn, roster_entries, (*ENTRY_COLUMNS, "source_id", "source_row"),
                         ((*(e.get(c) for c in ENTRY_COLUMNS), source_id, e.get("source_row")) for e in entries))
        spans = rebuild(conn, source_id)
        audit.record(conn, "ingest", {"kind": "287g-roster", "path": str(extract.path), "sha256": sha,
                                      "source_id": source_id, "list_date": list_date.isoformat()}, actor)
        mark.done(conn)
    summary = {k: [_label(e) for e in v] for k, v in changes.items()}
    summary["compared_with"] = previous[0]["list_date"].isoformat() if previous else None
    summary["agreements"] = spans
    return IngestResult(kind="287g-roster", path=str(extract.path), sha256=sha, source_id=source_id,
                        already_ingested=False, family=family, quality=dict(sorted(extract.quality.items())),
                        notes=list(extract.notes), records=extract.records, roster_changes=summary)


def _label(entry) -> str:
    e = entry if isinstance(entry, dict) else getattr(entry, "__dict__", {})
    return f"{e.get('agency')} ({e.get('state')}, {str(e.get('model', '')).upper()})"


def _previous_list(conn: Connection, list_date: date) -> list[dict]:
    """The entries of the latest list dated before this one."""
    before = conn.execute(select(roster_entries.c.list_date).where(roster_entries.c.list_date < list_date)
                          .order_by(roster_entries.c.list_date.desc()).limit(1)).scalar()
    if before is None:
        return []
    cols = [roster_entries.c[c] for c in ENTRY_COLUMNS]
    return [dict(r._mapping) for r in conn.execute(select(*cols).where(roster_entries.c.list_date == before))]


def rebuild(conn: Connection, source_id: int | None = None) -> int:
    """Derive agreements from every stored list, and the policies they imply. Returns the agreement count."""
    cols = [roster_entries.c[c] for c in ENTRY_COLUMNS]
    entries = [dict(r._mapping) for r in conn.execute(select(*cols))]
    spans = timeline(entries)
    by_fips = {}
    for j in conn.execute(select(jurisdictions.c.jurisdiction_id, jurisdictions.c.fips, jurisdictions.c.state)
                          .where(jurisdictions.c.kind == "county", jurisdictions.c.fips.is_not(None))):
        by_fips.setdefault(j.fips, j.jurisdiction_id)
    version.bump(conn)
    conn.execute(delete(agreements))
    rows = []
    for s in spans:
        rows.append((s.state, s.agency, s.agency_key, s.agency_type, s.county, s.county_fips,
                     by_fips.get(s.county_fips) if s.county_fips else None, s.model, s.signed_on,
                     s.active_from, s.active_to, s.first_list, s.last_list))
    bulk.insert_rows(conn, agreements, ("state", "agency", "agency_key", "agency_type", "county", "county_fips",
                                        "jurisdiction_id", "model", "signed_on", "active_from", "active_to",
                                        "first_list", "last_list"), rows)
    _derive_policies(conn, [r for r in rows if r[7] == "jem" and r[6] is not None], source_id)
    return len(rows)


def _derive_policies(conn: Connection, jem_rows: list[tuple], source_id: int | None) -> None:
    """JEM agreements → 'honors' policies, merged per county, never overlapping a user's policy."""
    conn.execute(delete(policies).where(policies.c.origin == "287g-roster"))
    user = {}
    for p in conn.execute(select(policies.c.jurisdiction_id, policies.c.effective_from, policies.c.effective_to)):
        user.setdefault(p.jurisdiction_id, []).append((p.effective_from, p.effective_to))
    by_juris: dict[str, list[tuple]] = {}
    for r in jem_rows:
        by_juris.setdefault(r[6], []).append((r[9], r[10], r[1]))
    inserts = []
    for juris, spans in sorted(by_juris.items()):
        for start, end, agencies in _merge(spans):
            if any(_overlaps(start, end, u0, u1) for u0, u1 in user.get(juris, [])):
                continue
            inserts.append((juris, start, end, "honors", "287g-jem",
                            "287(g) jail enforcement agreement: " + "; ".join(sorted(agencies)),
                            "ICE list of 287(g) participating agencies", "287g-roster", source_id))
    bulk.insert_rows(conn, policies, ("jurisdiction_id", "effective_from", "effective_to", "stance", "agreement",
                                      "criteria", "citation", "origin", "source_id"), inserts)


def _merge(spans: list[tuple]) -> list[tuple]:
    """Join overlapping or touching [from, to) spans; None as `to` means open-ended."""
    far = date.max
    ordered = sorted(spans, key=lambda s: s[0])
    merged: list[list] = []
    for start, end, agency in ordered:
        if merged and start <= (merged[-1][1] or far):
            last = merged[-1]
            last[1] = None if end is None or last[1] is None else max(last[1], end)
            last[2].add(agency)
        else:
            merged.append([start, end, {agency}])
    return [(s, e, a) for s, e, a in merged]


def _overlaps(a0: date, a1: date | None, b0: date, b1: date | None) -> bool:
    return a0 < (b1 or date.max) and b0 < (a1 or date.max)
