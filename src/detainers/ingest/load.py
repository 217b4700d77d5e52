"""`detainers ingest KIND PATH`: read a published file and store it like a data package.

The reader gives canonical rows; this module places facilities, applies what a
snapshot series implies, checks references, reconciles with the previous release
of the same series, and writes everything in one transaction (or nothing).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from detainers import audit, interrupted
from detainers.datapackage import parallel
from detainers.datapackage.checks import check_package
from detainers.datapackage.importer import FileResult, ImportResult, SourceInfo, write_package
from detainers.datapackage.reader import Package, PackageFile
from detainers.datapackage.spec import EARLIEST_EVENT, FILES, FILES_BY_NAME, CellError, read_event_date
from detainers.errors import InputError, Problem
from detainers.ingest import SOURCES, reader
from detainers.ingest.base import Extract, IngestOptions, slug
from detainers.store import schema
from detainers.store.schema import bookings, detainers, facilities, jurisdictions, sources


@dataclass
class IngestResult:
    kind: str
    path: str
    sha256: str
    source_id: int | None
    already_ingested: bool
    family: str | None = None
    files: dict[str, FileResult] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    previous_source_id: int | None = None
    quality: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unplaced_facilities: list[str] = field(default_factory=list)
    without_booking: int = 0
    records: int = 0
    #: 287(g) lists: what changed compared with the previous list
    roster_changes: dict | None = None

    def as_dict(self) -> dict:
        return {
            "kind": self.kind, "path": self.path, "sha256": self.sha256, "source_id": self.source_id,
            "already_ingested": self.already_ingested, "family": self.family, "records": self.records,
            "files": {k: vars(v) for k, v in self.files.items()},
            "previous_source_id": self.previous_source_id,
            "removed": {k: len(v) for k, v in self.removed.items()},
            "quality": self.quality, "notes": self.notes,
            "unplaced_facilities": self.unplaced_facilities,
            "detainers_without_booking": self.without_booking,
            "roster_changes": self.roster_changes,
        }


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def default_family(kind: str, path: Path, options: IngestOptions) -> str:
    """Releases of one series share a family: by default the kind and the file name without copies' marks."""
    if kind == "287g-roster":
        return kind
    if kind == "roster-snapshot":
        return f"{kind}:{options.facility_id}"
    stem = re.sub(r"\s*\(\d+\)$|[-_ ]?(v\d+|updated|final|copy)$", "", path.stem.strip(), flags=re.IGNORECASE)
    scope = f":{options.jurisdiction_id}" if options.jurisdiction_id else ""
    return f"{kind}{scope}:{slug(stem)}"


def ingest(engine: Engine, kind: str, path: Path, options: IngestOptions = IngestOptions(), *,
           family: str | None = None, progress=None, actor: str | None = None,
           stage: Callable[[str], None] | None = None) -> IngestResult:
    """Ingest one file of a known kind; raises InputError (changing nothing) when it cannot.

    `progress(n)` hears the records read so far; `stage(text)` hears each step ("reading", "checking", …).
    """
    if kind not in SOURCES:
        raise InputError(f"Unknown source kind {kind!r} (expected one of: {', '.join(SOURCES)})")
    path = Path(path)
    if not path.is_file():
        what = ("is a folder" if path.is_dir() else
                "is a symbolic link that leads nowhere (a loop, or its target is gone)" if path.is_symlink() else
                "does not exist")
        raise InputError(Problem(str(path), None, None, None, f"{what} (expected a file to ingest)"))
    sha = file_sha256(path)
    family = family or default_family(kind, path, options)
    with engine.connect() as conn:
        previous = conn.execute(select(sources.c.source_id).where(sources.c.kind == kind,
                                                                  sources.c.sha256 == sha)).scalar()
    if previous is not None:
        return IngestResult(kind, str(path), sha, previous, True, family)
    _check_options(engine, options)
    # A file's rows are millions of small objects that form no cycles: the cycle collector would walk them
    # all again and again (a sixth of the reading of a 1M-row release).
    with parallel.bulk_objects():
        return _read_and_write(engine, kind, path, options, sha, family, progress, actor, stage)


