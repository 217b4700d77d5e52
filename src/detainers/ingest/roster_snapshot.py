"""A daily jail roster snapshot (csv or json) for one facility → people, bookings, charges, detainers.

A snapshot lists who was in the jail when it was taken. It carries no release dates and
no lodge dates: a booking that is missing from a later snapshot was released between the
two (the loader sets that), and a hold first seen in a snapshot was lodged on or before it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from detainers.errors import InputError
from detainers.ingest.base import Extract, IngestOptions, clean_text, csv_rows, fail, parse_date

KIND = "roster-snapshot"
TITLE = "Jail roster snapshot"
WHERE_FROM = (
    "Many sheriffs publish an online inmate roster (\"who's in jail\") that lists everyone in "
    "custody with booking number, booking date, charges and holds; some offer it as a CSV or "
    "JSON download, others are saved by a scheduled scraper. Each file is one facility at one "
    "moment, so the moment must be given with --as-of, and the facility and its jurisdiction "
    "with --facility and --jurisdiction. A series of daily snapshots shows when bookings end "
    "and when immigration holds first appear."
)

#: Column → header names that mean it (compared lower-case, punctuation and spaces folded to "_").
HEADERS: dict[str, tuple[str, ...]] = {
    "booking_id": ("booking_id", "booking_number", "booking_no", "booking", "booking_num", "bookingnumber",
                   "book_id", "book_number", "booking_nbr"),
    "person_id": ("person_id", "inmate_id", "so_number", "so_no", "so", "sonumber", "inmate_number",
                  "inmate_no", "personid", "inmateid", "jacket_number", "id_number"),
    "name": ("name", "inmate_name", "full_name", "person_name", "inmate"),
    "booking_date": ("booking_date", "booked", "booked_on", "booking_datetime", "book_date", "date_booked",
                     "booked_date", "booking_time", "booked_at"),
    "charges": ("charges", "charge", "charge_description", "charge_descriptions", "offense", "offenses"),
    "holds": ("holds", "hold", "holds_detainers", "hold_reason", "holding_agency", "detainers", "detainer"),
}
REQUIRED = ("booking_id", "person_id", "booking_date")
HEADER_SEARCH_ROWS = 20

#: A hold naming ICE, immigration, DHS or the detainer form means an immigration detainer.
IMMIGRATION = re.compile(r"\b(ICE|IMMIGRATION|DHS|HOMELAND SECURITY|I ?247[ADNX]?)\b")
#: A "charge" line that is the immigration detainer itself ("ICE DETAINER", "IMMIGRATION HOLD").
DETAINER_LINE = re.compile(r"\b(ICE|IMMIGRATION|DHS)\b.*\b(HOLD|DETAINER)\b|\bI ?247[ADNX]?\b")
_FORM = re.compile(r"\bI ?247([ADNX]?)\b")

LODGED_NOTE = "lodged_on is the first snapshot that shows the hold, not the lodge date."


def read(path: Path, options: IngestOptions, progress: Callable[[int], None] | None = None) -> Extract:
    """Read one roster snapshot into canonical rows; `extra["snapshot"]` lists the bookings it shows.

    `progress`, if given, is called with the number of records read so far.
    """
    path = Path(path)
    if options.as_of is None:
        raise InputError("--as-of is required: the date and time of this snapshot")
    if not options.facility_id:
        raise InputError("--facility is required: the facility this roster lists")
    if not options.jurisdiction_id:
        raise InputError("--jurisdiction is required: the jurisdiction that runs the facility")
    if not path.is_file():
        fail(path, None, None, None, "does not exist (expected a roster snapshot as .csv or .json)")
    records, headers = _read_json(path) if path.suffix.lower() == ".json" else _read_csv(path)
    extract = Extract(kind=KIND, path=path)
    bookings = _merge(path, records, headers, options, extract, progress)
    _emit(bookings, options, extract)
    return extract


# --- reading: rows as {column: raw value}, with their row numbers --------------------------


def header_key(text) -> str:
    """'Booking #' → 'booking', 'SO Number' → 'so_number', 'bookingDate' → 'booking_date'."""
    value = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", clean_text(text) or "")
    return re.sub(r"[^a-z0-9]+", "_", value.lower().replace("#", "")).strip("_")


def _match_columns(names: list[str]) -> dict[str, int]:
    keys = [header_key(n) for n in names]
    columns: dict[str, int] = {}
    for column, aliases in HEADERS.items():
        for alias in aliases:
            if alias in keys and keys.index(alias) not in columns.values():
                columns[column] = keys.index(alias)
                break
    return columns


def _missing(path: Path, found: list[str], columns: dict[str, int]) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        wanted = "; ".join(f"{c} (e.g. {', '.join(HEADERS[c][:3])})" for c in missing)
        fail(path, None, None, None,
             f"has no column for {wanted}; columns found: {', '.join(found) or 'none'}")


def _decode(path: Path) -> str:
    """UTF-8 (with or without BOM); files saved by Excel on Windows are cp1252."""
    raw = path.read_bytes()
    if b"\0" in raw:
        fail(path, raw[:raw.index(b"\0")].count(b"\n") + 1, None, None,
             "contains a NUL byte (expected plain text; a file saved as UTF-16 or a binary file looks like this)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _read_csv(path: Path) -> tuple[list[tuple[int, dict]], dict[str, str]]:
    """The records as (row number, {column: raw value}), and each column's header as the file writes it."""
    text = _decode(path)
    rows = csv_rows(path, text)
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = _match_columns(cells)
        if all(c in columns for c in REQUIRED):
            break
    else:
        first = next((r for r in rows if any(c.strip() for c in r)), [])
        _missing(path, [c.strip() for c in first if c.strip()], _match_columns(first))
    out = []
    for number, cells in enumerate(rows[index + 1:], start=index + 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(rows[index]) and any(c.strip() for c in cells[len(rows[index]):]):
            fail(path, number, None, None, f"has {len(cells)} cells but the header has {len(rows[index])} columns "
                 "(expected one cell per column; a comma in an unquoted value shifts the cells after it)")
        out.append((number, {name: (cells[i] if i < len(cells) else None) for name, i in columns.items()}))
    return out, {name: rows[index][i].strip() for name, i in columns.items()}


def _read_json(path: Path) -> tuple[list[tuple[int, dict]], dict[str, str]]:
    try:
        data = json.loads(_decode(path))
    except json.JSONDecodeError as exc:
        fail(path, exc.lineno, None, None, f"is not valid JSON ({exc.msg} at column {exc.colno})")
    except ValueError as exc:  # a number of more than 4,300 digits
        fail(path, None, None, None, f"is not valid JSON ({' '.join(str(exc).split(';')[0].split())})")
    except RecursionError:
        fail(path, None, None, None, "is not valid JSON (nested too deeply; expected a list of bookings)")
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list) and all(isinstance(x, dict) for x in v)]
        if len(lists) != 1:
            fail(path, None, None, None,
                 "holds no single list of bookings (expected a list of objects, or an object with one such list)")
        data = lists[0]
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        fail(path, None, None, None, "is not a list of objects (expected one object per booking)")
    keys: list[str] = []
    for item in data:
        keys.extend(k for k in item if k not in keys)
    columns = _match_columns(keys)
    _missing(path, keys, columns)
    records = [(n, {name: item.get(keys[i]) for name, i in columns.items()}) for n, item in enumerate(data, start=1)]
    return records, {name: keys[i] for name, i in columns.items()}


