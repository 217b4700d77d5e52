"""ICE's list of 287(g) participating agencies (xlsx) → one roster entry per agency × model.

The list is a snapshot: it says which agreements were listed on the day it was published,
so the reader needs that day (`--as-of`). `detainers.agreements.timeline` turns entries
from many lists into the spans during which each agreement was active.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from detainers.errors import InputError
from detainers.ingest.base import Extract, IngestOptions, clean_text, fail, parse_date, state_code

KIND = "287g-roster"
TITLE = "ICE 287(g) participating agencies"
WHERE_FROM = (
    "U.S. Immigration and Customs Enforcement publishes the list of state and local law "
    "enforcement agencies that have a 287(g) agreement on its 287(g) page "
    "(https://www.ice.gov/identify-and-arrest/287g) as an Excel workbook, one row per agency "
    "and model (Jail Enforcement Model, Warrant Service Officer, Task Force Model), with the "
    "date the memorandum of agreement was signed. The list is replaced when it changes; the "
    "date of each list must be given with --as-of, and older lists survive only in archives "
    "(e.g. the Internet Archive) and FOIA releases."
)

#: Column → the header texts that name it (upper case, single spaces).
HEADERS: dict[str, tuple[str, ...]] = {
    "state": ("STATE",),
    "agency": ("LAW ENFORCEMENT AGENCY", "AGENCY", "AGENCY NAME", "PARTICIPATING AGENCY"),
    "agency_type": ("TYPE", "AGENCY TYPE"),
    "county": ("COUNTY",),
    "model": ("SUPPORT TYPE", "MODEL", "287(G) MODEL", "PROGRAM"),
    "signed": ("SIGNED", "DATE SIGNED", "SIGNED DATE", "MOA SIGNED", "SIGNED ON"),
    "moa": ("MOA", "MOA LINK", "AGREEMENT"),
}
REQUIRED = ("state", "agency", "model")
#: How many rows from the top to look for the header row in.
HEADER_SEARCH_ROWS = 30

_MODELS = (
    ("jem", ("JAIL ENFORCEMENT",)),
    ("wso", ("WARRANT SERVICE",)),
    ("tfm", ("TASK FORCE",)),
)
_MODEL_CODES = {"JEM": "jem", "WSO": "wso", "TFM": "tfm"}

_UNPLACED = "COUNTY: cannot be placed"
_NO_COUNTY = "COUNTY: none stated"
_BAD_SIGNED = "SIGNED: not a date"
_DUPLICATE = "row: same agency and model listed twice (kept the first)"


def read(path: Path, options: IngestOptions, progress: Callable[[int], None] | None = None) -> Extract:
    """Read one 287(g) list: roster entries in `extra["roster_entries"]`, the list date in `extra["list"]`.

    `progress`, if given, is called with the number of records read so far.
    """
    path = Path(path)
    if options.as_of is None:
        raise InputError("--as-of is required: the date of this list")
    list_date = options.as_of.date() if isinstance(options.as_of, datetime) else options.as_of
    sheet, rows = _read_sheet(path)
    extract = Extract(kind=KIND, path=path, sheet=sheet)
    header_index, columns = _find_header(path, sheet, rows)
    ignored = [t for i, t in enumerate(_header_text(c) for c in rows[header_index])
               if t and i not in columns.values()]
    if ignored:
        extract.notes.append(f"Columns not kept: {', '.join(ignored)}.")
    entries: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    unplaced: list[str] = []
    for offset, cells in enumerate(rows[header_index + 1:], start=1):
        row_number = header_index + 1 + offset  # as a spreadsheet shows it
        values = {name: (cells[i] if i < len(cells) else None) for name, i in columns.items()}
        if _is_blank_or_footer(cells, values):
            if any(clean_text(c) for c in cells):
                extract.notes.append(f"Row {row_number} skipped: not an agency row ({_first_text(cells)!r}).")
            continue
        extract.records += 1
        if progress is not None and extract.records % 500 == 0:
            progress(extract.records)
        entry = _entry(path, sheet, row_number, values, columns, list_date, extract)
        key = (entry["agency_key"], entry["model"])
        if key in seen:
            extract.quality[_DUPLICATE] += 1
            extract.notes.append(
                f"Row {row_number} repeats row {seen[key]} ({entry['agency']}, {entry['model']}); "
                f"kept row {seen[key]}.")
            continue
        seen[key] = row_number
        if entry["county"] is not None and entry["county_fips"] is None:
            unplaced.append(f"{entry['agency']} ({entry['state']}, county {entry['county']!r}, row {row_number})")
        entries.append(entry)
    if progress is not None:
        progress(extract.records)
    if unplaced:
        extract.notes.append(
            "County not found in the FIPS table (left unplaced, not guessed): " + "; ".join(unplaced) + ".")
    extract.extra["list"] = [{"list_date": list_date}]
    extract.extra["roster_entries"] = entries
    return extract


def _read_sheet(path: Path) -> tuple[str, list[list]]:
    """The first sheet's cells; any library failure becomes an InputError naming the file."""
    if not path.is_file():
        fail(path, None, None, None, "does not exist (expected the 287(g) list as an .xlsx file)")
    try:
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.sheet_names[0]
        # The whole grid from A1, so that row numbers and column letters match what Excel shows.
        rows = [list(r) for r in workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)]
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - calamine raises several types; all mean "unreadable"
        fail(path, None, None, None,
             f"cannot be read as a spreadsheet ({type(exc).__name__}: {exc}; expected the 287(g) list as .xlsx)")
    return sheet, rows


