"""Read a data-package folder into typed rows, or say exactly what is wrong with it.

Reading touches no database. Row numbers are as a spreadsheet shows them: the
header is row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import tomllib
from collections.abc import Callable, Iterator
from concurrent import futures
from datetime import date, datetime
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from detainers.datapackage import parallel
from detainers.datapackage.spec import FILES, FILES_BY_NAME, CellError, FileSpec, read_id, read_text
from detainers.errors import InputError, Problem

#: Stop collecting after this many problems: the user fixes the first ones first.
MAX_PROBLEMS = 50
METADATA_FILE = "package.toml"
_NEUTRALIZED = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class PackageFile:
    spec: FileSpec
    rows: list[dict]
    sha256: str
    #: Each row's fingerprint (`row_hash` of its values), when the reader made them.
    hashes: list[str] | None = None


@dataclass
class Package:
    path: Path
    files: dict[str, PackageFile]
    sha256: str
    synthetic: bool = False
    title: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: True when every cell went through its column's reader (ids, codes and states are then within bounds).
    read_by_spec: bool = False
    #: The day the package describes (package.toml `as_of`), if it says.
    as_of: date | None = None

    def rows(self, name: str) -> list[dict]:
        """The rows of one file (empty when the package does not have it)."""
        f = self.files.get(name)
        return f.rows if f else []

    def hashes(self, name: str) -> list[str] | None:
        """The fingerprints of `rows(name)`, one per row, if the reader made them."""
        f = self.files.get(name)
        return f.hashes if f else None

    def ready(self, name: str) -> bool:
        """Whether `rows(name)` can be had without waiting (always, once read)."""
        return True

    def staged(self, name: str) -> None:
        """A package read whole has no staged copies (`PackageReading.staged`)."""
        return None

    def links(self) -> bool:
        """A package read whole links no detainers while it is read (`PackageReading.links`)."""
        return False

    def derived(self, name: str) -> None:
        """A package read whole has no derived values (`PackageReading.derived`)."""
        return None

    def whole(self, name: str) -> tuple[list[dict], list[str] | None]:
        """The rows of one file with every column, and their fingerprints (`PackageReading.whole`)."""
        return self.rows(name), self.hashes(name)

    def stage_path(self, table: str) -> None:
        """A package read whole stages nothing (`PackageReading.stage_path`)."""
        return None


def row_hash(values: tuple) -> str:
    """A short fingerprint of the values a source gave for one row."""
    return hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()


def getter(names: list[str]):
    """A function giving a row's values for `names` as a tuple (also for a single name)."""
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return itemgetter(*names)


def fingerprints(spec: FileSpec, rows: list[dict]) -> list[str]:
    """`row_hash` of each row's values for the columns of `spec`: what tells a changed row on import."""
    values_of = getter([c.stored_as for c in spec.columns])
    return [row_hash(values_of(row)) for row in rows]


class ProblemList:
    """Collects problems up to a cap and counts the rest."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.more = 0

    def add(self, problem: Problem) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(problem)
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items, more=self.more)


def package_digest(path: Path) -> str:
    """The package's SHA-256 (over its file names and contents), without parsing anything."""
    present = _package_files(Path(path))
    digest = hashlib.sha256()
    for name in [*(s.name for s in FILES), METADATA_FILE]:
        if name in present:
            digest.update(name.encode() + b"\0" + _file_sha256(present[name]).digest())
    return digest.hexdigest()


def _file_sha256(path: Path):
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h


def _package_files(path: Path) -> dict[str, Path]:
    if not path.exists():
        raise InputError(Problem(str(path), None, None, None, "does not exist (expected a folder of CSV files)"))
    if not path.is_dir():
        raise InputError(Problem(str(path), None, None, None, "is not a folder (expected a folder of CSV files)"))
    present = {p.name: p for p in path.iterdir() if p.is_file()}
    if not any(spec.name in present for spec in FILES):
        expected = ", ".join(s.name for s in FILES)
        raise InputError(Problem(str(path), None, None, None, f"has no package files (expected some of: {expected})"))
    return present


def read_package(path: Path) -> Package:
    """Read and check every file of the package at `path`; raise InputError on any problem."""
    with PackageReading(path) as reading:
        return reading.package()


#: From this many bytes of CSV, the files are read in parallel, one process per file (up to one per core).
PARALLEL_FROM = 32 * 1024 * 1024