# --- merging rows into bookings ------------------------------------------------------------


def split_list(value) -> list[str]:
    """Charges or holds as a list: a JSON list, a ';'-separated text, objects → their text; blanks dropped."""
    if value is None:
        return []
    if isinstance(value, list):  # lists in lists, flattened without recursion (JSON may nest deeply)
        items: list[str] = []
        pending = list(reversed(value))
        while pending:
            item = pending.pop()
            if isinstance(item, list):
                pending.extend(reversed(item))
            else:
                items.extend(split_list(item))
        return items
    if isinstance(value, dict):
        return split_list(object_text(value))
    text = clean_text(value)
    if text is None:
        return []
    return [" ".join(part.split()) for part in text.split(";") if part.strip()]


_DESCRIPTION_KEYS = ("description", "charge_description", "charge", "offense", "offense_description", "text")


def object_text(item: dict) -> str | None:
    """The text of a JSON charge or hold object: its description ({"description": "THEFT", "code": …}),
    else all its values ({"agency": "DHS/ICE", "type": "I-247D"} → "DHS/ICE I-247D")."""
    lowered = {header_key(k): v for k, v in item.items()}
    for key in _DESCRIPTION_KEYS:
        if clean_text(lowered.get(key)):
            return str(lowered[key]).replace(";", ",")
    parts = [clean_text(v) for v in item.values() if not isinstance(v, (list, dict))]
    return " ".join(p for p in parts if p).replace(";", ",") or None


