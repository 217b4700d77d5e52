"""`detainers import DIR`: check everything, then write everything in one transaction.

Rows are matched to what the database holds by their ids: new rows are added,
rows whose values differ are updated (and their provenance moves to the new
source), identical rows are left alone. The same package twice is a no-op.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from operator import itemgetter
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, text

from detainers import audit, interrupted, lift_reasons, outcomes
from detainers.datapackage import checks, parallel, reader, stored
from detainers.datapackage.checks import check_package
from detainers.datapackage.reader import (METADATA_FILE, Package, PackageReading, Unreadable, fingerprints, getter,
                                         package_digest)
from detainers.datapackage.reader import row_hash  # noqa: F401 (where admin edits fingerprint their rows)
from detainers.datapackage.spec import FILES, FILES_BY_NAME, FileSpec
from detainers.store import bulk, schema, summary, version
from detainers.store.schema import bookings, detainers, person_identities, policies, roster_entries, sources


#: Above this many keys, one scan of a table beats looking them up 500 at a time.
_SCAN_ABOVE = 20_000


@dataclass
class FileResult:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass
class ImportResult:
    path: str
    sha256: str
    source_id: int | None
    already_imported: bool
    synthetic: bool
    files: dict[str, FileResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    without_booking: list[str] = field(default_factory=list)
    claim_disagreements: list[dict] = field(default_factory=list)
    detainer_lines_in_charges: int = 0

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "source_id": self.source_id,
            "already_imported": self.already_imported,
            "synthetic": self.synthetic,
            "files": {k: vars(v) for k, v in self.files.items()},
            "warnings": self.warnings,
            "detainers_without_booking": self.without_booking,
            "outcome_claim_disagreements": self.claim_disagreements,
            "detainer_lines_in_charges": self.detainer_lines_in_charges,
        }


def import_package(engine: Engine, path: Path, *, actor: str | None = None,
                   stage: Callable[[str], None] | None = None) -> ImportResult:
    """Import the package at `path`; raises InputError (and changes nothing) if it is bad.

    `stage(text)`, if given, hears each step ("reading", "writing", "checking", "deriving outcomes").

    The files are written as they are read (a large package is read on several cores while the first
    files are written), and the checks that need the whole package run once every file is read, in
    the same transaction, before any detainer is written. Whatever goes wrong — a file that
    cannot be read, a check that fails, a write the database refuses — rolls everything back, and
    the problems are then told exactly as checking before writing would tell them.
    """
    sha = package_digest(path)
    with engine.connect() as conn:
        previous = conn.execute(
            select(sources.c.source_id, sources.c.synthetic).where(sources.c.kind == "package", sources.c.sha256 == sha)
        ).first()
    if previous is not None:
        return ImportResult(str(path), sha, previous.source_id, True, bool(previous.synthetic))
    if stage is not None:
        stage("reading")
    with ExitStack() as scratch:
        scratch.enter_context(parallel.bulk_objects())
        reading = scratch.enter_context(PackageReading(path, staging=lambda: _staging(engine, scratch),
                                                              link=_derive_all))
        try:
            with interrupted.guard(engine, "import", str(path)) as mark, engine.connect() as conn:
                try:
                    with conn.begin():
                        result = _import_reading(conn, reading, sha, stage)
                        audit.record(conn, "import", {"path": str(path), "sha256": sha,
                                                      "source_id": result.source_id}, actor)
                        mark.done(conn)
                finally:
                    bulk.detach_staged(conn)
        except Unreadable:
            reading.package()  # raises the problems of every file
            raise
        except (_Refused, *bulk.DATABASE_ERRORS) as exc:
            # Rolled back: check the whole package against the database as it was, and tell that.
            pkg = reading.package()
            with engine.connect() as conn:
                check_package(conn, pkg).raise_if_any()
            if isinstance(exc, _Refused):
                exc.problems.raise_if_any()
            raise
    return result


def _staging(engine: Engine, scratch: ExitStack) -> tuple[Path | None, frozenset[str], str]:
    """Where work on other cores may stage rows for a first load (`stored`), of which tables (those still
    empty: only an empty table can take a staged file whole), and in which kind of file (a SQLite
    database, or COPY text for PostgreSQL). Removed on leaving `scratch`."""
    kind = {"sqlite": stored.SQLITE, "postgresql": stored.COPY_TEXT}.get(engine.dialect.name)
    if kind is None or parallel.cores() < 2:
        return None, frozenset(), ""
    with engine.connect() as conn:
        empty = frozenset(name for name in stored.STAGEABLE if _empty(conn, schema.metadata.tables[name]))
    if not empty:
        return None, frozenset(), ""
    return Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="detainers-import-"))), empty, kind


def _empty(conn: Connection, table) -> bool:
    return conn.execute(select(table.c[table.primary_key.columns.keys()[0]]).limit(1)).first() is None


class _Refused(Exception):
    """The checks found problems once the package was written (it is then rolled back)."""

    def __init__(self, problems) -> None:
        super().__init__("the package has problems")
        self.problems = problems


#: Bytes of package CSV per row, to judge from the files' sizes whether a load is large.
_BYTES_PER_ROW = 64


def _import_reading(conn: Connection, reading: PackageReading, sha: str,
                    stage: Callable[[str], None] | None) -> ImportResult:
    """Write the package as its files are read, check it, derive from it (inside the caller's transaction)."""
    if reading.failed():
        raise Unreadable(METADATA_FILE)
    # Checked against the database as it was before this package: whether a stored detainer names a booking.
    named = checks.stored_detainers_name_bookings(conn)
    source_id = _insert_source(conn, reading.path, sha, SourceInfo(), {}, reading.synthetic, [],
                               reading.as_of)
    result = ImportResult(str(reading.path), sha, source_id, False, reading.synthetic)
    check = _PackageCheck(conn, reading, named, stage)
    if stage is not None:
        stage("writing")
    try:
        with bulk.large_write(conn, reading.bytes // _BYTES_PER_ROW):
            _write_files(conn, reading, source_id, result, stage, checked=check.start, check_late=check.beside)
    except Exception as exc:
        check.refuse_if_found(exc)
        raise
    pkg = check.done()
    counts = {name: len(f.rows) for name, f in pkg.files.items()}
    conn.execute(sources.update().where(sources.c.source_id == source_id).values(
        rows_read=sum(counts.values()), row_counts=json.dumps(counts, sort_keys=True),
        notes=json.dumps(pkg.warnings)))
    result.warnings = list(pkg.warnings)
    return result


class _PackageCheck:
    """The checks that need the whole package, for one import: started once every file is read, before
    any detainer is written.

    A large load checks in a thread with a connection of its own, while this one goes on writing
    (SQLite writes, and PostgreSQL's server works, with the interpreter lock released). That connection
    sees the database as it was before the load, as the checks expect: the load's writes are not
    committed, and no other writer can commit meanwhile. Anything that fails while the check runs is
    told as the check's problems, if it found any. Elsewhere (a SQLite database in memory or not in
    WAL mode, or a small load) it checks here, in the load's transaction; the answer is the same,
    given `stored_links` as it was before the load.

    On PostgreSQL the load holds the tables whose indexes it dropped until it ends, so the thread's
    queries are made one at a time (autocommit: it holds no table while it waits for another) and wait
    at most `LOCKED_OUT` for a table; if one is held, the checks are made again here once the writes
    are done.
    """

    #: How long the checking thread waits for a table the load holds (PostgreSQL lock_timeout).
    LOCKED_OUT = "1s"

    def __init__(self, conn: Connection, reading: PackageReading, stored_links: bool,
                 stage: Callable[[str], None] | None) -> None:
        self.conn, self.reading, self.stored_links, self.stage = conn, reading, stored_links, stage
        self.pkg: Package | None = None
        self.thread: threading.Thread | None = None
        self.outcome: tuple[bool, object] | None = None  # (ok, problems or the error)
        #: Whether the checks run in a thread beside the writes (else here, before them).
        self.beside = reading.bytes >= reader.PARALLEL_FROM and _separate_readers(conn)

    def start(self) -> None:
        self.pkg = self.reading.package()
        if self.stage is not None:
            self.stage("checking")
        if self.beside:
            self.thread = threading.Thread(target=self._run, args=(self.conn.engine,), name="package check",
                                           daemon=True)
            self.thread.start()
        else:
            self._here()

    def _here(self) -> None:
        self._refuse(check_package(self.conn, self.pkg, stored_links=self.stored_links))

    def _run(self, engine: Engine) -> None:
        try:
            with engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                    conn.exec_driver_sql(f"SET lock_timeout = '{self.LOCKED_OUT}'")
                try:
                    self.outcome = (True, check_package(conn, self.pkg, stored_links=self.stored_links))
                finally:
                    if conn.dialect.name == "postgresql" and not conn.invalidated:
                        conn.exec_driver_sql("RESET lock_timeout")
        except BaseException as exc:  # raised in the loading thread by `done`
            self.outcome = (False, exc)

    def _refuse(self, problems) -> None:
        if problems:
            raise _Refused(problems)

    def _joined(self) -> tuple[bool, object] | None:
        """The thread's outcome once it has ended (None: the checks ran here, or were already taken)."""
        if self.thread is None:
            return None
        self.thread.join()
        self.thread = None
        return self.outcome

    def done(self) -> Package:
        """The checked package, once the checks pass; raises _Refused with their problems."""
        if (outcome := self._joined()) is not None:
            ok, answer = outcome
            if not ok and _locked_out(answer):
                self._here()  # a table the load holds: checked in its transaction instead
            elif not ok:
                raise answer
            else:
                self._refuse(answer)
        return self.pkg

    def refuse_if_found(self, failure: BaseException) -> None:
        """After `failure` while the checks ran: their problems instead, if they found any. (If the
        checking thread was locked out, the import checks again once the load is rolled back.)"""
        if (outcome := self._joined()) is not None and outcome[0] and outcome[1]:
            raise _Refused(outcome[1]) from failure


def _locked_out(exc: BaseException) -> bool:
    """Whether `exc` is PostgreSQL's refusal to wait longer for a lock (lock_timeout)."""
    return isinstance(getattr(exc, "orig", exc), psycopg.errors.LockNotAvailable)


def _separate_readers(conn: Connection) -> bool:
    """Whether another connection can read the database while `conn` writes: PostgreSQL, or a SQLite
    file in WAL mode."""
    if conn.dialect.name == "postgresql":
        return True
    if conn.dialect.name != "sqlite" or conn.engine.url.database in (None, "", ":memory:"):
        return False
    return conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@dataclass(frozen=True)
class SourceInfo:
    """How the sources row describes what is being written (a package, or one ingested file)."""

    kind: str = "package"
    family: str | None = None
    sheet: str | None = None
    quality: dict | None = None
    as_of: datetime | None = None
    rows_read: int | None = None


def write_package(conn: Connection, pkg: Package, info: SourceInfo = SourceInfo(), *,
                  stage: Callable[[str], None] | None = None) -> ImportResult:
    """Write a checked package (or an ingested file shaped as one) inside the caller's transaction."""
    counts = {name: len(f.rows) for name, f in pkg.files.items()}
    source_id = _insert_source(conn, pkg.path, pkg.sha256, info, counts, pkg.synthetic, pkg.warnings,
                               getattr(pkg, "as_of", None))
    result = ImportResult(str(pkg.path), pkg.sha256, source_id, False, pkg.synthetic, warnings=list(pkg.warnings))
    with bulk.large_write(conn, sum(counts.values())):
        _write_files(conn, pkg, source_id, result, stage)
    return result


def _insert_source(conn: Connection, path: Path, sha256: str, info: SourceInfo, counts: dict, synthetic: bool,
                   notes: list[str], package_as_of=None) -> int:
    as_of = info.as_of if info.as_of is not None else (
        datetime.combine(package_as_of, time()) if package_as_of is not None else None)
    return conn.execute(insert(sources).values(
        kind=info.kind, name=path.name or str(path), sha256=sha256,
        loaded_at=datetime.now(timezone.utc),
        rows_read=info.rows_read if info.rows_read is not None else sum(counts.values()),
        row_counts=json.dumps(counts, sort_keys=True), synthetic=synthetic,
        notes=json.dumps(notes), family=info.family, sheet=info.sheet,
        quality=json.dumps(info.quality or {}, sort_keys=True), as_of=as_of,
    ).returning(sources.c.source_id)).scalar_one()


@dataclass
class _Touched:
    """What a write changed that the steps after it need to know."""

    rebooked: set[str] = field(default_factory=set)  # people whose bookings were added or changed
    detainers: set[str] = field(default_factory=set)  # detainers added or changed
    places: bool = False  # jurisdictions or policies were given
    #: of the detainers written with their derived values in hand: how many match no booking, and those
    #: whose claimed outcome differs (as `_link_counts` would read them back)
    linked: set[str] = field(default_factory=set)
    without_booking: int = 0
    claim_disagreements: list[dict] = field(default_factory=list)


def _write_files(conn: Connection, pkg: Package | PackageReading, source_id: int, result: ImportResult,
                 stage: Callable[[str], None] | None, checked: Callable[[], None] | None = None,
                 check_late: bool = False) -> None:
    """Write the rows of every file, then derive what they change. `checked()`, `check_late`: as for
    `_write_rows`."""
    # Into a database with no bookings, the bookings stored once written are exactly the package's.
    no_bookings = conn.execute(select(bookings.c.booking_id).limit(1)).first() is None
    touched = _write_rows(conn, pkg, source_id, result, no_bookings, checked=checked, check_late=check_late)
    if stage is not None:
        stage("deriving outcomes")
    # Detainers already stored whose people have new or changed bookings may link or end differently now
    # (none can, when every stored detainer was just written, as in a first import).
    stored = conn.execute(select(func.count()).select_from(detainers)).scalar_one()
    if touched.rebooked and stored > len(touched.detainers):
        outcomes.recompute(conn, touched.rebooked, skip=touched.detainers)
    _after_writes(conn, result, bool(touched.detainers or touched.rebooked), touched.places,
                  {r["person_id"] for r in pkg.rows("detainers.csv")})
    _report_links(conn, {r["detainer_id"] for r in pkg.rows("detainers.csv")}, result, _SCAN_ABOVE)


def _write_rows(conn: Connection, pkg: Package | PackageReading, source_id: int, result: ImportResult,
                only_bookings: bool, new_tables: frozenset[str] = frozenset(),
                scan_above: int | None = _SCAN_ABOVE, checked: Callable[[], None] | None = None,
                check_late: bool = False, count_links: bool = False) -> _Touched:
    """Upsert each file of `pkg` in dependency order, deriving detainers' outcomes as they are written.

    `only_bookings`: the bookings of `pkg` are every booking stored once these are written (a database
    that had none). Tables in `new_tables` hold no row that shares a key with these (skip looking for one).
    `checked()`, if given, is called before any detainer is written (or at the end, without detainers);
    it may raise to stop the load. `check_late`: it starts checks that run beside the writes, so it is
    called once the detainers' values worked out on another core are in (the checks then share the
    cores with the writes rather than with that work, which the writes wait for). `count_links`: count
    the links of the detainers written into the result (`_Touched.linked`).
    """
    touched = _Touched()
    elsewhere = None  # the detainers' derived values, worked out on another core
    ahead = ""  # a file written before its turn: charges.csv, while the detainers are still being linked
    foreign_later: list = []  # PostgreSQL: foreign keys of a table written ahead, added once the detainers are in

    def write(spec: FileSpec, rows: list[dict], staged, deriver) -> None:
        if spec.name == "policies.csv":
            _clear_derived_policies(conn, {r["jurisdiction_id"] for r in rows})
        table = schema.metadata.tables[spec.table]
        if staged is not None and _empty(conn, table):
            written = _insert_staged(conn, table, rows, staged, source_id,
                                     foreign_later if spec.name == ahead else None)
        else:
            if staged is not None:  # the table was written to since the load began: merge row by row
                rows = pkg.whole(spec.name)[0]
            staged = None
            if spec.name == "detainers.csv" and deriver is None:
                deriver = _detainer_deriver(conn, rows, pkg.whole("bookings.csv")[0] if only_bookings else None,
                                            scan_above)
            written = _upsert(conn, spec, rows, source_id, deriver, new=spec.table in new_tables,
                              scan_above=scan_above, hashes=pkg.hashes(spec.name))
        _add_counts(result.files.setdefault(spec.name, FileResult()), written.result)
        if spec.name in ("jurisdictions.csv", "policies.csv"):
            touched.places = True
        if spec.name == "bookings.csv":
            touched.rebooked.update(r["person_id"] for r in written.rows)
        if spec.name == "detainers.csv":
            touched.detainers.update(r["detainer_id"] for r in written.rows)
            if count_links:
                _count_links(written, touched)
        if spec.name == "people.csv" and staged is not None:
            with bulk.deferred_indexes(conn, person_identities, staged.identities):
                bulk.insert_staged(conn, person_identities, staged.path, stored.IDENTITIES,
                                   {"source_id": source_id})
        elif spec.name == "people.csv":
            _write_identities(conn, written.rows, written.result.added, source_id)
        if spec.name == "charges.csv":
            result.detainer_lines_in_charges += written.detainer_lines
        written.values = None  # let go of the stored tuples before the next file is written

    try:
        for spec in FILES:
            if spec.name == ahead:
                continue
            if spec.name == "detainers.csv" and check_late and _charges_ahead(conn, pkg, only_bookings):
                # The charges are in while the detainers they name are still being linked: written now, their
                # references to the detainers are checked once the detainers are written.
                ahead = "charges.csv"
                bulk.foreign_keys_at_commit(conn)
                write(FILES_BY_NAME[ahead], pkg.rows(ahead), pkg.staged(ahead), None)
            rows = pkg.rows(spec.name)
            # Linking detainers to the package's bookings needs nothing but the two files: it is done on another
            # core while the bookings are written (if the detainers are read by then) or while the package is
            # checked.
            # (Unless the process reading the two files links them: `PackageReading.links`.)
            if elsewhere is None and spec.name in ("bookings.csv", "detainers.csv") and not pkg.links() and (
                    _derive_elsewhere(pkg, only_bookings)):
                stage_to = (pkg.stage_path("detainers") if len(pkg.rows("detainers.csv")) >= stored.STAGE_FROM
                            else None)
                elsewhere = parallel.in_child(_derive_all, pkg.rows("detainers.csv"), pkg.whole("bookings.csv")[0],
                                              pkg.hashes("detainers.csv"), stage_to)
            if spec.name == "detainers.csv" and checked is not None and not (check_late and elsewhere):
                checked()  # before anything is derived from the package
                checked = None
            if not rows:
                continue
            deriver = None
            staged = pkg.staged(spec.name)
            if spec.name == "detainers.csv" and pkg.links():
                if not only_bookings:  # bookings were stored since the files were linked: derived again here
                    staged, rows = None, pkg.whole(spec.name)[0]
                elif (derived := pkg.derived(spec.name)) is not None:
                    deriver = _derived_by_id(rows, derived)
            if spec.name == "detainers.csv" and elsewhere is not None:
                try:
                    derived = elsewhere.result()
                finally:
                    if checked is not None:  # check_late; also when the work failed, to tell the problems
                        checked()
                        checked = None
                if isinstance(derived, stored.Staged):
                    staged = derived
                else:
                    deriver = _derived_by_id(rows, derived)
            write(spec, rows, staged, deriver)
            if spec.name == "detainers.csv":
                while foreign_later:
                    bulk.add_foreign_keys(conn, *foreign_later.pop())
        while foreign_later:  # (a package without detainers)
            bulk.add_foreign_keys(conn, *foreign_later.pop())
        if checked is not None:
            checked()
    finally:
        if elsewhere is not None:
            elsewhere.stop()  # if it is still working: the load stopped
    # In file order, whichever was written first.
    result.files = {spec.name: result.files[spec.name] for spec in FILES if spec.name in result.files}
    return touched


def _charges_ahead(conn: Connection, pkg: Package | PackageReading, only_bookings: bool) -> bool:
    """Whether to write the charges before the detainers: a first load whose charges are read and staged
    while its detainers are still being linked where they are read (the import would otherwise wait
    for them doing nothing), into tables that are both empty."""
    if not (isinstance(pkg, PackageReading) and pkg.links() and only_bookings
            and pkg.first_ready(("detainers.csv", "charges.csv")) == "charges.csv"):
        return False
    staged = pkg.staged("charges.csv")
    return (staged is not None and staged.rows >= bulk.DEFER_INDEXES_FROM
            and _empty(conn, schema.metadata.tables["charges"]) and _empty(conn, detainers))


def _add_counts(total: FileResult, more: FileResult) -> None:
    total.added += more.added
    total.changed += more.changed
    total.unchanged += more.unchanged


def _after_writes(conn: Connection, result: ImportResult, recount: bool, places: bool,
                  person_ids: set[str] | None) -> None:
    """Stored counts (when detainers or bookings changed), planner statistics, the records version,
    duplicate flags (of `person_ids`; None: anyone's) and, when places changed, derived policies."""
    grown = [schema.metadata.tables[spec.table] for spec in FILES
             if spec.name in result.files and result.files[spec.name].added >= bulk.DEFER_INDEXES_FROM]
    if grown:  # first: the counts below are planned with them
        bulk.analyze(conn, grown)
    if recount:
        summary.refresh(conn)
    version.bump(conn)
    _flag_duplicates(conn, person_ids)
    if places:
        _rederive_roster_policies(conn)


class ChunkedWriter:
    """Writes one large source chunk by chunk, inside the caller's transaction, into one sources row.

    Memory then follows the chunk, not the file. Each chunk is checked by the caller before `write`;
    rows of earlier chunks are already stored (in the same transaction), so a chunk's references to
    them resolve like references to any stored row. What needs the whole file — outcomes that depend
    on bookings of later chunks, the stored counts, statistics, duplicate flags, the source's own
    counts and notes — is done once, in `finish`.

    The reader must give each key once per file (a person's row with their first detainer, each id
    once): rows of a table that was empty at the start are then inserted without looking for stored
    ones. The secondary indexes of the tables a large release fills (`BULK`), when they were empty or
    small at the start, are dropped for the whole load and built once at the end, as a whole-file
    write does; other tables are left alone (on PostgreSQL dropping an index locks out its readers).
    """

    BULK = ("people", "person_identities", "detainers", "charges")

    #: SQLite page cache while writing, in KiB: fixed, whatever the file's size. Measured at 1M rows of
    #: an ICE release, 16 MiB writes as fast as 256 MiB (46–49 s either way), in 300 MB less memory.
    CACHE_KIB = 16 * 1024

    def __init__(self, conn: Connection, path: Path, sha256: str, info: SourceInfo, expected_rows: int) -> None:
        self.conn, self.sha256 = conn, sha256
        self.source_id = _insert_source(conn, path, sha256, info, {}, False, [])
        self.result = ImportResult(str(path), sha256, self.source_id, False, False)
        self.rebooked: set[str] = set()
        self.recount = self.places = False
        self.without_booking = 0
        self.counts: dict[str, int] = {}
        tables = [schema.metadata.tables[spec.table] for spec in FILES]
        self.new_tables = frozenset(t.name for t in tables
                                    if conn.execute(select(*t.primary_key.columns).limit(1)).first() is None)
        self.no_bookings = "bookings" in self.new_tables
        self._open = ExitStack()
        self._open.enter_context(bulk.large_write(conn, expected_rows, cache_kib=self.CACHE_KIB))
        for name in self.BULK:
            self._open.enter_context(bulk.deferred_indexes(conn, schema.metadata.tables[name], expected_rows))

    def write(self, pkg: Package) -> None:
        """Write one checked chunk (the rows of `pkg`)."""
        for name, f in pkg.files.items():
            self.counts[name] = self.counts.get(name, 0) + len(f.rows)
        # Until a chunk brings bookings into a database that had none, that chunk's bookings are all there
        # are (none, for an ICE release); after, they are read back (those of earlier chunks are stored).
        only_bookings = self.no_bookings
        if pkg.rows("bookings.csv"):
            self.no_bookings = False
        touched = _write_rows(self.conn, pkg, self.source_id, self.result, only_bookings, self.new_tables,
                              scan_above=None, count_links=True)
        self.rebooked |= touched.rebooked
        self.recount = self.recount or bool(touched.detainers or touched.rebooked)
        self.places = self.places or touched.places
        # Counted as written where their derived values were in hand; read back for the others (unchanged ones).
        rest = [r["detainer_id"] for r in pkg.rows("detainers.csv") if r["detainer_id"] not in touched.linked]
        without, disagreements = _link_counts(self.conn, rest)
        self.without_booking += touched.without_booking + without
        self.result.claim_disagreements += touched.claim_disagreements + disagreements

    def finish(self, *, synthetic: bool, notes: list[str], quality: dict, rows_read: int,
               stage: Callable[[str], None] | None = None) -> ImportResult:
        """Build the indexes, derive what needs every chunk, and complete the sources row."""
        conn = self.conn
        self._open.close()
        if stage is not None:
            stage("deriving outcomes")
        # A booking of a later chunk may be the one a detainer of an earlier chunk belongs to.
        if self.rebooked:
            outcomes.recompute(conn, self.rebooked)
        _after_writes(conn, self.result, self.recount, self.places, None)
        conn.execute(sources.update().where(sources.c.source_id == self.source_id).values(
            rows_read=rows_read, row_counts=json.dumps(self.counts, sort_keys=True), synthetic=synthetic,
            notes=json.dumps(notes), quality=json.dumps(quality, sort_keys=True)))
        self.result.synthetic = synthetic
        self.result.warnings = list(notes)
        self.result.claim_disagreements.sort(key=lambda d: d["detainer_id"])
        return self.result


def _clear_derived_policies(conn: Connection, jurisdiction_ids: set[str]) -> None:
    """Policies derived from 287(g) lists never stand against a policy a user gives."""
    ordered = sorted(jurisdiction_ids)
    for start in range(0, len(ordered), 500):
        conn.execute(delete(policies).where(policies.c.origin == "287g-roster",
                                            policies.c.jurisdiction_id.in_(ordered[start:start + 500])))


def _rederive_roster_policies(conn: Connection) -> None:
    """New jurisdictions or policies change which agreements can be placed and where they may apply."""
    if conn.execute(select(roster_entries.c.entry_id).limit(1)).first() is None:
        return
    from detainers.ingest.roster_load import rebuild

    rebuild(conn)


def _flag_duplicates(conn: Connection, person_ids: set[str] | None) -> None:
    """Mark likely duplicates (same person, facility and day): flagged, never dropped.

    Only the detainers of `person_ids` can change (None: anyone's, for a load too large to list them).
    """
    if person_ids is not None and not person_ids:
        return
    # Only people with a repeated (facility, day), or with a flag that may no longer hold, need a look.
    # SQLite would walk the person index and fetch each row in its order; reading the table in its own
    # order and sorting takes a third less (3.1 s to 2.0 s over 1M detainers), as for the stored counts.
    table = "detainers NOT INDEXED" if conn.dialect.name == "sqlite" else "detainers"
    repeated = {person_id for (person_id,) in conn.execute(text(
        f"SELECT person_id FROM {table} GROUP BY person_id, facility_id, lodged_on HAVING COUNT(*) > 1"))}
    flagged = {r.person_id for r in conn.execute(
        select(detainers.c.person_id).where(detainers.c.duplicate_of.is_not(None)))}
    person_ids = (repeated | flagged) if person_ids is None else (repeated | flagged) & set(person_ids)
    if not person_ids:
        return
    rows = sorted(
        (r for batch in _people_detainers(conn, person_ids) for r in batch),
        key=lambda r: (r.person_id, r.facility_id, r.lodged_on, r.detainer_id))
    first: dict[tuple, str] = {}
    writes = []
    for r in rows:
        key = (r.person_id, r.facility_id, r.lodged_on)
        original = first.setdefault(key, r.detainer_id)
        flag = None if original == r.detainer_id else original
        if flag != r.duplicate_of:
            writes.append((r.detainer_id, flag))
    bulk.update_rows(conn, detainers, ("detainer_id",), ("duplicate_of",), writes)


def _people_detainers(conn: Connection, person_ids: set[str]):
    cols = (detainers.c.detainer_id, detainers.c.person_id, detainers.c.facility_id, detainers.c.lodged_on,
            detainers.c.duplicate_of)
    if len(person_ids) > _SCAN_ABOVE:
        yield [r for r in conn.execute(bulk.streamed(select(*cols))) if r.person_id in person_ids]
        return
    ordered = sorted(person_ids)
    for start in range(0, len(ordered), 500):
        yield conn.execute(select(*cols).where(detainers.c.person_id.in_(ordered[start:start + 500]))).all()


def _detainer_deriver(conn: Connection, rows: list[dict], written_bookings: list[dict] | None,
                      scan_above: int | None = _SCAN_ABOVE):
    """Derive each detainer's outcome before it is written (bookings are already stored by now).

    `written_bookings`, when given, are all the bookings stored (the package's, into a database that had
    none): they are indexed as they are instead of being read back. `scan_above`: as for `_upsert`.
    """
    people = {r["person_id"] for r in rows}
    index = (outcomes.BookingIndex.load(conn, people, scan_above) if written_bookings is None
             else outcomes.BookingIndex.of_records(written_bookings, people))
    table = lift_reasons.active_table()

    def derive(row: dict) -> tuple:  # in outcomes.DERIVED order
        return outcomes.derived_fields(index, row["person_id"], row["facility_id"], row["lodged_on"],
                                       row["booking_id"], row["lifted_on"], row["lift_reason"], table)

    return derive


#: From this many detainers, a first load derives their outcomes on another core (`parallel.in_child`).
DERIVE_ELSEWHERE_FROM = 50_000


def _derive_elsewhere(pkg: Package | PackageReading, only_bookings: bool) -> bool:
    """Whether to derive the detainers' values on another core: a large first load, with a core to spare,
    whose detainers are read by now."""
    return (only_bookings and parallel.cores() > 1 and pkg.ready("detainers.csv")
            and len(pkg.rows("detainers.csv")) >= DERIVE_ELSEWHERE_FROM)


def _derive_all(rows: list[dict], all_bookings: list[dict], hashes: list[str] | None = None,
                stage_to: Path | None = None) -> list[tuple] | stored.Staged:
    """The derived values of each detainer of `rows`, when `all_bookings` are every booking stored; or,
    given `stage_to`, the detainers staged there with them (and with their fingerprints `hashes`)."""
    derive = _detainer_deriver(None, rows, all_bookings)  # reads nothing from the database
    if stage_to is not None:
        return stored.stage(stage_to, FILES_BY_NAME["detainers.csv"], rows, hashes, derive)
    return [derive(row) for row in rows]


def _derived_by_id(rows: list[dict], derived: list[tuple]):
    """A deriver giving the values `_derive_all` made for `rows`."""
    by_id = {row["detainer_id"]: values for row, values in zip(rows, derived)}
    return lambda row: by_id[row["detainer_id"]]


def _insert_staged(conn: Connection, table, rows: list[dict], staged: stored.Staged, source_id: int,
                   foreign_later: list | None = None) -> "_Written":
    """Write a file's rows, all new, from their staged copy (`stored.stage`). `foreign_later`: as for
    `bulk.deferred_indexes`."""
    if staged.rows != len(rows):
        raise RuntimeError(f"{staged.path} holds {staged.rows} rows, not {len(rows)}")
    with bulk.deferred_indexes(conn, table, staged.rows, foreign_later):
        bulk.insert_staged(conn, table, staged.path, stored.ROWS, {"source_id": source_id})
    return _Written(FileResult(added=staged.rows), rows, staged.detainer_lines)


@dataclass
class _Written:
    result: FileResult
    rows: list[dict]  # the given rows that were added, then those that changed
    detainer_lines: int = 0  # charges.csv: how many of them are detainer lines
    #: the stored tuples of `rows` (in `columns` order), when they were written from tuples made here
    columns: list[str] | None = None
    values: list[tuple] | None = None


def _count_links(written: _Written, touched: _Touched) -> None:
    """Count the links of detainers just written from their stored tuples (`_link_counts` would read the
    same values back): those matching no booking, and those whose claimed outcome differs."""
    if written.values is None or "booking_link" not in written.columns:
        return
    at = written.columns.index
    key, link, claimed, derived = at("detainer_id"), at("booking_link"), at("outcome_claimed"), at("outcome")
    for values in written.values:
        touched.linked.add(values[key])
        if values[link] == "none":
            touched.without_booking += 1
        if values[claimed] is not None and values[claimed] != values[derived]:
            touched.claim_disagreements.append(
                {"detainer_id": values[key], "claimed": values[claimed], "derived": values[derived]})


def _upsert(conn: Connection, spec: FileSpec, rows: list[dict], source_id: int, deriver=None, *,
            new: bool = False, scan_above: int | None = None, hashes: list[str] | None = None) -> _Written:
    """Add new rows and update changed ones. `new`: no stored row can share a key with `rows`;
    `scan_above`: how many keys make one scan of the table cheaper than looking them up (None: never);
    `hashes`: the rows' fingerprints, if the reader made them."""
    table = schema.metadata.tables[spec.table]
    derived, derive = stored.derivation(spec.table, deriver)
    # What is stored: the given values (less identities, and less what is derived), where they came from,
    # then the derived values. Rows go to the database as tuples: a national load has millions.
    given = stored.given_columns(spec, derived)
    columns = [*given, "source_id", "source_row", "row_hash", *derived]
    key = [c.stored_as for c in spec.columns if c.name in spec.key]
    existing = {} if new else _existing_hashes(conn, table, key, rows, scan_above)
    if hashes is None:
        hashes = fingerprints(spec, rows)
    result = FileResult()
    added, changed = [], []  # the given rows
    inserts, updates = [], []  # the stored tuples
    given_of = getter(given)
    key_of = getter(key)
    for row, fingerprint in zip(rows, hashes):
        old = existing.get(key_of(row)) if existing else None
        if old == fingerprint:
            result.unchanged += 1
            continue
        if derive is None:
            values = (*given_of(row), source_id, row["source_row"], fingerprint)
        else:
            values = (*given_of(row), source_id, row["source_row"], fingerprint, *derive(row))
        if old is None:
            inserts.append(values)
            added.append(row)
        else:
            updates.append(values)
            changed.append(row)
    result.added, result.changed = len(inserts), len(updates)
    detainer_lines = 0
    if "is_detainer_line" in columns:
        line = columns.index("is_detainer_line")
        detainer_lines = sum(1 for values in (*inserts, *updates) if values[line])
    if inserts:
        with bulk.deferred_indexes(conn, table, len(inserts)):
            bulk.insert_rows(conn, table, columns, inserts)
    if updates:
        others = [c for c in columns if c not in key]
        ordered = itemgetter(*(columns.index(c) for c in [*key, *others]))
        bulk.update_rows(conn, table, key, others, map(ordered, updates))
    return _Written(result, added + changed, detainer_lines, columns, inserts + updates)


def _existing_hashes(conn: Connection, table, key: list[str], rows: list[dict],
                     scan_above: int | None) -> dict[tuple, str]:
    """{key: row_hash} of the stored rows that share a key with `rows`."""
    if conn.execute(select(table.c[key[0]]).limit(1)).first() is None:
        return {}  # an empty table (a first load)
    first = key[0]
    values = sorted({r[first] for r in rows})
    columns = [*(table.c[k] for k in key), table.c.row_hash]
    found: dict[tuple, str] = {}
    if scan_above is not None and len(values) > scan_above:  # one scan beats thousands of IN (…) queries
        wanted = set(values)
        for r in conn.execute(bulk.streamed(select(*columns))):
            if r[0] in wanted:
                found[tuple(r[:-1])] = r[-1]
        return found
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        for r in conn.execute(select(*columns).where(table.c[first].in_(chunk))):
            found[tuple(r[:-1])] = r[-1]
    return found



def _write_identities(conn: Connection, rows: list[dict], added: int, source_id: int) -> None:
    """Identity fields go to the restricted table, and only when given.

    `rows` are the people written, the first `added` of them new: only the others can have stored
    identities to replace.
    """
    ids = [r["person_id"] for r in rows[added:]]
    for start in range(0, len(ids), 500):
        conn.execute(delete(person_identities).where(person_identities.c.person_id.in_(ids[start:start + 500])))
    given = [(r["person_id"], r["name"], r["date_of_birth"], source_id, r["source_row"])
             for r in rows if r["name"] is not None or r["date_of_birth"] is not None]
    with bulk.deferred_indexes(conn, person_identities, len(given)):
        bulk.insert_rows(conn, person_identities, ("person_id", "name", "date_of_birth", "source_id", "source_row"),
                         given)


def _link_counts(conn: Connection, ids: list[str]) -> tuple[int, list[dict]]:
    """How many of the detainers of `ids` match no booking, and those whose claimed outcome differs: what
    `_report_links` lists, for a load too large to list them (a chunk of an ICE release, whose detainers
    all match none, would otherwise send every row back)."""
    without, disagreements = 0, []
    claimed = detainers.c.outcome_claimed
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        within = detainers.c.detainer_id.in_(ordered[start:start + 500])
        without += conn.execute(select(func.count()).where(within, detainers.c.booking_link == "none")).scalar_one()
        disagreements += [{"detainer_id": r.detainer_id, "claimed": r.outcome_claimed, "derived": r.outcome}
                          for r in conn.execute(select(detainers.c.detainer_id, claimed, detainers.c.outcome).where(
                              within, claimed.is_not(None), claimed.is_distinct_from(detainers.c.outcome)))]
    return without, disagreements


def _report_links(conn: Connection, ids: set[str], result: ImportResult, scan_above: int | None = None) -> None:
    """List the detainers of `ids` that match no booking, or whose claimed outcome differs (`scan_above`:
    as for `_upsert`)."""
    if not ids:
        return
    flagged = or_(detainers.c.booking_link == "none", detainers.c.outcome_claimed.is_not(None))
    cols = (detainers.c.detainer_id, detainers.c.booking_link, detainers.c.outcome, detainers.c.outcome_claimed)
    if scan_above is not None and len(ids) > scan_above:
        found = (r for r in conn.execute(bulk.streamed(select(*cols).where(flagged))) if r.detainer_id in ids)
    else:
        ordered = sorted(ids)
        found = (r for start in range(0, len(ordered), 500) for r in conn.execute(
            select(*cols).where(flagged, detainers.c.detainer_id.in_(ordered[start:start + 500]))))
    for r in found:
        if r.booking_link == "none":
            result.without_booking.append(r.detainer_id)
        if r.outcome_claimed is not None and r.outcome_claimed != r.outcome:
            result.claim_disagreements.append(
                {"detainer_id": r.detainer_id, "claimed": r.outcome_claimed, "derived": r.outcome})
    result.without_booking.sort()
    result.claim_disagreements.sort(key=lambda d: d["detainer_id"])
