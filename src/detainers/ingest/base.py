"""What every source reader returns, and the small cleaning functions they share.

A reader maps one published file onto the canonical rows (the same rows a data
package holds, DESIGN §5) and says, per row, where it came from. It does not
touch the database: `detainers.ingest.load` resolves facilities, checks
references, reconciles with earlier releases and writes.

Rows use the stored column names (`citation` for a policy's source,
`outcome_claimed` for a detainer's outcome claim) plus `source_row` (the row
number in the file as a spreadsheet shows it) and, where the file has sheets,
`sheet`.
"""

from __future__ import annotations

import csv
import io
import marshal
import re
import sqlite3
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import itemgetter
from pathlib import Path

from detainers.errors import InputError, Problem

#: The FOIA exemption marker ICE prints in withheld cells.
REDACTION = re.compile(r"^\(b\)\(\d\)(\s*,\s*\(b\)\(\d\)\([a-z]\))*$|^\(b\)\(\d\)\([a-z]\)$", re.IGNORECASE)


@dataclass
class Extract:
    """Canonical rows read from one file, with what could not be read cleanly."""

    kind: str
    path: Path
    #: canonical file name ("detainers.csv", …) → rows
    rows: dict[str, list[dict]] = field(default_factory=dict)
    #: "column: what was wrong" → how many cells (optional fields that were nulled)
    quality: Counter = field(default_factory=Counter)
    #: sentences for the user: header drift seen, rows skipped as footers, …
    notes: list[str] = field(default_factory=list)
    sheet: str | None = None
    #: rows read from the file (records, not counting title, header and footer rows)
    records: int = 0
    #: kind-specific extras (e.g. 287(g) agreement rows), handled by the loader for that kind
    extra: dict[str, list[dict]] = field(default_factory=dict)
    #: the file says it is SYNTHETIC (a title or note row): every output made from it says so too
    synthetic: bool = False

    def add(self, file: str, row: dict) -> None:
        self.rows.setdefault(file, []).append(row)


class SpilledState:
    """Keyed values a reader must remember over a whole file (the people seen, the ids given), kept in
    a private temporary SQLite file so that memory does not grow with the file.

    Read and written a chunk's keys at a time: `get(name, keys)` gives {key: value} of the keys stored;
    `put(name, items)` stores (key, value) pairs, replacing. Keys are text; values anything `marshal`
    writes (text, numbers, None, and tuples and dicts of them). Used as a context manager; the file is gone after.
    """

    #: SQLite page cache of the state file, in KiB: a fixed size, whatever the file's length.
    CACHE_KIB = 32 * 1024

    def __init__(self, *names: str) -> None:
        self.names = names

    def __enter__(self) -> "SpilledState":
        self._dir = tempfile.TemporaryDirectory(prefix="detainers-reader-")
        self._db = sqlite3.connect(Path(self._dir.name) / "state.db", isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = {-self.CACHE_KIB}",
                       "temp_store = FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        for name in self.names:
            self._db.execute(f'CREATE TABLE "{name}" (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID')
        self._db.execute("CREATE TEMP TABLE wanted (k TEXT PRIMARY KEY) WITHOUT ROWID")
        self._db.execute("BEGIN")  # one transaction for the whole read: never committed, the file is thrown away
        return self

    def __exit__(self, *exc) -> None:
        self._db.close()
        self._dir.cleanup()

    def get(self, name: str, keys) -> dict:
        db = self._db
        db.execute("DELETE FROM wanted")
        db.executemany("INSERT INTO wanted VALUES (?)", ((k,) for k in sorted(keys)))  # in key order: fewer pages
        loads = marshal.loads
        return {k: loads(v) for k, v in db.execute(f'SELECT s.k, s.v FROM wanted w CROSS JOIN "{name}" s ON s.k = w.k')}

    def put(self, name: str, items) -> None:
        dumps = marshal.dumps
        self._db.executemany(f'INSERT OR REPLACE INTO "{name}" VALUES (?, ?)',  # in key order: fewer pages touched
                             ((k, dumps(v)) for k, v in sorted(items, key=itemgetter(0))))


def default_facility(kind: str, jurisdiction_id: str | None, facility_id: str | None) -> str | None:
    """The facility a file's rows go to: the one the user named, else the jurisdiction's jail.

    A jail-csv mapping file's own [facility] id comes before that default, so none is made for it
    (its reader falls back to the jurisdiction's jail itself)."""
    if facility_id or not jurisdiction_id or kind == "jail-csv":
        return facility_id or None
    return f"{jurisdiction_id}-jail"


@dataclass(frozen=True)
class IngestOptions:
    """What the user told the ingest command about the file."""

    jurisdiction_id: str | None = None
    facility_id: str | None = None
    state: str | None = None
    as_of: datetime | None = None
    #: a mapping file (jail-csv) or a table override (jail-report dispositions)
    mapping: Path | None = None


def fail(path: Path | str, row: int | None, column: str | None, value, expected: str, sheet: str | None = None):
    """Raise the error for an unreadable required field: file, sheet, row, column, value, expectation."""
    name = str(path) if sheet is None else f"{path} [sheet {sheet}]"
    raise InputError(Problem(name, row, column, None if value is None else str(value), expected))


def is_redacted(value) -> bool:
    """True for ICE's exemption markers such as '(b)(6), (b)(7)(c)'."""
    return isinstance(value, str) and bool(REDACTION.match(value.strip()))


def clean_text(value) -> str | None:
    """Strip padding; empty → None. Numbers read from spreadsheets become their text."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\u00a0", " ").strip()
    return text or None


_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?)?$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def parse_date(value) -> date | None:
    """A date from an Excel datetime, an ISO text (with or without time) or US `MM/DD/YYYY`.

    Returns None for empty cells; raises ValueError for anything else that is not a date in the
    years 1900–2100 (an Excel cell holding 0001-01-01 or 9999-12-31 included).
    """
    if value is None:
        return None
    if isinstance(value, date):  # an Excel date or datetime: the same years as a text date
        return _checked(value.year, value.month, value.day)
    text = str(value).strip()
    if not text:
        return None
    m = _ISO_DATE.match(text)
    if m:
        return _checked(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _US_DATE.match(text)
    if m:
        return _checked(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    raise ValueError(text)


def _checked(year: int, month: int, day: int) -> date:
    parsed = date(year, month, day)  # raises ValueError for 2019-02-30
    if not 1900 <= year <= 2100:
        raise ValueError(f"{year}")
    return parsed


def slug(text: str) -> str:
    """A lower-case id fragment: 'FRANKLIN COUNTY JAIL' → 'franklin-county-jail'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


#: State names as ICE and ERO files write them → postal codes.
STATES = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA", "COLORADO": "CO",
    "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC", "FLORIDA": "FL", "GEORGIA": "GA",
    "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL", "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS",
    "KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA",
    "MICHIGAN": "MI", "MINNESOTA": "MN", "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT",
    "NEBRASKA": "NE", "NEVADA": "NV", "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM",
    "NEW YORK": "NY", "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK",
    "OREGON": "OR", "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA", "WASHINGTON": "WA",
    "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY", "PUERTO RICO": "PR", "GUAM": "GU",
    "VIRGIN ISLANDS": "VI", "U.S. VIRGIN ISLANDS": "VI", "AMERICAN SAMOA": "AS",
    "NORTHERN MARIANA ISLANDS": "MP",
}