class Unreadable(Exception):
    """A file of the package being read has problems (`PackageReading.package()` lists them all)."""


class PackageReading:
    """A package being read, whose files can be taken one by one as each is read.

    The files are read in load order (`FILES`): a large package on several cores at once, in worker
    processes, so that an import can write the first files while the later ones are still being read;
    a small one here, each file when it is first asked for. `rows(name)` waits for one file;
    `package()` waits for all of them and gives the Package `read_package` gives, or raises its
    problems. Reading is pure Python and the files are independent. Worker processes are forked (they
    need nothing but the file); where forking is not available, the files are read here, with the same
    result. Use it as a context manager: leaving stops the workers.

    `staging()`, if given, is asked (only when the files are read in worker processes) where the workers
    may stage rows, of which tables and in which kind of file (`stored.stage`; the caller removes the
    folder after the load).

    `link(detainer_rows, booking_rows, hashes, stage_to)`, if given, derives the detainers' values from
    the package's bookings (giving `stored.Staged` when `stage_to` is given, else one tuple per
    detainer). When the bookings are staged (their table is empty, so the package's bookings are all
    there will be), one process reads bookings.csv, sends it, then reads detainers.csv and links it to
    the bookings it still holds: nothing but the staged copies and the columns the checks read
    (`stored.KEPT`) crosses between processes. The other files are read by the remaining workers.
    """

    def __init__(self, path: Path,
                 staging: Callable[[], tuple[Path | None, frozenset[str], str]] | None = None,
                 link: Callable | None = None) -> None:
        self.path = Path(path)
        present = _package_files(self.path)
        self.specs = [spec for spec in FILES if spec.name in present]
        self._paths = {spec.name: present[spec.name] for spec in self.specs}
        self._not_package = [f"{name}: not a package file; ignored." for name in sorted(present)
                             if name.endswith(".csv") and name not in FILES_BY_NAME]
        self.bytes = sum(path.stat().st_size for path in self._paths.values())
        self._read: dict[str, tuple] = {}
        self._futures: dict = {}
        self._pool = None
        self._linking: parallel.Stream | None = None  # bookings.csv, then detainers.csv with their links
        self._meta = ProblemList()
        self._meta_digest = None
        self.synthetic, self.title, self.as_of = False, None, None
        if METADATA_FILE in present:
            data = present[METADATA_FILE].read_bytes()
            self._meta_digest = hashlib.sha256(data).digest()
            self.synthetic, self.title, self.as_of = _read_metadata(data, self._meta)
        workers = min(len(self.specs), parallel.cores())
        #: Where rows of `stage_tables` are staged by work on other cores (`stored.stage`): the files, as
        #: they are read (detainers, by the importer's derivation).
        self.stage_to, self.stage_tables, self.stage_kind = None, frozenset(), ""
        if workers >= 2 and self.bytes >= PARALLEL_FROM:
            if staging is not None:
                self.stage_to, self.stage_tables, self.stage_kind = staging()
            together = set(_LINKED) if (link is not None and "bookings" in self.stage_tables
                                        and all(name in self._paths for name in _LINKED)) else set()
            if together:
                self._linking = parallel.Stream(_read_linked, self._paths[_LINKED[0]], self._paths[_LINKED[1]],
                                                self.stage_path("bookings"), self.stage_path("detainers"), link)
                workers -= 1
            self._pool = parallel.pool(workers)
            self._futures = {spec.name: self._pool.submit(_read_one, spec.name, self._paths[spec.name],
                                                          self._stage_file(spec))
                             for spec in self.specs if spec.name not in together}

    def _stage_file(self, spec: FileSpec) -> Path | None:
        """Where the process reading `spec`'s file stages its rows (detainers: not there, as their derived
        values are worked out once bookings are read too)."""
        if spec.table == "detainers":
            return None
        return self.stage_path(spec.table)

    def stage_path(self, table: str) -> Path | None:
        """Where the rows of `table` are to be staged (None: not staged)."""
        if self.stage_to is None or table not in self.stage_tables:
            return None
        return self.stage_to / f"{table}{self.stage_kind}"

    def __enter__(self) -> "PackageReading":
        return self

    def __exit__(self, *exc) -> None:
        if self._linking is not None:
            self._linking.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _result(self, name: str) -> tuple:
        if name not in self._read:
            future = self._futures.get(name)
            if self._linking is not None and name in _LINKED:
                while name not in self._read:  # the files come in order: bookings.csv, then detainers.csv
                    sent, result = self._linking.next()
                    self._read[sent] = _received(result)
            else:
                self._read[name] = (_received(future.result()) if future is not None
                                    else _read_one(name, self._paths[name]))
        return self._read[name]

    def ready(self, name: str) -> bool:
        """Whether `rows(name)` would give the file's rows without waiting for them to be read."""
        future = self._futures.get(name)
        return name in self._read or name not in self._paths or (future is not None and future.done())

    def first_ready(self, names: tuple[str, ...], every: float = 0.02) -> str:
        """The first of `names` whose rows are read (`ready`), waiting until one is (looking every
        `every` seconds). A file no other process reads is read here when its rows are asked for:
        if none of `names` is read elsewhere, the first is given."""
        linked = self._linking is not None and any(name in _LINKED for name in names)
        elsewhere = [future for name in names if (future := self._futures.get(name)) is not None]
        while True:
            for name in names:
                if self.ready(name):
                    return name
            if not linked and not elsewhere:
                return names[0]
            if linked and self._linking.waiting(0 if elsewhere else every):
                # the next of the linked files has come (or the process's error): taken now
                self._result(next(name for name in _LINKED if name not in self._read))
            elif elsewhere:
                futures.wait(elsewhere, every, return_when=futures.FIRST_COMPLETED)

    def links(self) -> bool:
        """Whether the detainers are linked to the package's bookings where they are read (`link`)."""
        return self._linking is not None

    def derived(self, name: str) -> list[tuple] | None:
        """The values `link` derived for `rows(name)` when they were not staged (None: not derived, or
        staged with them: `staged(name)`)."""
        return self._result(name)[7] if name in self._paths else None

    def failed(self) -> bool:
        """Whether a problem was found in what has been read so far."""
        return bool(self._meta) or any(result[1] for result in self._read.values())

    def hashes(self, name: str) -> list[str] | None:
        """The fingerprints of `rows(name)`, one per row."""
        return self._result(name)[5] if name in self._paths else None

    def staged(self, name: str):
        """The staged copy of `rows(name)` (`stored.Staged`), if the process that read it made one."""
        return self._result(name)[6] if name in self._paths else None

    def whole(self, name: str) -> tuple[list[dict], list[str] | None]:
        """The rows of one file with every column, and their fingerprints: read again here if the process
        that staged the file sent back only some columns (`stored.kept`)."""
        if name not in self._paths:
            return [], None
        if self._result(name)[5] is None:
            self._read[name] = _read_one(name, self._paths[name])
        return self.rows(name), self.hashes(name)

    def rows(self, name: str) -> list[dict]:
        """The rows of one file, once it is read (empty when the package does not have it); raises
        Unreadable as soon as any file read so far has problems. The rows of a staged file may hold only
        the columns `stored.kept` keeps."""
        if name not in self._paths:
            return []
        rows = self._result(name)[0]
        if self.failed():
            raise Unreadable(name)
        return rows

    def package(self) -> Package:
        """Every file, read and checked; raises InputError with the problems of all of them."""
        problems = ProblemList()
        files: dict[str, PackageFile] = {}
        warnings = list(self._not_package)
        digest = hashlib.sha256()
        for spec in self.specs:
            rows, items, more, file_warnings, file_digest, hashes, _staged, _derived = self._result(spec.name)
            for problem in items:  # merged in file order: the same problems, in the same order, however read
                problems.add(problem)
            problems.more += more
            warnings.extend(file_warnings)
            digest.update(spec.name.encode() + b"\0" + file_digest)
            files[spec.name] = PackageFile(spec, rows, file_digest.hex(), hashes)
        if self._meta_digest is not None:
            digest.update(METADATA_FILE.encode() + b"\0" + self._meta_digest)
            for problem in self._meta.items:
                problems.add(problem)
            problems.more += self._meta.more
        problems.raise_if_any()
        return Package(self.path, files, digest.hexdigest(), self.synthetic, self.title, warnings,
                       read_by_spec=True, as_of=self.as_of)


