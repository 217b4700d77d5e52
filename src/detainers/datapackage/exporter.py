"""`detainers export DIR`: write the database as a canonical data package.

What the sources said is written back, not what we derived: a charge's category
only where the source gave one (the classifier fills the rest again on import),
a detainer's booking id only where the source gave it, and the source's outcome
claim. So an export imports back to the same answers.

The `restricted` export (the default: it is a full copy) carries names and dates
of birth and is recorded in the audit log. The `public` export leaves them out
and replaces person, booking, charge and detainer ids with keyed pseudonyms.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from detainers import __version__, audit
from detainers.analytics.provenance import is_synthetic, source_list
from detainers.datapackage.spec import FILES, FileSpec
from detainers.errors import InputError, Problem
from detainers.model import Audience
from detainers.privacy import Keyer, installation_secret
from detainers.reports.render import neutralize
from detainers.store.schema import metadata, person_identities, people

#: Id columns replaced by pseudonyms in a public export, with the pseudonym prefix.
_PSEUDONYMS = {"person_id": "P-", "booking_id": "B-", "charge_id": "C-", "detainer_id": "D-"}


@dataclass
class ExportResult:
    path: str
    audience: str
    files: dict[str, int]
    synthetic: bool


def export_package(engine: Engine, path: Path, *, audience: str = Audience.RESTRICTED,
                   actor: str | None = None) -> ExportResult:
    """Write every table to `path` (created if needed; existing package files are replaced)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(Problem(str(path), None, None, None, "is a file (expected a folder to write into)"))
    path.mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        keyers = {}
        if audience == Audience.PUBLIC:
            secret = installation_secret(conn)
            keyers = {col: Keyer(secret, prefix) for col, prefix in _PSEUDONYMS.items()}
        counts = {spec.name: _write_file(conn, spec, path / spec.name, keyers) for spec in FILES}
        synthetic = is_synthetic(source_list(conn))
        (path / "package.toml").write_text(
            f"synthetic = {'true' if synthetic else 'false'}\n"
            f'title = "Export from detainers {__version__}"\n'
            f'audience = "{audience}"\n', encoding="utf-8")
        if audience == Audience.RESTRICTED:
            audit.record(conn, "export.restricted", {"path": str(path.resolve()), "rows": counts}, actor)
    return ExportResult(str(path), str(audience), counts, synthetic)


def _query(spec: FileSpec):
    table = metadata.tables[spec.table]
    if spec.table == "people":
        source = people.outerjoin(person_identities, person_identities.c.person_id == people.c.person_id)
        cols = [people.c.person_id, people.c.birth_year, people.c.sex, people.c.citizenship,
                person_identities.c.name, person_identities.c.date_of_birth]
        return select(*cols).select_from(source).order_by(people.c.person_id)
    cols = []
    for col in spec.columns:
        cols.append(table.c[col.stored_as])
    extra = []
    if spec.table == "charges":
        extra = [table.c.category_origin]
    if spec.table == "detainers":
        extra = [table.c.booking_link]
    key = [table.c[c.stored_as] for c in spec.columns if c.name in spec.key]
    query = select(*cols, *extra).order_by(*key)
    if spec.table == "policies":
        # Policies derived from 287(g) lists are re-derived from the lists, not exported as the user's.
        query = query.where(table.c.origin == "package")
    return query


def _write_file(conn: Connection, spec: FileSpec, target: Path, keyers: dict) -> int:
    names = list(spec.column_names)
    public = bool(keyers)
    if public and spec.table == "people":
        names = [n for n in names if n not in ("name", "date_of_birth")]
    count = 0
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(names)
        for row in conn.execute(_query(spec)):
            values = dict(zip(spec.column_names, row))
            if spec.table == "charges" and row.category_origin != "source":
                values["category"] = None
            if spec.table == "detainers" and row.booking_link != "given":
                values["booking_id"] = None
            out = []
            for name in names:
                value = values[name]
                if public and name in keyers and value is not None:
                    value = keyers[name](value)
                out.append(_cell(value))
            writer.writerow(out)
            count += 1
    return count


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(neutralize(value))