def state_code(value) -> str | None:
    """'NORTH CAROLINA' or 'nc' → 'NC'; None when it is not a U.S. state or territory."""
    text = clean_text(value)
    if text is None:
        return None
    upper = " ".join(text.upper().split())
    if upper in STATES:
        return STATES[upper]
    if len(upper) == 2 and upper in STATES.values():
        return upper
    return None


def read_text_file(path: Path) -> tuple[str, str]:
    """A text file's contents and the encoding that read it: UTF-8 (BOM or not), else Windows-1252, else Latin-1.

    Sheriffs' exports from older jail systems are often Windows-1252 ("PEÑA" as one byte).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(Problem(str(path), None, None, None, f"cannot be read ({exc.strerror})")) from exc
    if b"\0" in data:
        line = data[:data.index(b"\0")].count(b"\n") + 1
        raise InputError(Problem(str(path), line, None, None, "contains a NUL byte (expected plain text; a file "
                                                               "saved as UTF-16 or a binary file looks like this)"))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def csv_rows(path: Path, text: str) -> list[list[str]]:
    """Every record of a CSV text. A quote that is never closed (which would swallow the rest of the
    file into one cell) or a cell past the CSV field limit is an InputError naming the record."""
    rows: list[list[str]] = []
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), strict=True):
            rows.append(cells)
    except csv.Error as exc:
        hint = "; a quote opened on this row is never closed" if "unexpected end of data" in str(exc) else ""
        fail(path, len(rows) + 1, None, None, f"is not readable CSV ({exc}){hint}")
    return rows


#: The two ways releases most often write a moment, read by `parse_datetime` in one step (the same values as
#: the general way): 'MM/DD/YYYY HH:MM' and 'YYYY-MM-DD HH:MM:SS'.
_US_MINUTE = re.compile(r"(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2})")
_ISO_SECOND = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_TIME_OF_DAY = re.compile(r"[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:\s*([AP]M))?$", re.IGNORECASE)


def parse_datetime(value) -> datetime | None:
    """Like `parse_date`, keeping the time of day (to the second; midnight when the cell has none).

    Excel datetimes are rounded to the nearest second: stored as fractions of a day, they
    come back as 18:36:59.999 as often as 18:37:00.
    """
    if value is None:
        return None
    if type(value) is str:  # most cells of a release: one match, no general parse
        if m := _US_MINUTE.fullmatch(value):
            moment = (int(m.group(3)), int(m.group(1)), int(m.group(2)), int(m.group(4)), int(m.group(5)))
        elif m := _ISO_SECOND.fullmatch(value):
            moment = tuple(map(int, m.groups()))
        if m:
            if not 1900 <= moment[0] <= 2100:
                raise ValueError(value)
            return datetime(*moment)  # raises ValueError for 2019-02-30 or 25:00
    if isinstance(value, datetime):
        _checked(value.year, value.month, value.day)  # raises ValueError outside 1900–2100
        rounded = value.replace(microsecond=0)
        if value.microsecond >= 500_000:
            rounded += timedelta(seconds=1)
            _checked(rounded.year, rounded.month, rounded.day)  # 2100-12-31 23:59:59.6 is 2101
        return rounded
    day = parse_date(value)  # raises ValueError for text that is not a date
    if day is None:
        return None
    m = _TIME_OF_DAY.search(str(value).strip()) if not isinstance(value, date) else None
    if not m:
        return datetime(day.year, day.month, day.day)
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if m.group(4):
        if not 1 <= hour <= 12:
            raise ValueError(str(value))
        hour = hour % 12 + (12 if m.group(4).upper() == "PM" else 0)
    return datetime(day.year, day.month, day.day, hour, minute, second)  # raises for 25:00