#: The files one process reads together when it links detainers to bookings (`PackageReading`).
_LINKED = ("bookings.csv", "detainers.csv")


def _read_one(name: str, path: Path, stage_to: Path | None = None) -> tuple:
    """One package file: its rows, problems (and how many more), warnings, SHA-256 digest, the rows'
    fingerprints (made here, where a large package is read on another core, rather than as it is written),
    its staged copy and the values derived from it (`_sent`)."""
    return _sent(*_read_whole(name, path), stage_to)


def _read_whole(name: str, path: Path) -> tuple:
    """One package file, read: (its spec, the folder, its rows, problems, warnings, SHA-256 digest,
    the rows' fingerprints)."""
    spec = FILES_BY_NAME[name]
    data = path.read_bytes()
    problems = ProblemList()
    warnings: list[str] = []
    rows = _read_file(spec, data, problems, warnings)
    hashes = [] if problems else fingerprints(spec, rows)
    return spec, path.parent, rows, problems, warnings, hashlib.sha256(data).digest(), hashes


def _sent(spec: FileSpec, folder: Path, rows: list[dict], problems: "ProblemList", warnings: list[str],
          digest: bytes, hashes: list[str], stage_to: Path | None = None, link=None) -> tuple:
    """What is sent back of one file read on another core. When `stage_to` is given and the file is
    large and has no problems, its rows are staged there, and only what `stored.kept` keeps of them is
    sent (their fingerprints: None). `link(rows, hashes, stage_to)`, if given and the file has no
    problems, derives the values stored with the rows: staged with them (detainers of 50,000 or more,
    `stored.STAGE_FROM`), else sent as a list of tuples, one per row."""
    staged = derived = None
    if not problems and (link is not None or stage_to is not None):
        from detainers.datapackage import checks, stored

        big = stage_to is not None and len(rows) >= stored.STAGE_FROM
        # What the import needs of the rows now is what the checks across files read: only that is sent
        # back, once the checks of this file alone pass (if not, all of it, to tell them).
        one = Package(folder, {spec.name: PackageFile(spec, rows, "")}, "", read_by_spec=True)
        alone = big and checks.file_alone(one, spec.name)
        if link is not None:
            derived = link(rows, hashes, stage_to if big else None)
            if isinstance(derived, stored.Staged):
                staged, derived = derived, None
        elif big:
            staged = stored.stage(stage_to, spec, rows, hashes)
        if staged is not None and alone:
            rows, hashes = stored.kept(spec, rows), None
    return rows, problems.items, problems.more, warnings, digest, hashes, staged, derived