def is_immigration_hold(text: str) -> bool:
    """True when a hold names ICE, immigration, DHS or Form I-247: 'ICE', 'IMMIGRATION DETAINER', 'I-247A'."""
    return bool(IMMIGRATION.search(_fold(text)))


def is_detainer_line(text: str) -> bool:
    """True for a charge line that is the immigration detainer itself ('ICE DETAINER', 'IMMIGRATION HOLD')."""
    return bool(DETAINER_LINE.search(_fold(text)))


def detainer_form(texts: list[str]) -> str | None:
    """'I-247A' when a hold names the form, else None."""
    for text in texts:
        m = _FORM.search(_fold(text))
        if m:
            return f"I-247{m.group(1)}"
    return None


def _day(value):
    return value.date() if isinstance(value, datetime) else value


def _fold(text: str) -> str:
    """Upper case, dots dropped ('I.C.E.' → 'ICE'), dashes as spaces ('I-247' → 'I 247')."""
    return re.sub(r"[-_/]", " ", text.upper().replace(".", ""))


def _merge(path: Path, records: list[tuple[int, dict]], headers: dict[str, str], options: IngestOptions,
           extract: Extract, progress) -> dict[str, dict]:
    """One booking per booking id: rows that repeat an id (one row per charge) add charges and holds.

    Errors name a column by its header in the file ("Booking Date"), as the user sees it.
    """
    booking_id_column, person_column, date_column = (headers.get(c) or c for c in REQUIRED)
    snapshot_day = _day(options.as_of)
    bookings: dict[str, dict] = {}
    last: dict | None = None
    continued = repeated = 0
    for done, (row, values) in enumerate(records, start=1):
        if progress is not None and done % 1000 == 0:
            progress(done)
        booking_id = clean_text(values.get("booking_id"))
        person_id = clean_text(values.get("person_id"))
        raw_date = values.get("booking_date")
        charges = split_list(values.get("charges"))
        holds = split_list(values.get("holds"))
        if booking_id is None:
            if last is not None and person_id is None and clean_text(raw_date) is None and (charges or holds):
                continued += 1  # a charge row under its booking row, the id not repeated
                _add_items(last, charges, holds)
                continue
            fail(path, row, booking_id_column, values.get("booking_id"), "is empty (expected the booking number)")
        if person_id is None:
            fail(path, row, person_column, None,
                 "is empty (expected the person's id, e.g. the inmate or SO number)")
        try:
            booked_on = parse_date(raw_date)
        except ValueError:
            fail(path, row, date_column, raw_date, "is not a date (expected YYYY-MM-DD or MM/DD/YYYY)")
        if booked_on is None:
            fail(path, row, date_column, None, "is empty (expected the booking date, e.g. 2024-03-05)")
        if booked_on > snapshot_day:
            fail(path, row, date_column, raw_date,
                 f"is after the snapshot date {snapshot_day.isoformat()} (check --as-of)")
        name = clean_text(values.get("name"))
        booking = bookings.get(booking_id)
        if booking is None:
            booking = {"id": booking_id, "person": person_id, "booked_on": booked_on, "name": name, "row": row,
                       "charges": [], "holds": []}
            bookings[booking_id] = booking
        else:
            repeated += 1
            if booking["person"] != person_id:
                fail(path, row, person_column, person_id,
                     f"differs from row {booking['row']} for the same booking {booking_id} "
                     f"(expected {booking['person']!r})")
            if booking["booked_on"] != booked_on:
                fail(path, row, date_column, raw_date,
                     f"differs from row {booking['row']} for the same booking {booking_id} "
                     f"(expected {booking['booked_on'].isoformat()})")
            booking["name"] = booking["name"] or name
        _add_items(booking, charges, holds, extract)
        last = booking
    extract.records = len(records)
    if progress is not None:
        progress(len(records))
    if repeated:
        extract.notes.append(f"{repeated} rows repeated a booking id (one row per charge); merged into their booking.")
    if continued:
        extract.notes.append(f"{continued} rows without a booking id were read as more charges of the booking above.")
    return bookings