def _read_and_write(engine: Engine, kind: str, path: Path, options: IngestOptions, sha: str, family: str,
                    progress, actor: str | None, stage: Callable[[str], None] | None) -> IngestResult:
    from detainers.ingest import chunked  # it builds on this module

    module = reader(kind)
    if chunked.wanted(module, path):
        return chunked.ingest(engine, kind, path, options, sha, family, progress, actor, stage)
    if stage is not None:
        stage("reading")
    extract = module.read(path, options, progress)
    _apply_thresholds(path, extract)
    if kind == "287g-roster":
        from detainers.ingest.roster_load import load_roster

        if stage is not None:
            stage("writing the list and deriving agreements")
        return load_roster(engine, extract, sha, family, actor)
    pkg = _as_package(extract, sha)
    with interrupted.guard(engine, f"ingest ({kind})", str(path)) as mark, engine.begin() as conn:
        if stage is not None:
            stage("checking")
        _place_facilities(conn, pkg)
        if kind == "roster-snapshot":
            _apply_snapshot(conn, pkg, extract)
        problems = check_package(conn, pkg)
        _check_event_dates(pkg, problems)
        _raise_for(path, problems, extract.sheet)
        previous_id, removed = _reconcile(conn, pkg, family, kind)
        quality = dict(sorted(extract.quality.items()))
        if stage is not None:
            stage("writing")
        written = write_package(conn, pkg, SourceInfo(
            kind=kind, family=family, sheet=extract.sheet, quality=quality,
            as_of=options.as_of, rows_read=extract.records), stage=stage)
        result = _result(conn, kind, path, sha, family, written, extract, previous_id, removed)
        audit.record(conn, "ingest", {"kind": kind, "path": str(path), "sha256": sha,
                                      "source_id": written.source_id}, actor)
        mark.done(conn)
    return result


#: The files whose rows a newer release is reconciled on (one key, rows a release can drop).
RECONCILED = [spec for spec in FILES if len(spec.key) == 1 and spec.table in ("detainers", "bookings", "charges",
                                                                                "people")]


#: Share of a column's cells that may be unreadable before the file is refused (a shifted or
#: mislabelled column looks like this), and the share above which the summary warns.
STOP_SHARE = 0.5
WARN_SHARE = 0.05
_MIN_RECORDS = 20  # below this, shares say little


def _apply_thresholds(path: Path, extract: Extract) -> None:
    """Warn when many cells of a column could not be read; refuse the file when most could not.

    Only cells that could not be read count ("not a date", "not a known level code: X", …): withheld
    cells, skipped bookings and other notes do not. A column's problems add up, so that a shifted
    column whose every cell is a different unknown value is seen as one unreadable column.
    """
    if extract.records < _MIN_RECORDS:
        return
    by_column: dict[str, dict[str, int]] = {}
    for what, count in sorted(extract.quality.items()):
        column, _, problem = what.partition(": ")
        if not (problem.startswith("not ") or problem == "cannot be placed") or column in (
                "people", "detainers", "facilities", "bookings", "charges"):
            continue
        by_column.setdefault(column, {})[problem] = count
    for column, problems in by_column.items():
        count = sum(problems.values())
        if len(problems) == 1:
            (problem,) = problems
        else:  # one count per value: "not a known level code: ASSAULT", "…: THEFT"
            kinds = "; ".join(dict.fromkeys(p.split(": ", 1)[0] for p in problems))
            top = sorted(problems, key=lambda p: (-problems[p], p))[:3]
            examples = ", ".join(repr(p.split(": ", 1)[1]) for p in top if ": " in p)
            problem = f"{kinds}: {len(problems)} different values" + (f", e.g. {examples}" if examples else "")
        share = count / extract.records
        if share > STOP_SHARE:
            raise InputError(Problem(str(path), None, column, None,
                                     f"could not be read in {count:,} of {extract.records:,} rows ({problem}); "
                                     "expected mostly readable values — is the column shifted or mislabelled?"))
        if share > WARN_SHARE:
            extract.notes.append(f"{column}: {count:,} of {extract.records:,} rows ({share:.0%}) could not be read "
                                 f"({problem}); those cells were left empty.")


def _check_options(engine: Engine, options: IngestOptions) -> None:
    """A jurisdiction named on the command line must exist: say so before reading the file."""
    if not options.jurisdiction_id:
        return
    with engine.connect() as conn:
        found = conn.execute(select(jurisdictions.c.jurisdiction_id).where(
            jurisdictions.c.jurisdiction_id == options.jurisdiction_id)).scalar()
    if found is None:
        raise InputError(f"--jurisdiction: {options.jurisdiction_id!r} is not a known jurisdiction id "
                         "(import it first in jurisdictions.csv of a data package)")


#: The days a booking or detainer happened, which a data package reads with `read_event_date`.
_EVENT_DATES = {"bookings.csv": ("booked_on", "released_on"), "detainers.csv": ("lodged_on", "lifted_on")}


def _check_event_dates(pkg: Package, problems) -> None:
    """The same bounds as a data package: no stand-in 1900-01-01, nothing in the future."""
    for name, columns in _EVENT_DATES.items():
        for row in pkg.rows(name):
            if row.get("source_row") is None:
                continue  # made by the loader from stored rows, not read from the file
            for column in columns:
                value = row.get(column)
                if isinstance(value, datetime):
                    value = value.date()
                if value is None or EARLIEST_EVENT <= value <= _tomorrow():
                    continue
                try:
                    read_event_date(value.isoformat())
                except CellError as exc:
                    problems.add(Problem(name, row["source_row"], column, value.isoformat(), str(exc)))