def _received(result: tuple) -> tuple:
    """A file's result as sent by another process, with its rows as dicts again (`stored.Columns`)."""
    rows = result[0]
    if isinstance(rows, list):
        return result
    return (rows.rows(), *result[1:])


def _read_linked(bookings_path: Path, detainers_path: Path, stage_bookings: Path | None,
                 stage_detainers: Path | None, link) -> Iterator[tuple[str, tuple]]:
    """Read bookings.csv and send it; then read detainers.csv, link its rows to those bookings
    (`link(detainer_rows, booking_rows, hashes, stage_to)`), and send it (`PackageReading`). Each is
    sent as `_read_one` sends a file."""
    bookings = _read_whole(_LINKED[0], bookings_path)
    yield _LINKED[0], _sent(*bookings, stage_bookings)
    booking_rows, booking_problems = bookings[2], bookings[3]
    detainers = _read_whole(_LINKED[1], detainers_path)
    if booking_problems:  # the import stops at the bookings' problems: nothing to link to
        yield _LINKED[1], _sent(*detainers)
        return
    yield _LINKED[1], _sent(*detainers, stage_detainers,
                            link=lambda rows, hashes, stage_to: link(rows, booking_rows, hashes, stage_to))


def _read_metadata(data: bytes, problems: ProblemList) -> tuple[bool, str | None, date | None]:
    try:
        meta = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.add(Problem(METADATA_FILE, None, None, None, f"cannot be read as TOML: {exc}"))
        return False, None, None
    synthetic = meta.get("synthetic", False)
    if not isinstance(synthetic, bool):
        problems.add(Problem(METADATA_FILE, None, "synthetic", str(synthetic), "is not true or false"))
        synthetic = False
    title = meta.get("title")
    as_of = meta.get("as_of")
    if isinstance(as_of, str):
        try:
            as_of = date.fromisoformat(as_of) if len(as_of) == 10 else None
        except ValueError:
            as_of = None
        if as_of is None:
            problems.add(Problem(METADATA_FILE, None, "as_of", str(meta.get("as_of")), "is not a date (YYYY-MM-DD)"))
    elif isinstance(as_of, datetime):
        as_of = as_of.date()
    elif as_of is not None and not isinstance(as_of, date):
        problems.add(Problem(METADATA_FILE, None, "as_of", str(as_of), "is not a date (YYYY-MM-DD)"))
        as_of = None
    return synthetic, str(title) if title is not None else None, as_of


