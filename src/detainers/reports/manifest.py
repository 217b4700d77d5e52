"""A report's manifest: what it was made from and with, so that it can be made again.

Every report dict carries ``manifest``::

    {"tool": "detainers", "version": ..., "classifier_tables": ...,
     "database": "<the database URL without its password>",
     "sources": [{"source_id", "kind", "name", "sha256", "loaded_at"}, ...],
     "parameters": {...every field of the report's query, thresholds resolved...},
     "report": "non-cooperative" | "declined" | "transfers" | "policy-change" | "rearrest"}

`rebuild(engine, manifest)` checks that the same sources (by SHA-256) are loaded
and runs the report's builder again with the recorded parameters. Person keys
are keyed per database, so a rebuild on another database gives other keys.
"""

from __future__ import annotations

import dataclasses
import importlib
import typing
from datetime import date

from sqlalchemy import Connection, Engine

from detainers.analytics import provenance
from detainers.config import redact_url
from detainers.errors import InputError

#: report name → (module with `build(conn, query)`, query class name). Other reports add themselves with `register`.
BUILDERS: dict[str, tuple[str, str]] = {
    "non-cooperative": ("detainers.reports.noncooperative", "NonCooperativeQuery"),
    "declined": ("detainers.reports.declined", "DeclinedQuery"),
    "transfers": ("detainers.reports.transfers", "TransfersQuery"),
    "policy-change": ("detainers.reports.policy_change", "PolicyChangeQuery"),
    "rearrest": ("detainers.reports.rearrest", "RearrestQuery"),
}


class SourcesChanged(InputError):
    """The database no longer holds exactly the sources a report was made from."""


def register(report: str, module: str, query_class: str) -> None:
    """Make `rebuild` know a report: its module (with `build(conn, query)`) and its query dataclass."""
    BUILDERS[report] = (module, query_class)


def database_label(conn: Connection) -> str:
    """The database URL with no password (a stable label of where the report was made)."""
    url = conn.engine.url
    return redact_url(url.set(password=None).render_as_string(hide_password=False))


def parameters_of(query, **resolved) -> dict:
    """Every field of a query dataclass as JSON values (dates as ISO days, tuples as lists)."""
    out = {}
    for field in dataclasses.fields(query):
        out[field.name] = _json(getattr(query, field.name))
    out.update({k: _json(v) for k, v in resolved.items()})
    return out


def _json(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_json(v) for v in value]
    if isinstance(value, str):
        return str(value)  # StrEnum → plain str
    return value


def make(conn: Connection, report: str, query, **resolved) -> dict:
    """The manifest of a report built now from this connection with `query`."""
    info = provenance.tool_info()
    return {
        "tool": info["tool"],
        "version": info["version"],
        "classifier_tables": info["classifier_tables"],
        "database": database_label(conn),
        "sources": [{k: s[k] for k in ("source_id", "kind", "name", "sha256", "loaded_at")}
                    for s in provenance.source_list(conn)],
        "parameters": parameters_of(query, **resolved),
        "report": report,
    }


def query_from(manifest: dict):
    """The query object the manifest's parameters describe."""
    name = manifest.get("report")
    if name not in BUILDERS:
        raise InputError(f"The manifest is of report {name!r}, which this version cannot rebuild "
                         f"(known: {', '.join(sorted(BUILDERS))}).")
    module_name, class_name = BUILDERS[name]
    cls = getattr(importlib.import_module(module_name), class_name)
    hints = typing.get_type_hints(cls)
    params = dict(manifest.get("parameters") or {})
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(params) - fields
    if unknown:
        raise InputError(f"The manifest has parameters this version does not know: {', '.join(sorted(unknown))}.")
    kwargs = {k: _from_json(v, hints.get(k)) for k, v in params.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InputError(f"The manifest's parameters do not make a {class_name}: {exc}.") from None


def _from_json(value, hint):
    text = str(hint)
    if value is None:
        return None
    if hint is date or (isinstance(value, str) and "datetime.date" in text):
        return date.fromisoformat(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def check_sources(conn: Connection, manifest: dict) -> None:
    """Raise SourcesChanged unless the loaded sources are exactly the manifest's (compared by SHA-256)."""
    recorded = {s["sha256"]: s for s in manifest.get("sources", [])}
    loaded = {s["sha256"]: s for s in provenance.source_list(conn)}
    missing = [recorded[h] for h in recorded if h not in loaded]
    extra = [loaded[h] for h in loaded if h not in recorded]
    if missing or extra:
        lines = [f"missing: {s['kind']} {s['name']} ({s['sha256'][:12]}…)" for s in missing]
        lines += [f"loaded since: {s['kind']} {s['name']} ({s['sha256'][:12]}…)" for s in extra]
        raise SourcesChanged("The database does not hold the sources the report was made from; "
                             "its numbers would differ. " + "; ".join(lines))


def rebuild(engine: Engine, manifest: dict, *, check: bool = True) -> dict:
    """Run the manifest's report again with its recorded parameters (after checking the sources)."""
    query = query_from(manifest)
    module = importlib.import_module(BUILDERS[manifest["report"]][0])
    with engine.begin() as conn:
        if check:
            check_sources(conn, manifest)
        return module.build(conn, query)