def _tomorrow():
    return datetime.now(timezone.utc).date() + timedelta(days=1)


def _raise_for(path: Path, problems, sheet: str | None = None) -> None:
    """Problems found in the canonical rows, told against the user's file (and sheet) and its row numbers."""
    if not problems:
        return
    name = f"{path} [sheet {sheet}]" if sheet and ", " not in sheet else str(path)  # several sheets: rows are ambiguous
    told = [Problem(name, p.row, f"{p.column} (as {p.file.removesuffix('.csv')})" if p.column else None,
                    p.value, p.expected) for p in problems.items]
    raise InputError(told, more=problems.more)


def _as_package(extract: Extract, sha: str) -> Package:
    files = {}
    for spec in FILES:
        rows = extract.rows.get(spec.name)
        if not rows:
            continue
        wanted = [c.stored_as for c in spec.columns] + ["source_row"]
        every = frozenset(wanted)
        for row in rows:
            if not row.keys() >= every:
                for key in wanted:
                    row.setdefault(key, None)
        files[spec.name] = PackageFile(spec, rows, sha)
    return Package(extract.path, files, sha, extract.synthetic, None, list(extract.notes))


@dataclass
class StoredFacilities:
    """The facilities stored before a file is loaded, as `_place_facilities` matches them."""

    by_code: dict[str, str] = field(default_factory=dict)
    by_place: dict[tuple, str] = field(default_factory=dict)
    placed: dict[str, str | None] = field(default_factory=dict)  # id → jurisdiction

    @classmethod
    def read(cls, conn: Connection) -> "StoredFacilities":
        found = cls()
        for f in conn.execute(select(facilities.c.facility_id, facilities.c.code, facilities.c.name,
                                     facilities.c.city, facilities.c.state, facilities.c.jurisdiction_id)):
            found.placed[f.facility_id] = f.jurisdiction_id
            if f.code:
                found.by_code.setdefault(f.code.upper(), f.facility_id)
            found.by_place.setdefault(_place_key(f.name, f.city, f.state), f.facility_id)
        return found


def _place_facilities(conn: Connection, pkg: Package, mapping: dict[str, str] | None = None,
                      stored: StoredFacilities | None = None) -> None:
    """Match each facility the file names to a stored one (by code, id, or name+city+state).

    A file read in chunks gives `stored` as it was before its first chunk (a facility written by an
    earlier chunk is the file's own, not one to match), and `mapping` ({file's id: stored id}), which
    carries the matches from one chunk to the next.
    """
    mapping = {} if mapping is None else mapping
    rows = pkg.rows("facilities.csv")
    if not rows:
        _map_facilities(pkg, mapping)
        return
    stored = StoredFacilities.read(conn) if stored is None else stored
    by_code, by_place, placed = stored.by_code, stored.by_place, stored.placed
    keep = []
    for row in rows:
        fid = row["facility_id"]
        found = None
        if row.get("code") and row["code"].upper() in by_code:
            found = by_code[row["code"].upper()]
        elif fid in placed:
            found = fid
            given, stored = row.get("jurisdiction_id"), placed.get(fid)
            if given and stored and given != stored:  # a jail file said whose jail it is: it must agree
                raise InputError(f"--facility: {fid!r} is a facility of jurisdiction {stored!r}, not {given!r} "
                                 "(expected a facility of the jurisdiction given with --jurisdiction, or a new "
                                 "facility id)")
        elif row.get("city") and row.get("state"):
            found = by_place.get(_place_key(row["name"], row["city"], row["state"]))
        if found is None:
            keep.append(row)
        else:
            mapping[fid] = found  # the stored facility, with its placement, stays as it is
    pkg.files["facilities.csv"].rows[:] = keep
    if not keep:
        del pkg.files["facilities.csv"]
    _map_facilities(pkg, mapping)


def _map_facilities(pkg: Package, mapping: dict[str, str]) -> None:
    if not mapping:
        return
    for name in ("bookings.csv", "detainers.csv"):
        for row in pkg.rows(name):
            row["facility_id"] = mapping.get(row["facility_id"], row["facility_id"])


def _place_key(name, city, state) -> tuple:
    norm = lambda s: " ".join((s or "").casefold().split())  # noqa: E731
    return norm(name), norm(city), (state or "").upper()