def _decode(spec: FileSpec, data: bytes, problems: ProblemList) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(
            Problem(spec.name, line, None, repr(data[exc.start : exc.start + 4])[2:-1],
                    "is not UTF-8 text (save the file as UTF-8)")
        )
        return None


def _read_file(spec: FileSpec, data: bytes, problems: ProblemList, warnings: list[str]) -> list[dict]:
    if _decode(spec, data, problems) is None:
        return []
    if b"\0" in data:  # in UTF-8, only the NUL character has a zero byte
        line = data[: data.index(b"\0")].count(b"\n") + 1
        problems.add(Problem(spec.name, line, None, None, "contains a NUL byte (expected plain CSV text)"))
        return []
    # Decoded again as the csv module reads it, a little at a time: a file-sized text buffer would hold four
    # bytes per character. strict: a quote that is never closed is an error, not a cell that swallows the
    # rest of the file.
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.add(Problem(spec.name, 1, None, None, f"is not valid CSV: {exc}"))
        return []
    if header is None:
        problems.add(Problem(spec.name, None, None, None, "is empty (expected a header row)"))
        return []
    header = [h.strip() for h in header]
    positions = _check_header(spec, header, problems, warnings)
    if positions is None:
        return []
    rows: list[dict] = []
    seen: dict[tuple, int] = {}
    row_number = 1
    plan = _plan(spec, positions)
    width = len(header)
    # Each cell's place, name, reader and whether it is required; a column the file lacks is read from
    # the blank cell added past the last one.
    cells = [(width if col.index is None else col.index, col.stored_as, col.read, col.seen, col.required)
             for col in plan]
    key_of = getter([spec_col_db(spec, k) for k in spec.key])
    try:
        for record in reader:
            row_number += 1
            if not record or (not record[0].strip() and not "".join(record).strip()):
                continue  # blank lines carry nothing
            if len(record) > width:
                if any(c.strip() for c in record[width:]):
                    problems.add(Problem(spec.name, row_number, None, None,
                                         f"has {len(record)} cells but the header has {len(header)} columns"))
                    continue
            elif len(record) == width:
                record.append("")
            else:
                record.extend([""] * (width + 1 - len(record)))
            row = _read_cells(cells, record, row_number)
            if row is None:
                row = _read_row(spec, plan, record, row_number, problems)
                if row is None:
                    continue
            key = key_of(row)
            first = seen.get(key)
            if first is not None:
                problems.add(Problem(spec.name, row_number, spec.key[0], " / ".join(map(str, key)),
                                     f"appears twice (first on row {first}); each row needs its own {'+'.join(spec.key)}"))
                continue
            seen[key] = row_number
            rows.append(row)
    except csv.Error as exc:
        hint = " (a quote opened on this row is never closed)" if "unexpected end of data" in str(exc) else ""
        problems.add(Problem(spec.name, row_number + 1, None, None, f"is not valid CSV: {exc}{hint}"))
    return rows


def spec_col_db(spec: FileSpec, name: str) -> str:
    for col in spec.columns:
        if col.name == name:
            return col.stored_as
    return name


def _check_header(spec: FileSpec, header: list[str], problems: ProblemList, warnings: list[str]) -> dict | None:
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            continue  # spreadsheets save trailing empty columns; they carry nothing
        if name in positions:
            problems.add(Problem(spec.name, 1, name, None, f"appears twice in the header (columns {positions[name] + 1} and {index + 1})"))
            return None
        positions[name] = index
    missing = [c for c in spec.required_columns if c not in positions]
    if missing:
        problems.add(Problem(spec.name, 1, ", ".join(missing), None,
                             f"missing from the header (expected columns: {', '.join(spec.column_names)})"))
        return None
    extra = [h for h in header if h and h not in spec.column_names]
    absent = {c.replace("_", "").lower(): c for c in spec.column_names if c not in positions}
    for name in extra:  # a misspelt optional column would be ignored silently: say so instead
        close = difflib.get_close_matches(name.replace("_", "").replace(" ", "").lower(), list(absent), n=1,
                                          cutoff=0.85)
        if close:
            problems.add(Problem(spec.name, 1, name, None, f"is not a column of {spec.name}; did you mean "
                                                           f"{absent[close[0]]}? (expected columns: "
                                                           f"{', '.join(spec.column_names)})"))
            return None
    if extra:
        warnings.append(f"{spec.name}: columns not in the package format were ignored: {', '.join(extra)}")
    return positions