def _header_text(value) -> str:
    text = clean_text(value)
    return " ".join(text.upper().split()) if text else ""


def _find_header(path: Path, sheet: str, rows: list[list]) -> tuple[int, dict[str, int]]:
    """The header row (found by its content, not its position) and column name → index."""
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        texts = [_header_text(c) for c in cells]
        columns: dict[str, int] = {}
        for name, names in HEADERS.items():
            for i, text in enumerate(texts):
                if text in names and i not in columns.values():
                    columns[name] = i
                    break
        if all(name in columns for name in REQUIRED):
            return index, columns
    fail(path, None, None, None,
         "has no header row with STATE, LAW ENFORCEMENT AGENCY and SUPPORT TYPE in its first "
         f"{HEADER_SEARCH_ROWS} rows (is this ICE's 287(g) participating agencies list?)", sheet)
    raise AssertionError("unreachable")


def _first_text(cells: list) -> str:
    return next((clean_text(c) for c in cells if clean_text(c)), "")


def _is_blank_or_footer(cells: list, values: dict) -> bool:
    """Blank rows, and notes rows below the table (text in one cell, no agency and no model)."""
    filled = [c for c in cells if clean_text(c)]
    if not filled:
        return True
    return len(filled) == 1 and not clean_text(values.get("agency")) and not clean_text(values.get("model"))


def _entry(path, sheet, row, values, columns, list_date: date, extract: Extract) -> dict:
    def col(name: str) -> str:
        return _column_letter(columns[name])

    state = state_code(values["state"])
    if state is None:
        fail(path, row, f"STATE ({col('state')})", values["state"],
             "is not a U.S. state (expected a state name such as NORTH CAROLINA, or a postal code)", sheet)
    agency = agency_name(values["agency"])
    if agency is None:
        fail(path, row, f"LAW ENFORCEMENT AGENCY ({col('agency')})", None,
             "is empty (expected the agency's name)", sheet)
    model = model_code(values["model"])
    if model is None:
        fail(path, row, f"SUPPORT TYPE ({col('model')})", values["model"],
             "is not a 287(g) model (expected Jail Enforcement Model, Warrant Service Officer or Task Force Model)",
             sheet)
    signed_on = None
    if "signed" in columns:
        try:
            signed_on = signed_date(values["signed"])
        except ValueError:
            extract.quality[_BAD_SIGNED] += 1
            extract.notes.append(
                f"Row {row}, column SIGNED: {clean_text(values['signed'])!r} is not a date; left empty.")
    if "county" in columns:
        county = agency_name(values["county"])
    else:
        county = county_from_agency(agency)
    fips = county_fips(county, state)
    if county is None:
        extract.quality[_NO_COUNTY] += 1
    elif fips is None:
        extract.quality[_UNPLACED] += 1
    return {
        "list_date": list_date,
        "state": state,
        "agency": agency,
        "agency_key": agency_key(state, agency),
        "agency_type": clean_text(values.get("agency_type")),
        "county": county,
        "county_fips": fips,
        "model": model,
        "signed_on": signed_on,
        "moa": clean_text(values.get("moa")),
        "source_row": row,
    }


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- cleaning: small pure functions -------------------------------------------------------