def _apply_snapshot(conn: Connection, pkg: Package, extract: Extract) -> None:
    """A snapshot series: keep the first day a hold was seen; release bookings that disappeared."""
    snapshot = (extract.extra.get("snapshot") or [None])[0]
    if snapshot is None:
        return
    day = snapshot["as_of"].date() if isinstance(snapshot["as_of"], datetime) else snapshot["as_of"]
    _keep_stored_releases(conn, pkg)
    rows = pkg.rows("detainers.csv")
    known = {r.detainer_id: r.lodged_on for r in conn.execute(
        select(detainers.c.detainer_id, detainers.c.lodged_on).where(
            detainers.c.detainer_id.in_([r["detainer_id"] for r in rows])))} if rows else {}
    for row in rows:
        earlier = known.get(row["detainer_id"])
        if earlier is not None and earlier < row["lodged_on"]:
            row["lodged_on"] = earlier
    latest = conn.execute(select(sources.c.as_of).where(
        sources.c.kind == "roster-snapshot", sources.c.family == f"roster-snapshot:{snapshot['facility_id']}")
        .order_by(sources.c.as_of.desc()).limit(1)).scalar()
    if latest is not None and latest.date() > day:
        extract.notes.append(f"This snapshot ({day}) is older than one already loaded ({latest.date()}); "
                             "bookings missing from it were not marked released.")
        return
    present = set(snapshot["booking_ids"])
    prefix = f"roster:{snapshot['facility_id']}:"
    gone = conn.execute(select(bookings).where(
        bookings.c.facility_id == snapshot["facility_id"], bookings.c.released_on.is_(None),
        bookings.c.booking_id.like(prefix + "%"), bookings.c.booked_on <= day)).all()
    released = [b for b in gone if b.booking_id not in present]
    if not released:
        return
    if "bookings.csv" not in pkg.files:
        pkg.files["bookings.csv"] = PackageFile(FILES_BY_NAME["bookings.csv"], [], pkg.sha256)
    for b in released:
        pkg.files["bookings.csv"].rows.append({
            "booking_id": b.booking_id, "person_id": b.person_id, "facility_id": b.facility_id,
            "booked_on": b.booked_on, "released_on": day, "release_reason": None, "source_row": None})
    extract.notes.append(f"{len(released)} bookings no longer on the roster were marked released on {day} "
                         "(release reason unknown).")


def _keep_stored_releases(conn: Connection, pkg: Package) -> None:
    """A snapshot never reopens a booking a later snapshot (or another source) closed."""
    rows = pkg.rows("bookings.csv")
    if not rows:
        return
    ids = [r["booking_id"] for r in rows]
    stored = {}
    for start in range(0, len(ids), 500):
        for b in conn.execute(select(bookings.c.booking_id, bookings.c.released_on, bookings.c.release_reason)
                              .where(bookings.c.booking_id.in_(ids[start:start + 500]),
                                     bookings.c.released_on.is_not(None))):
            stored[b.booking_id] = b
    for row in rows:
        b = stored.get(row["booking_id"])
        if b is not None and row["released_on"] is None:
            row["released_on"], row["release_reason"] = b.released_on, b.release_reason


def _earlier_sources(conn: Connection, family: str) -> list[int]:
    """The sources of earlier releases of this family, oldest first."""
    return [r.source_id for r in conn.execute(
        select(sources.c.source_id).where(sources.c.family == family).order_by(sources.c.source_id))]


def _reconcile(conn: Connection, pkg: Package, family: str, kind: str) -> tuple[int | None, dict[str, list[str]]]:
    """Rows of earlier releases of this family that the new release no longer has (kept, and listed)."""
    earlier = _earlier_sources(conn, family)
    if not earlier or kind == "roster-snapshot":
        return (earlier[-1] if earlier else None), {}
    removed: dict[str, list[str]] = {}
    for spec in RECONCILED:
        table = schema.metadata.tables[spec.table]
        key = table.c[spec.key[0]]
        now = {r[spec.key[0]] for r in pkg.rows(spec.name)}
        gone = sorted(v for (v,) in conn.execute(select(key).where(table.c.source_id.in_(earlier))) if v not in now)
        if gone:
            removed[spec.name] = gone
    return earlier[-1], removed


def _result(conn, kind, path, sha, family, written: ImportResult, extract, previous_id, removed,
            without_booking: int | None = None) -> IngestResult:
    unplaced = [r.facility_id for r in conn.execute(
        select(facilities.c.facility_id).where(facilities.c.jurisdiction_id.is_(None))
        .order_by(facilities.c.facility_id))]
    return IngestResult(
        kind=kind, path=str(path), sha256=sha, source_id=written.source_id, already_ingested=False,
        family=family, files=written.files, removed=removed, previous_source_id=previous_id,
        quality=dict(sorted(extract.quality.items())), notes=list(extract.notes),
        unplaced_facilities=unplaced, records=extract.records,
        without_booking=len(written.without_booking) if without_booking is None else without_booking)
