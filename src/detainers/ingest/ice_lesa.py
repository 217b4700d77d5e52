"""ICE ERO-LESA detainer releases: one row per detainer, as xlsx or csv.

The file is read as a stream (header found by its content, footers skipped), each row
is mapped onto facilities, people, detainers and most-serious-conviction charges, and
every row keeps its sheet and row number. Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path

from detainers.ingest.base import (
    Extract,
    SpilledState,
    IngestOptions,
    clean_text,
    fail,
    is_redacted,
    parse_date,
    parse_datetime,
    slug,
    state_code,
)

KIND = "ice-lesa"
TITLE = "ICE ERO-LESA detainer release"
WHERE_FROM = (
    "Detainer data from ICE Enforcement and Removal Operations' Law Enforcement Systems and "
    "Analysis unit (ERO-LESA), released under the Freedom of Information Act and republished by, "
    "for example, the Deportation Data Project and TRAC. Each release is an Excel workbook (or a "
    "CSV export of one) with title rows above the header, one row per detainer ICE prepared, "
    "exempt cells marked '(b)(6), (b)(7)(c)', and notes below the data."
)

#: What the reader uses → the header names releases have used for it (the first is the usual one).
COLUMNS: dict[str, tuple[str, ...]] = {
    "prepared": ("Detainer Prepare Date",),
    "facility_code": ("Detention Facility Code", "Detainer Facility Code"),
    "facility": ("Detention Facility", "Detainer Facility"),
    "city": ("Facility City",),
    "state": ("Facility State",),
    "identifier": ("Unique Identifier", "Anonymized Identifier"),
    "gender": ("Gender",),
    "citizenship": ("Citizenship Country",),
    "birth_date": ("Birth Date",),
    "birth_year": ("Birth Year",),
    "criminality": ("Detainer Prepared Criminality", "Detainer Criminality"),
    "threat_level": ("Detainer Prep Threat Level", "Detainer Threat Level"),
    "form": ("Detainer Type",),
    "lift_date": ("Detainer Lift Date",),
    "lift_reason": ("Detainer Lift Reason",),
    "msc": ("Most Serious Conviction (MSC) Charge",),
    "msc_code": ("MSC Charge Code",),
}

#: What a column is read as, for notes ("Detainer Facility Code read as the facility code").
MEANING = {
    "facility_code": "the facility code", "facility": "the facility name",
    "identifier": "the person identifier", "criminality": "the criminality",
    "threat_level": "the threat level",
}

HEADER_SCAN = 50
#: A person's days are looked through in a tuple up to this many, then kept in a dict.
_FEW_DAYS = 8
PROGRESS_EVERY = 10_000
_FACILITY_EXPECTED = "expected a facility code, or a facility name with its state"

_FORM = re.compile(r"^\s*(I-?247[A-Z]?)\b", re.IGNORECASE)
# ICE also writes the exemptions in other orders and with other separators. A separator is a word or
# mark with optional spaces, or spaces alone: one way to match each, so a long run cannot backtrack for hours.
_WITHHELD = re.compile(r"^\(b\)\(\d\)(?:\([a-z]\))?(?:(?:\s*(?:,|;|/|&|and)\s*|\s+)?\(b\)\(\d\)(?:\([a-z]\))?)*$",
                       re.IGNORECASE)
_SMALL_WORDS = frozenset({"of", "and", "the", "de", "del", "da"})


# ---- small pure cleaning functions -------------------------------------------------------------


def is_withheld(value) -> bool:
    """ICE's FOIA exemption markers: '(b)(6), (b)(7)(c)', '(b)(7)(c)', '(b)(7)(c); (b)(6)' …"""
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text.startswith("(") and (is_redacted(text) or bool(_WITHHELD.match(text)))