def agency_name(value) -> str | None:
    """Padding stripped, inner whitespace collapsed: "Bay County  Sheriff's Office " → "Bay County Sheriff's Office"."""
    text = clean_text(value)
    return " ".join(text.split()) if text else None


def model_code(value) -> str | None:
    """'Jail Enforcement Model ' → 'jem', 'Warrant Service Officer' → 'wso', 'Task Force Model' → 'tfm'; else None."""
    text = clean_text(value)
    if text is None:
        return None
    upper = " ".join(re.sub(r"[^A-Z0-9]+", " ", text.upper()).split())
    if upper in _MODEL_CODES:
        return _MODEL_CODES[upper]
    for code, phrases in _MODELS:
        if any(p in upper for p in phrases):
            return code
    return None


_EXCEL_EPOCH = date(1899, 12, 30)
_TEXT_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%d-%b-%Y", "%d-%b-%y", "%m/%d/%y")


def signed_date(value) -> date | None:
    """SIGNED as a datetime, an Excel serial number, ISO or US text, or 'May 17, 2020'.

    Raises ValueError for anything else, and for a date outside the years 1900–2100 (serial 1 is 1899-12-31).
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # A cell formatted as a number holds Excel's serial day count.
        if 1 <= value < 100000:
            return _in_bounds(_EXCEL_EPOCH + timedelta(days=int(value)), value)
        raise ValueError(str(value))
    try:
        return parse_date(value)
    except ValueError:
        text = " ".join(str(value).replace(".", " ").split())
        for fmt in _TEXT_DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            return _in_bounds(parsed, value)
        raise


def _in_bounds(day: date, value) -> date:
    if not 1900 <= day.year <= 2100:
        raise ValueError(str(value))
    return day


_REPLACEMENTS = (
    # Order matters: whole phrases first, then single words.
    (r"\bsheriff s\b", "sheriff"),
    (r"\bsheriffs\b", "sheriff"),
    (r"\bsheriff (office|department|dept)\b", "sheriff"),
    (r"\bso\b", "sheriff"),
    (r"\bco\b", "county"),
    (r"\bcnty\b", "county"),
    (r"\bdept\b", "department"),
    (r"\bpolice department\b", "police"),
    (r"\bpd\b", "police"),
    (r"\bst\b", "saint"),
    (r"\bft\b", "fort"),
    (r"\bmt\b", "mount"),
    (r"\band\b", " "),
    (r"^the\b", ""),
    (r"^office of (the )?sheriff (.+)$", r"\2 sheriff"),  # "Office of the Sheriff, Cobb County"
)


def agency_key(state: str, agency: str) -> str:
    """A key for the same agency across lists: state + casefolded name, sheriff's office spellings unified,
    punctuation removed. "Bay County Sheriff's Office" (FL) → "FL:bay county sheriff"."""
    text = agency.casefold().replace("&", " and ")
    text = re.sub(r"[’'`.]", "", text)  # "Sheriff's" → "sheriffs", "S.O." → "so"
    text = re.sub(r"[^a-z0-9]+", " ", text)
    text = " ".join(text.split())
    for pattern, replacement in _REPLACEMENTS:
        text = re.sub(pattern, replacement, text)
        text = " ".join(text.split())
    return f"{state}:{text}"


_COUNTY_IN_NAME = re.compile(r"^(.*?)\s+(County|Parish)\b", re.IGNORECASE)


def county_from_agency(agency: str) -> str | None:
    """'Etowah County Sheriff's Office' → 'Etowah County'; 'Office of the Sheriff, Nassau County' → 'Nassau County';
    None when the name states no county (police departments, state agencies)."""
    m = _COUNTY_IN_NAME.search(agency)
    if not m:
        return None
    before = re.split(r",|\bof\b|\bthe\b|\bfor\b", m.group(1), flags=re.IGNORECASE)[-1].strip(" -")
    if not before:
        return None
    return f"{before} {m.group(2).title()}"


_FIPS = None


def county_fips(county: str | None, state: str) -> str | None:
    """The county's five-digit FIPS code, or None when the name is not a county of that state (typos stay unplaced)."""
    global _FIPS
    if county is None:
        return None
    if _FIPS is None:
        import addfips

        _FIPS = addfips.AddFIPS()
    try:
        return _FIPS.get_county_fips(county, state=state)
    except (KeyError, ValueError):
        return None