def _add_items(booking: dict, charges: list[str], holds: list[str], extract: Extract | None = None) -> None:
    # Within one row a list is taken as given (two counts of one charge stay two); across rows
    # of one booking a repeated charge is the same charge printed again (one row per hold).
    known = set(booking["charges"])
    for charge in charges:
        if charge in known:
            if extract is not None:
                extract.quality["charges: same charge on two rows of one booking (kept once)"] += 1
            continue
        booking["charges"].append(charge)
    for hold in holds:
        if hold not in booking["holds"]:
            booking["holds"].append(hold)


# --- canonical rows -------------------------------------------------------------------------


def _emit(bookings: dict[str, dict], options: IngestOptions, extract: Extract) -> None:
    facility_id, jurisdiction_id = options.facility_id, options.jurisdiction_id
    lodged_on = _day(options.as_of)
    extract.add("facilities.csv", {
        "facility_id": facility_id, "name": facility_id, "jurisdiction_id": jurisdiction_id,
        "kind": "county_jail", "city": None, "state": options.state, "code": None, "source_row": None,
    })
    people_seen: set[str] = set()
    other_holds: dict[str, int] = {}
    for b in bookings.values():
        person_id = f"roster:{jurisdiction_id}:{b['person']}"
        booking_id = f"roster:{facility_id}:{b['id']}"
        if person_id not in people_seen:
            people_seen.add(person_id)
            extract.add("people.csv", {
                "person_id": person_id, "birth_year": None, "sex": None, "citizenship": None,
                "name": b["name"], "date_of_birth": None, "source_row": b["row"],
            })
        extract.add("bookings.csv", {
            "booking_id": booking_id, "person_id": person_id, "facility_id": facility_id,
            "booked_on": b["booked_on"], "released_on": None, "release_reason": None, "source_row": b["row"],
        })
        for n, description in enumerate(b["charges"], start=1):
            extract.add("charges.csv", {
                "charge_id": f"{booking_id}:{n}", "booking_id": booking_id, "description": description,
                "code": None, "level": None, "stage": "pending", "detainer_id": None, "source_row": b["row"],
            })
        immigration = [h for h in b["holds"] if is_immigration_hold(h)]
        for h in b["holds"]:
            if h not in immigration:
                other_holds[h] = other_holds.get(h, 0) + 1
        lines = [c for c in b["charges"] if is_detainer_line(c)]
        if lines and not immigration:
            extract.quality["holds: immigration detainer found only as a charge line"] += 1
        if immigration or lines:
            extract.add("detainers.csv", {
                "detainer_id": f"{booking_id}:hold", "person_id": person_id, "facility_id": facility_id,
                "lodged_on": lodged_on, "booking_id": booking_id, "form": detainer_form(immigration + lines),
                "lifted_on": None, "lift_reason": None, "outcome_claimed": None, "source_row": b["row"],
            })
    if extract.rows.get("detainers.csv"):
        extract.notes.append(LODGED_NOTE)
    if other_holds:
        listed = ", ".join(f"{h} ({n})" for h, n in sorted(other_holds.items()))
        extract.notes.append(f"Holds that are not immigration detainers (no detainer made): {listed}.")
    extract.extra["snapshot"] = [{
        "as_of": options.as_of,
        "facility_id": facility_id,
        "booking_ids": [f"roster:{facility_id}:{b['id']}" for b in bookings.values()],
    }]