@lru_cache(maxsize=4096)
def country_name(value) -> str | None:
    """'EL SALVADOR' → 'El Salvador'; 'CHINA, PEOPLES REPUBLIC OF' → 'China, Peoples Republic of'."""
    text = clean_text(value)
    if text is None:
        return None
    words = re.split(r"(\s+|-)", " ".join(text.split()).lower())
    out = []
    for i, word in enumerate(words):
        if i and word in _SMALL_WORDS:
            out.append(word)
        elif "'" in word:  # CÔTE D'IVOIRE → Côte d'Ivoire is a matter of taste; keep D'Ivoire
            head, _, tail = word.partition("'")
            out.append(head.capitalize() + "'" + (tail if tail == "s" else tail.capitalize()))
        else:
            out.append(word.capitalize())
    return "".join(out)


@lru_cache(maxsize=4096)
def sex_code(value) -> tuple[str | None, bool]:
    """'Male' → 'M', 'Female' → 'F', blank/unknown → None; the flag says the value was not understood."""
    text = clean_text(value)
    if text is None:
        return None, False
    upper = text.upper()
    if upper in ("MALE", "M"):
        return "M", False
    if upper in ("FEMALE", "F"):
        return "F", False
    return None, upper not in ("UNKNOWN", "U", "UNK", "NOT REPORTED")


def birth_year(value) -> int | None:
    """1958.0 or '1958' → 1958; raises ValueError for anything that is not a year 1900–2100."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not (len(text) == 4 and text.isdigit()) or not 1900 <= int(text) <= 2100:
        raise ValueError(text)
    return int(text)


@lru_cache(maxsize=4096)
def form_of(value) -> str | None:
    """'I-247A - Immigration Detainer - Notice of Action' → 'I-247A'; other text is kept as it is."""
    text = clean_text(value)
    if text is None:
        return None
    m = _FORM.match(text)
    if m:
        return m.group(1).upper().replace("I247", "I-247")
    return text


def threat_level(value) -> str | None:
    """'1', '2', '3' (or 2.0 from a spreadsheet); raises ValueError for other values."""
    text = clean_text(value)
    if text is None:
        return None
    if text in ("1", "2", "3"):
        return text
    raise ValueError(text)


def charge_code(value) -> tuple[str | None, bool]:
    """NCIC code as text ('0305'); a code stored as a number lost its leading zero: pad to 4 digits."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return f"{int(value):04d}", True
    return clean_text(value), False


def stable_hash(*parts) -> str:
    """16 hex digits that depend only on the parts: the same detainer gets the same id in every release."""
    text = "\x1f".join(["" if p is None else str(p) for p in parts])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _ascii(text: str) -> str:
    """'DOÑA ANA' → 'DONA ANA', so that ids made from names keep their letters."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _norm(header) -> str:
    return " ".join(str(header).replace("\ufeff", "").split()).casefold()


_NORMS = {field: tuple(_norm(h) for h in names) for field, names in COLUMNS.items()}
_PREPARED = _NORMS["prepared"][0]
_FACILITY_HEADERS = frozenset(_NORMS["facility_code"] + _NORMS["facility"])


def _filled(value) -> bool:
    return value is not None and value != "" and not (isinstance(value, str) and not value.strip())


# ---- reading the file ----------------------------------------------------------------------------


def reads_in_chunks(path: Path) -> bool:
    """A CSV release can be handed over in chunks as it is read (`read(..., chunks=…)`); a workbook
    is read whole by the library that opens it."""
    return not _is_workbook(Path(path))


def read(path: Path, options: IngestOptions, progress: Callable[[int], None] | None = None, *,
         chunks: Callable[[Extract], None] | None = None, chunk_rows: int = 50_000) -> Extract:
    """Read one ERO-LESA detainer release (xlsx or csv) into canonical rows.

    With `chunks`, every `chunk_rows` records the rows read so far are handed to `chunks(extract)` and
    then let go: the returned Extract holds only the rows after the last chunk, and the counts, notes
    and quality of the whole file. A person, facility or detainer id is still given once per file.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        fail(path, None, None, None, f"cannot be opened ({exc.strerror or exc})")
    if size == 0:
        fail(path, None, None, None, "is empty (expected an ICE detainer release, .xlsx or .csv)")
    extract = Extract(KIND, path)
    reader = _Rows(path, extract, progress, chunks, chunk_rows)
    if chunks is None:
        _read_rows(path, extract, reader)
        return extract
    # What the reader must remember about every person and detainer so far stays on disk, not in memory.
    with SpilledState("people") as reader.state:
        _read_rows(path, extract, reader)
    return extract