class _ColumnPlan:
    """How one column of one file is read: where it sits, and its reader (memoised where pure)."""

    __slots__ = ("name", "stored_as", "index", "required", "read", "seen")

    def __init__(self, col, index: int | None, key: tuple[str, ...] = ()) -> None:
        self.name, self.stored_as, self.index, self.required = col.name, col.stored_as, index, col.required
        # Dates, years, codes, enumerations and the ids of places (a few thousand facilities, named by
        # millions of bookings and detainers) repeat across rows: each distinct spelling is read once,
        # and its rows share one value (which also makes them cheaper to send between processes).
        # Other ids and free text mostly do not repeat.
        #: {cell text: its value, or the CellError it raised} for a memoised reader (else None).
        self.seen: dict[str, object] | None = None
        if col.read is read_text or (col.read is read_id and (col.stored_as in key or col.stored_as not in _PLACES)):
            self.read = col.read
        else:
            self.seen = {}
            self.read = _memoised(col.read, self.seen)


def _memoised(read, seen: dict[str, object]):
    """`read`, reading each distinct text once (at most 100,000 of them are kept in `seen`)."""

    def cached(raw: str):
        value = seen.get(raw, seen)
        if value is seen:
            try:
                value = read(raw)
            except CellError as exc:
                value = exc
            # Not a text of spaces (only an export's quoted cell brings one here): `_read_cells` takes what
            # it finds in `seen` before it asks whether a cell is blank.
            if len(seen) < 100_000 and not raw.isspace():
                seen[raw] = value
        if isinstance(value, CellError):
            raise CellError(str(value))
        return value

    return cached


#: Ids of places, read once per spelling where another file's rows name them (`_ColumnPlan`).
_PLACES = frozenset({"facility_id", "jurisdiction_id"})


def _plan(spec: FileSpec, positions: dict) -> list[_ColumnPlan]:
    return [_ColumnPlan(col, positions.get(col.name), spec.key) for col in spec.columns]


def _read_cells(cells: list[tuple], record: list[str], row_number: int) -> dict | None:
    """A row whose every cell reads, read quickly (None at the first that does not: `_read_row` then
    reads it again and says what is wrong with each cell)."""
    row: dict = {"source_row": row_number}
    try:
        for index, name, read, seen, required in cells:
            raw = record[index]
            if seen is not None:  # a spelling read before (never a blank or an export's quoted cell): its value
                value = seen.get(raw, seen)
                if value is not seen:
                    if isinstance(value, CellError):
                        return None
                    row[name] = value
                    continue
            if not raw or raw.isspace():
                if required:
                    return None
                row[name] = None
            elif raw[0] == "'" and raw[1:2] in _NEUTRALIZED:
                row[name] = read(raw[1:])  # written by our own export to keep spreadsheets from running formulas
            else:
                row[name] = read(raw)
    except CellError:
        return None
    return row


def _read_row(spec: FileSpec, plan: list[_ColumnPlan], record: list[str], row_number: int,
              problems: ProblemList) -> dict | None:
    row: dict = {"source_row": row_number}
    ok = True
    width = len(record)
    for col in plan:
        index = col.index
        raw = record[index] if index is not None and index < width else ""
        if not raw or raw.isspace():
            if col.required:
                problems.add(Problem(spec.name, row_number, col.name, None, "is empty (a value is required)"))
                ok = False
            row[col.stored_as] = None
            continue
        if raw[0] == "'" and raw[1:2] in _NEUTRALIZED:
            raw = raw[1:]  # written by our own export to keep spreadsheets from running formulas
        try:
            row[col.stored_as] = col.read(raw)
        except CellError as exc:
            problems.add(Problem(spec.name, row_number, col.name, raw, str(exc)))
            ok = False
    return row if ok else None