def _read_rows(path: Path, extract: Extract, reader: _Rows) -> None:
    if _is_workbook(path):
        read_sheets, skipped = [], []
        for name, rows in _workbook_sheets(path):
            (read_sheets if reader.sheet(name, rows, required=False) else skipped).append(name)
        if not read_sheets:
            fail(path, None, None, None, f"has no header row in its first {HEADER_SCAN} rows "
                 "(expected a header row with 'Detainer Prepare Date' and a facility column)", skipped[0])
        for name in skipped:
            extract.notes.append(f"Sheet {name!r} has no header row with 'Detainer Prepare Date'; not read.")
        if len(read_sheets) > 1:
            extract.notes.append(f"Read {len(read_sheets)} sheets: {', '.join(read_sheets)}.")
        extract.sheet = ", ".join(read_sheets)
    else:
        reader.sheet(None, _csv_rows(path, extract), required=True)
    if reader.pending:
        reader._map_pending()  # the rows after the last full chunk: returned, not handed over
    reader.finish()


def _is_workbook(path: Path) -> bool:
    """By content, not name: a zip (xlsx, xlsb, ods) or an OLE file (xls) is a workbook."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        return True
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"):
        fail(path, None, None, None, "is not an Excel workbook although it is named like one "
             "(expected an .xlsx file; if it is a CSV export, rename it to .csv)")
    return False


#: A workbook that unpacks to more than this, at more than BOMB_RATIO times its packed size, is refused
#: before it is opened: real releases (200,000 rows × 40 columns) unpack at ratios near 10.
BOMB_UNPACKED = 100 * 1024 * 1024
BOMB_RATIO = 100


def _refuse_zip_bomb(path: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # not a zip (an .xls, say): the reader says what it is
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if unpacked > BOMB_UNPACKED and unpacked > BOMB_RATIO * packed:
        fail(path, None, None, None, f"unpacks to {unpacked / 1e6:,.0f} MB from {packed / 1e6:,.1f} MB, a compression "
             "no real workbook has (a 'zip bomb'); expected an .xlsx file as ICE publishes it")


def _workbook_sheets(path: Path) -> Iterator[tuple[str, Iterator[tuple[int, list]]]]:
    from python_calamine import CalamineWorkbook

    _refuse_zip_bomb(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except Exception as exc:  # noqa: BLE001 — any library failure is a bad file, not a bug
        with path.open("rb") as fh:
            ole = fh.read(4) == b"\xd0\xcf\x11\xe0"
        if ole and path.suffix.lower() != ".xls":  # Excel stores a workbook with a password this way
            fail(path, None, None, None, "is a password-protected (encrypted) workbook, or an old .xls one named "
                 ".xlsx: open it in Excel and save it as .xlsx without a password")
        fail(path, None, None, None, f"is not a readable Excel workbook ({_reason(exc)}); "
             "expected an .xlsx file as ICE publishes it, or a .csv")
    if not names:
        fail(path, None, None, None, "has no sheets (expected a sheet of detainers)")
    for index, name in enumerate(names):
        try:
            rows = book.get_sheet_by_index(index).iter_rows()
        except Exception as exc:  # noqa: BLE001
            fail(path, None, None, None, f"cannot be read ({_reason(exc)}); expected a readable sheet", name)
        yield name, _guarded(path, name, rows)


def _guarded(path: Path, sheet: str, rows) -> Iterator[tuple[int, list]]:
    number = 0
    while True:
        try:
            cells = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001
            fail(path, number + 1, None, None, f"cannot be read ({_reason(exc)}); expected a readable sheet", sheet)
        number += 1
        yield number, cells


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _csv_encoding(path: Path) -> tuple[str, bool]:
    """UTF-8 (with or without BOM) when every byte decodes, else Windows-1252; and whether the file has
    a NUL byte anywhere. Reads in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding, nul = "utf-8-sig", False
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            nul = nul or b"\0" in chunk
            if encoding == "utf-8-sig":
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    encoding = "cp1252"
        if encoding == "utf-8-sig":
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                encoding = "cp1252"
    return encoding, nul


def _csv_rows(path: Path, extract: Extract) -> Iterator[tuple[int, list]]:
    encoding, nul = _csv_encoding(path)
    if encoding == "cp1252":
        extract.notes.append("The CSV is not UTF-8; it was read as Windows-1252 (cp1252).")
    # cp1252 leaves five bytes undefined; 'replace' keeps a stray one from stopping the read.
    with path.open(newline="", encoding=encoding, errors="replace") as fh:
        number = 0
        try:
            # strict: a quote never closed is an error, not a cell that swallows the rest of the file
            for number, cells in enumerate(csv.reader(fh, strict=True), start=1):
                if nul and any("\0" in c for c in cells):  # PostgreSQL cannot store it, and no export means it
                    fail(path, number, None, None, "contains a NUL byte (expected plain CSV text)")
                yield number, cells
        except csv.Error as exc:
            hint = "; a quote opened on this row is never closed" if "unexpected end of data" in str(exc) else ""
            fail(path, number + 1, None, None, f"is not readable CSV ({exc}){hint}")


# ---- mapping rows --------------------------------------------------------------------------------


#: The fields a row is read for, in the order `_Columns.take` gives their cells.
_FIELDS = tuple(COLUMNS)


@dataclass
class _Columns:
    index: dict[str, int | None]
    header: dict[str, str | None]
    width: int = 0

    def __post_init__(self) -> None:
        # One C call picks every field's cell from a row padded to width + 1 cells, the last one empty:
        # a field without a column takes that one.
        self._pick = itemgetter(*(self.width if self.index[k] is None else self.index[k] for k in _FIELDS))
        self._heads = tuple(self.header[k] for k in _FIELDS)

    def take(self, cells: list, redacted: list[str], quality) -> list:
        """The cells of the fields (in `_FIELDS` order), stripped; an empty or withheld cell is None (a
        withheld one's column added to `redacted` and counted in `quality`)."""
        width = self.width
        row = cells[:width]
        row += [""] * (width + 1 - len(row))
        values = [(v.strip() or None) if type(v) is str else v for v in self._pick(row)]
        for i, v in enumerate(values):
            if type(v) is str:
                if v[0] == "(" and is_withheld(v):
                    redacted.append(self._heads[i])
                    quality[f"{self._heads[i]}: redacted"] += 1
                    values[i] = None
            elif v == "":  # a spreadsheet cell that compares equal to the empty text
                values[i] = None
        return values


@dataclass(slots=True)
class _Parsed:
    """A row as read, before what depends on other rows (its ids, person row, duplicate flag)."""

    detainer: dict
    person: tuple  # birth year, sex, citizenship
    dob: date | None
    digest: str  # of person, prepare time and facility: the detainer id's hash
    msc: str | None
    code: str | None


@dataclass
class _Rows:
    """Turns the rows of one or more sheets into canonical rows, keeping what it has seen."""

    path: Path
    extract: Extract
    progress: Callable[[int], None] | None
    chunks: Callable[[Extract], None] | None = None
    chunk_rows: int = 50_000
    facilities: dict[str, dict] = field(default_factory=dict)
    #: person id → (their values (birth year, sex, citizenship), their days); a day is ((the day's ordinal,
    #: facility id), the first detainer id of that day there, None or {detainer-id hash: rows}). Tuples,
    #: not lists: the garbage collector stops looking at tuples of plain values, and there are millions.
    people: dict[str, tuple] = field(default_factory=dict)
    #: reading in chunks: rows parsed but not yet mapped, and what earlier chunks left (on disk)
    pending: list[_Parsed] = field(default_factory=list)
    state: SpilledState | None = None
    facility_cells: dict[tuple, tuple] = field(default_factory=dict)
    blank: int = 0
    footers: list[tuple[str | None, int, str]] = field(default_factory=list)
    unlinked: int = 0

    def sheet(self, name: str | None, rows: Iterator[tuple[int, list]], required: bool) -> bool:
        """Read one sheet (or the csv); False when it has no header row."""
        columns = None
        for number, cells in rows:
            if number > HEADER_SCAN:
                break
            normed = [_norm(c) if isinstance(c, str) else "" for c in cells]
            self._title(cells)
            if _PREPARED in normed and _FACILITY_HEADERS.intersection(normed):
                columns = self._columns(name, number, cells, normed)
                break
            if _PREPARED in normed:
                fail(self.path, number, None, None, "has 'Detainer Prepare Date' but no facility column "
                     "(expected 'Detention Facility Code', or 'Detention Facility' with 'Facility State')", name)
        if columns is None:
            if required:
                fail(self.path, None, None, None, f"has no header row in its first {HEADER_SCAN} rows "
                     "(expected a header row with 'Detainer Prepare Date' and a facility column)", name)
            return False
        after_footer = False
        for number, cells in rows:
            if len(cells) > 1 and _filled(cells[0]) and _filled(cells[1]):
                pass  # most rows: neither blank nor a note
            elif not any(_filled(c) for c in cells):
                self.blank += 1
                continue
            elif not any(_filled(c) for c in cells[1:]) and not _is_date(cells[0]):
                self.footers.append((name, number, str(cells[0]).strip()))
                self._title(cells)
                after_footer = True
                continue
            if after_footer and not _is_date(_cell(cells, columns.index["prepared"])):
                # below the notes: more notes (a totals line), not detainers
                self.footers.append((name, number, " | ".join(str(c).strip() for c in cells if _filled(c))))
                continue
            if len(cells) > columns.width and any(_filled(c) for c in cells[columns.width:]):
                fail(self.path, number, None, None, f"has {len(cells)} cells but the header has {columns.width} columns "
                     "(expected one cell per column; a comma in an unquoted value shifts the cells after it)", name)
            self.row(name, number, cells, columns)
        return True

    def _title(self, cells: list) -> None:
        """A title or note row that calls the file SYNTHETIC marks the whole source synthetic."""
        if not self.extract.synthetic and any(isinstance(c, str) and "SYNTHETIC" in c for c in cells):
            self.extract.synthetic = True
            self._note("The file says it is SYNTHETIC; the source and every output made from it are labelled so.")

    def _columns(self, sheet: str | None, number: int, cells: list, normed: list[str]) -> _Columns:
        position = {}
        for i, n in enumerate(normed):
            position.setdefault(n, i)
        index, header = {}, {}
        for key, variants in _NORMS.items():
            found = next((v for v in variants if v in position), None)
            index[key] = None if found is None else position[found]
            header[key] = None if found is None else str(cells[position[found]]).strip()
            if found is not None and found != variants[0]:
                self._note(f"{header[key]} read as {MEANING.get(key, key)} (other releases call it "
                           f"{COLUMNS[key][0]}).")
        if index["facility_code"] is None and (index["facility"] is None or index["state"] is None):
            fail(self.path, number, None, None, "has no 'Detention Facility Code' column and no "
                 "'Detention Facility' with 'Facility State' (expected a way to tell facilities apart)", sheet)
        where = f"row {number}" + (f" of sheet {sheet!r}" if sheet else "")
        titles = f"; {number - 1} title row{'' if number == 2 else 's'} above it skipped" if number > 1 else ""
        self._note(f"Header found on {where}{titles}.")
        missing = [COLUMNS[k][0] for k in COLUMNS if index[k] is None]
        if missing:
            self._note(f"Columns this release does not have: {', '.join(missing)}.")
        if index["identifier"] is None:
            self._note("Without an identifier column every detainer gets its own person ('lesa-row:…'): "
                       "people cannot be linked across detainers.")
        if index["lift_date"] is None:
            self._note("Without a 'Detainer Lift Date' column, lifted_on is empty: outcomes come from "
                       "the lift reason alone and lifted detainers have no end date.")
        return _Columns(index, header, len(cells))

    def _note(self, text: str) -> None:
        if text not in self.extract.notes:
            self.extract.notes.append(text)

    def row(self, sheet: str | None, number: int, cells: list, columns: _Columns) -> None:
        """Map one data row onto a facility, a person, a detainer and (maybe) a charge."""
        parsed = self._parse(sheet, number, cells, columns)
        if self.chunks is None:
            self._map(parsed)
            return
        self.pending.append(parsed)
        if len(self.pending) >= self.chunk_rows:
            self._map_pending()
            self.chunks(self.extract)
            self.extract.rows = {}

    def _parse(self, sheet: str | None, number: int, cells: list, columns: _Columns) -> _Parsed:
        """Read one row's cells; nothing here depends on other rows (but facilities, which are few)."""
        ex, quality, idx, head = self.extract, self.extract.quality, columns.index, columns.header
        redacted: list[str] = []
        (raw, facility_code, facility_name, city, state, identifier, gender, citizenship, birth_date, birth,
         criminality, level, form, lift_date, lift_reason, msc, msc_code) = columns.take(cells, redacted, quality)
        where = {"source_row": number, "sheet": sheet}

        try:
            prepared = parse_datetime(raw)
        except (ValueError, TypeError, OverflowError):
            prepared = None
        if prepared is None:
            what = "is withheld" if head["prepared"] in redacted else (
                "is empty" if raw is None else "is not a date")
            fail(self.path, number, head["prepared"], raw,
                 f"{what} (expected a date: an Excel date, YYYY-MM-DD or MM/DD/YYYY)", sheet)

        facility_id, facility = self._facility((facility_code, facility_name, city, state), head, number, sheet,
                                               quality)
        if facility_id not in self.facilities:
            self.facilities[facility_id] = facility
            ex.add("facilities.csv", {**facility, **where})
        elif facility["name"] != self.facilities[facility_id]["name"]:
            quality["facilities: same code, different name"] += 1

        sex, odd = sex_code(gender)
        if odd:
            quality[f"{head['gender']}: not Male or Female"] += 1
        citizenship = country_name(citizenship)
        dob = self._optional(birth_date, parse_date, head["birth_date"], "not a date", quality)
        year = self._optional(birth, birth_year, head["birth_year"], "not a year", quality)
        if year is None and dob is not None and idx["birth_year"] is None:
            year = dob.year
        identifier = clean_text(identifier)
        moment = prepared.isoformat()
        if identifier is not None:
            person_id = f"lesa:{identifier}"
        else:
            self.unlinked += 1
            person_id = "lesa-row:" + stable_hash(moment, facility_id, sex, year, citizenship)

        lifted_on = self._optional(lift_date, parse_date, head["lift_date"], "not a date", quality)
        level = self._optional(level, threat_level, head["threat_level"], "not 1, 2 or 3", quality)
        lift_reason = clean_text(lift_reason)
        form = form_of(form)
        criminality = clean_text(criminality)
        msc = clean_text(msc)
        code, padded = charge_code(msc_code)
        if msc is not None:
            if padded:
                quality[f"{head['msc_code']}: stored as a number, zero-padded to 4 digits"] += 1
        elif code is not None:
            quality[f"{head['msc_code']}: code without a conviction text (no charge made)"] += 1
        detainer = {
            "detainer_id": None, "person_id": person_id, "facility_id": facility_id,
            "lodged_on": prepared.date(), "booking_id": None, "form": form, "lifted_on": lifted_on,
            "lift_reason": lift_reason, "outcome_claimed": None, "criminality": criminality,
            "threat_level": level, "redacted": ",".join(sorted(set(redacted))) or None,
            "duplicate_of": None, **where}
        return _Parsed(detainer, (year, sex, citizenship), dob, stable_hash(person_id, moment, facility_id),
                       msc, code)

    def _map(self, p: _Parsed) -> None:
        """What depends on the rows before: the person given once, likely duplicates, numbered ids."""
        ex, quality = self.extract, self.extract.quality
        row = p.detainer
        person_id, where = row["person_id"], {"source_row": row["source_row"], "sheet": row["sheet"]}
        record = self.people.get(person_id)
        if record is None:
            record = (p.person, ())
            year, sex, citizenship = p.person
            ex.add("people.csv", {"person_id": person_id, "birth_year": year, "sex": sex,
                                  "citizenship": citizenship, "name": None, "date_of_birth": p.dob, **where})
        else:
            for label, was, now in zip(("birth year", "sex", "citizenship"), record[0], p.person):
                if was is not None and now is not None and was != now:
                    quality[f"people: same identifier, different {label}"] += 1
        detainer_id, duplicate_of, days = self._detainer_id(record[1], row["lodged_on"].toordinal(),
                                                            row["facility_id"], p.digest, quality)
        if days is not record[1]:
            self.people[person_id] = (record[0], days)
        row["detainer_id"], row["duplicate_of"] = detainer_id, duplicate_of
        ex.add("detainers.csv", row)
        if p.msc is not None:
            ex.add("charges.csv", {
                "charge_id": f"{detainer_id}:msc", "booking_id": None, "detainer_id": detainer_id,
                "description": p.msc, "code": p.code, "level": None, "stage": "convicted", "category": None,
                **where})
        ex.records += 1
        if self.progress is not None and ex.records % PROGRESS_EVERY == 0:
            self.progress(ex.records)

    def _map_pending(self) -> None:
        """Map the rows read since the last chunk, with what earlier chunks left in the spilled state:
        the records of the chunk's people are all `_map` would have seen of them in a whole-file read."""
        pending, state = self.pending, self.state
        self.people = state.get("people", {p.detainer["person_id"] for p in pending})
        for p in pending:
            self._map(p)
        state.put("people", self.people.items())
        self.people = {}
        pending.clear()

    def _facility(self, cells: tuple, head, number, sheet, quality) -> tuple[str, dict]:
        """The facility of a row's four facility cells (code, name, city, state), made once per distinct cells."""
        known = self.facility_cells.get(cells)
        if known is None:
            known = self.facility_cells[cells] = _facility_of(*cells)
        facility_id, facility, bad_state = known
        if bad_state:
            quality[f"{head['state']}: not a U.S. state"] += 1
        if facility_id is None:
            name, state_text = clean_text(cells[1]), clean_text(cells[3])
            if name is not None:  # a name without a code is placed by its state: say what is wrong with that
                what = "is empty" if state_text is None else "is not a U.S. state"
                fail(self.path, number, head["state"] or COLUMNS["state"][0], state_text,
                     f"{what} (expected the state of {name!r}, which has no facility code: a state name such "
                     "as NORTH CAROLINA, or a postal code)", sheet)
            column = head["facility_code"] or head["facility"]
            fail(self.path, number, column, None, f"is empty ({_FACILITY_EXPECTED})", sheet)
        if facility["name"] is None:
            quality[f"{head['facility'] or 'Detention Facility'}: blank, code used as the name"] += 1
            facility = {**facility, "name": facility["code"]}
        return facility_id, facility

    @staticmethod
    def _optional(value, parse, column, problem, quality):
        """An optional cell: the parsed value, or None counted as '<column>: <problem>'."""
        if value is None:
            return None
        try:
            return parse(value)
        except (ValueError, TypeError, OverflowError):
            quality[f"{column}: {problem}"] += 1
            return None

    @staticmethod
    def _detainer_id(days, day: int, facility_id: str, digest: str, quality) -> tuple[str, str | None, tuple | dict]:
        """The id of a person's detainer, the earlier one it likely duplicates (same day and facility),
        and the person's days with this one.

        The id is 'lesa:<hash of person, prepare time, facility>'; a second row with the same hash gets
        '-2', and so on. Such rows share a day, so the counts are kept with the day, only once it has a
        second row (the first row's id is its hash: nothing came before it that day). A person's days
        are a tuple of (key, first id, counts) while they are few, a dict by key past _FEW_DAYS (an
        identifier a release repeats on every row must not make each row look through all the others).
        """
        base = f"lesa:{digest}"
        key = (day, facility_id)
        if type(days) is dict:
            entry = days.get(key)
        else:
            for entry in days:
                if entry[0] == key:
                    break
            else:
                entry = None
        if entry is None:
            entry = (key, base, None)
            if type(days) is dict:
                days[key] = entry
            elif len(days) < _FEW_DAYS:
                days = (*days, entry)
            else:
                days = {e[0]: e for e in (*days, entry)}
            return base, None, days
        quality["detainers: likely duplicate"] += 1
        first, counts = entry[1], entry[2]
        if counts is None:
            counts = {first.removeprefix("lesa:"): 1}
            entry = (key, first, counts)
            if type(days) is dict:
                days[key] = entry
            else:
                days = tuple(entry if e[0] == key else e for e in days)
        seen = counts.get(digest, 0) + 1
        counts[digest] = seen
        if seen == 1:
            return base, first, days
        quality["detainers: same person, facility and prepare time (id numbered)"] += 1
        return f"{base}-{seen}", first, days

    def finish(self) -> None:
        """Notes about what was skipped, once the whole file is read."""
        ex = self.extract
        if self.blank:
            ex.notes.append(f"{self.blank} blank row{'' if self.blank == 1 else 's'} skipped.")
        if self.footers:
            several = bool(ex.sheet and ", " in ex.sheet)
            shown = "; ".join(f"row {n}{f' of {s!r}' if several else ''}: {t[:80]!r}"
                              for s, n, t in self.footers[:5])
            more = f" and {len(self.footers) - 5} more" if len(self.footers) > 5 else ""
            ex.notes.append(f"{len(self.footers)} note rows (footers) skipped: {shown}{more}.")
        if self.unlinked and not any(n.startswith("Without an identifier") for n in ex.notes):
            ex.notes.append(f"{self.unlinked} detainers have no identifier (blank or withheld): each got "
                            "its own person ('lesa-row:…') and cannot be linked to other detainers.")


def _facility_of(code, name, city, state_text) -> tuple[str | None, dict, bool]:
    """Facility id and row from the four facility cells; the flag says the state was not understood."""
    code, name, city, state_text = (clean_text(v) for v in (code, name, city, state_text))
    state = state_code(state_text)
    facility_id = None
    if code is not None:
        code = code.upper()
        facility_id = f"ice-fac:{code}"
    elif name is not None and state is not None:
        facility_id = "ice-fac:" + "-".join(p for p in (slug(_ascii(name)), slug(_ascii(city or "")), state) if p)
    facility = {"facility_id": facility_id, "name": name, "jurisdiction_id": None, "kind": None,
                "city": city, "state": state, "code": code}
    return facility_id, facility, state_text is not None and state is None


def _cell(cells: list, i: int | None):
    return cells[i] if i is not None and i < len(cells) else None


def _is_date(value) -> bool:
    if isinstance(value, (date, datetime)):
        return True
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        return parse_date(value) is not None
    except ValueError:
        return False
