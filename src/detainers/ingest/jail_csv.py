"""Tidy jail exports (one row per charge, or per booking) read through a TOML mapping file.

Jail management systems export bookings in as many layouts as there are vendors. The user
writes a small mapping file naming which column holds what (`[columns]`), what the jail's
words mean (`[values.release_reason]`, `[values.stage]`), how dates are written (`[dates]`),
the facility (`[facility]`) and how the immigration hold shows (`[detainer]`). See
docs/sources/jail-csv.md for a worked example.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from detainers.errors import InputError, Problem
from detainers.ingest import dispositions
from detainers.ingest.base import Extract, IngestOptions, clean_text, csv_rows, fail, parse_date, read_text_file
from detainers.ingest.jail_report import (
    charge_level,
    charge_stage,
    check_lift_reason,
    facility_row,
    is_detainer_line,
    looks_texan,
    not_before,
    require_jurisdiction,
)
from detainers.model import ReleaseReason, Stage, values

KIND = "jail-csv"
TITLE = "Jail export (CSV) read through a mapping file"
WHERE_FROM = (
    "Sheriffs' offices and county IT departments export booking and charge tables from their jail "
    "management systems (one row per charge or per booking) and release them in answer to public "
    "records requests, or publish them as open data. Layouts differ by vendor and county, so a short "
    "TOML mapping file says which column holds the booking number, dates, release, charges and the "
    "immigration hold."
)

COLUMN_KEYS = (
    "booking_id", "person_id", "name", "date_of_birth", "sex", "citizenship", "booked_on", "released_on",
    "release_reason", "disposition", "disposition_date", "charge_code", "charge_text", "charge_level",
    "charge_stage", "sentence", "hold", "detainer_lodged_on",
)
REQUIRED_KEYS = ("booking_id", "booked_on")
_SECTIONS = {
    "columns": COLUMN_KEYS,
    "values": ("release_reason", "stage"),
    "dates": ("format",),
    "facility": ("id", "name"),
    "detainer": ("hold_values", "charge_codes", "charge_text"),
}
#: Hold-column values that mean "no hold" when the mapping gives no `hold_values`.
_NO_HOLD = frozenset({"n", "no", "false", "0", "none", "-"})
#: Booking-level columns: every row of one booking must agree on them.
_BOOKING_KEYS = ("person_id", "booked_on", "released_on", "release_reason")
_PERSON_KEYS = ("name", "date_of_birth", "sex", "citizenship")


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file."""

    path: Path
    columns: dict[str, str]
    release_values: dict[str, str] = field(default_factory=dict)
    stage_values: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    facility_id: str | None = None
    facility_name: str | None = None
    hold_values: frozenset[str] | None = None
    charge_codes: frozenset[str] = frozenset({"4200"})
    charge_text: bool = True


# ---------------------------------------------------------------- the mapping file


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; an InputError names the file and every bad key."""
    name = str(path)
    try:
        data = tomllib.loads(Path(path).read_text("utf-8-sig"))
    except OSError as exc:
        raise InputError(Problem(name, None, None, None, f"cannot be read ({exc.strerror})")) from exc
    except UnicodeDecodeError:
        raise InputError(Problem(name, None, None, None, "is not UTF-8 text (save the file as UTF-8)")) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Problem(name, None, None, None, f"is not valid TOML ({exc})")) from exc
    problems: list[Problem] = []

    def bad(key: str, value, expected: str) -> None:
        problems.append(Problem(name, None, key, None if value is None else str(value), expected))

    for section, content in data.items():
        if section not in _SECTIONS:
            bad(section, None, f"is not a section of a jail-csv mapping (expected: {', '.join(_SECTIONS)})")
        elif not isinstance(content, dict):
            bad(section, content, "should be a table, e.g. [" + section + "]")
        else:
            for key in content:
                if key not in _SECTIONS[section]:
                    bad(f"{section}.{key}", None,
                        f"is not a known key (expected one of: {', '.join(_SECTIONS[section])})")
    columns = _strings(data.get("columns"), "columns", bad)
    for key in REQUIRED_KEYS:
        if key not in columns:
            bad(f"columns.{key}", None, "is missing (expected the name of the file's column holding it)")
    if not {"hold", "charge_code", "charge_text"} & set(columns):
        bad("columns", None, "names none of hold, charge_code, charge_text (expected at least one: "
            "without them no detainer can be found)")
    vals = data.get("values") if isinstance(data.get("values"), dict) else {}
    release_values = _vocabulary(vals.get("release_reason"), "values.release_reason", values(ReleaseReason), bad)
    stage_values = _vocabulary(vals.get("stage"), "values.stage", values(Stage), bad)
    dates = data.get("dates") if isinstance(data.get("dates"), dict) else {}
    date_format = dates.get("format")
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        bad("dates.format", date_format, 'is not a date format (expected e.g. "%m/%d/%Y")')
    facility = _strings(data.get("facility"), "facility", bad)
    detainer = data.get("detainer") if isinstance(data.get("detainer"), dict) else {}
    hold_values = _string_list(detainer.get("hold_values"), "detainer.hold_values", bad)
    codes = _string_list(detainer.get("charge_codes"), "detainer.charge_codes", bad)
    text_rule = detainer.get("charge_text", True)
    if not isinstance(text_rule, bool):
        bad("detainer.charge_text", text_rule, "is not true or false")
    if problems:
        raise InputError(problems)
    return Mapping(
        Path(path), columns, release_values, stage_values, date_format, facility.get("id"), facility.get("name"),
        None if hold_values is None else frozenset(dispositions.normalize(v) for v in hold_values),
        frozenset({"4200"}) if codes is None else frozenset(c.strip() for c in codes), bool(text_rule),
    )


def _strings(content, section: str, bad) -> dict[str, str]:
    if not isinstance(content, dict):
        return {}
    out = {}
    for key, value in content.items():
        if isinstance(value, str) and value.strip():
            out[key] = value.strip()
        else:
            bad(f"{section}.{key}", value, 'is not a text (expected e.g. "Booking Number")')
    return out


def _string_list(value, key: str, bad) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        bad(key, value, 'is not a list of texts (expected e.g. ["ICE", "IMMIGRATION"])')
        return None
    return value


def _vocabulary(content, section: str, allowed: tuple[str, ...], bad) -> dict[str, str]:
    if content is None:
        return {}
    if not isinstance(content, dict):
        bad(section, content, "should be a table of the jail's words")
        return {}
    out = {}
    for word, target in content.items():
        if not isinstance(target, str) or target.strip().lower() not in allowed:
            bad(f'{section}."{word}"', target, f"is not allowed (expected one of: {', '.join(allowed)})")
        else:
            out[dispositions.normalize(word)] = target.strip().lower()
    return out


def _resolve_columns(mapping: Mapping, header: list[str], csv_path: Path) -> dict[str, int]:
    """key → column index; an InputError naming the mapping key when a named column is not in the file."""
    exact = {h.strip(): i for i, h in reversed(list(enumerate(header)))}
    folded = {h.strip().casefold(): i for i, h in reversed(list(enumerate(header)))}
    found, problems = {}, []
    for key, column in mapping.columns.items():
        index = exact.get(column, folded.get(column.casefold()))
        if index is None:
            shown = ", ".join(h.strip() for h in header if h.strip())
            problems.append(Problem(str(mapping.path), None, f"columns.{key}", column,
                                    f"is not a column of {csv_path.name} (its columns are: {shown})"))
        else:
            found[key] = index
    if problems:
        raise InputError(problems)
    return found


# ---------------------------------------------------------------- reading rows


@dataclass
class _Row:
    number: int
    cells: dict[str, str | None]


class _Reader:
    """Reads one file's rows through one mapping; keeps what it needs for errors."""

    def __init__(self, path: Path, mapping: Mapping, header: list[str], index: dict[str, int]):
        self.path, self.mapping, self.index = path, mapping, index
        self.labels = {key: header[i].strip() for key, i in index.items()}

    def cells(self, row: list[str]) -> dict[str, str | None]:
        return {key: clean_text(row[i]) if i < len(row) else None for key, i in self.index.items()}

    def date(self, row: _Row, key: str) -> date | None:
        raw = row.cells.get(key)
        if raw is None:
            return None
        fmt = self.mapping.date_format
        try:
            if fmt is None:
                return parse_date(raw)
            parsed = datetime.strptime(raw, fmt).date()
            if not 1900 <= parsed.year <= 2100:
                raise ValueError(raw)
            return parsed
        except ValueError:
            expected = f'{fmt} as [dates] format says' if fmt else "e.g. 2016-01-04 or 1/4/2016, or set [dates] format"
            fail(self.path, row.number, self.labels[key], raw, f"is not a date (expected {expected})")

    def is_detainer_line(self, row: _Row) -> bool:
        text, code = row.cells.get("charge_text"), row.cells.get("charge_code")
        if text is None and code is None:
            return False
        if code is not None and code in self.mapping.charge_codes:
            return True
        return self.mapping.charge_text and is_detainer_line(text, code, frozenset())

    def has_hold(self, row: _Row) -> bool:
        value = row.cells.get("hold")
        if value is None:
            return False
        key = dispositions.normalize(value)
        if self.mapping.hold_values is None:
            return key not in _NO_HOLD
        return key in self.mapping.hold_values


def read(path: Path, options: IngestOptions, progress: Callable[[int], None] | None = None) -> Extract:
    """Read a jail export (CSV) through its mapping file into canonical rows."""
    # progress(n), if given, is called with the number of records read so far.
    path = Path(path)
    jurisdiction = require_jurisdiction(options, KIND)
    if options.mapping is None:
        raise InputError("--mapping is required for jail-csv files: a TOML file naming the columns "
                         "(see docs/sources/jail-csv.md)")
    mapping = load_mapping(Path(options.mapping))
    text, encoding = read_text_file(path)
    records = csv_rows(path, text)
    start = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if start is None:
        fail(path, None, None, None, "is empty (expected a header row naming the columns)")
    reader = _Reader(path, mapping, records[start], _resolve_columns(mapping, records[start], path))

    bookings: dict[str, list[_Row]] = {}
    count = 0
    for i in range(start + 1, len(records)):
        if not any(c.strip() for c in records[i]):
            continue
        width = len(records[start])
        if len(records[i]) > width and any(c.strip() for c in records[i][width:]):
            fail(path, i + 1, None, None, f"has {len(records[i])} cells but the header has {width} columns "
                 "(expected one cell per column; a comma in an unquoted value shifts the cells after it)")
        row = _Row(i + 1, reader.cells(records[i]))
        booking_no = row.cells.get("booking_id")
        if booking_no is None:
            fail(path, row.number, reader.labels["booking_id"], None, "is empty (expected the booking number)")
        bookings.setdefault(booking_no, []).append(row)
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    if progress is not None:
        progress(count)

    extract = Extract(KIND, path, records=count)
    facility_id = options.facility_id or mapping.facility_id or f"{jurisdiction}-jail"
    extract.add("facilities.csv", facility_row(options, jurisdiction, facility_id, mapping.facility_name, start + 1))
    state = _level_state(options, bookings, extract)
    table = dispositions.table()
    _build(reader, bookings, jurisdiction, facility_id, state, table, extract)
    if encoding != "utf-8-sig":
        extract.notes.append(f"The file is not UTF-8; it was read as {encoding}.")
    if "person_id" not in mapping.columns:
        extract.notes.append(f"No person id column is mapped: each booking is its own person "
                             f"(jail:{jurisdiction}:<booking>), so people cannot be linked across bookings.")
    return extract


def _level_state(options: IngestOptions, bookings: dict[str, list[_Row]], extract: Extract) -> str | None:
    if options.state:
        return options.state.strip().upper()
    rows = [r for rs in bookings.values() for r in rs]
    if looks_texan([r.cells.get("charge_code") for r in rows], [r.cells.get("charge_level") for r in rows]):
        extract.notes.append("No --state given; the file's offense and level codes look Texan, so level codes "
                             "are read as Texas codes (1, 2, 3 = felony degrees).")
        return "TX"
    return None


def _build(reader: _Reader, bookings: dict[str, list[_Row]], jurisdiction: str, facility_id: str,
           state: str | None, table: dispositions.Table, extract: Extract) -> None:
    """Bookings with a detainer, and every other booking of the same people (for re-arrests)."""
    person_of = {b: _agreed(reader, rows, "person_id") for b, rows in bookings.items()}

    def person_id(booking_no: str) -> str:
        given = person_of[booking_no]
        return f"jail:{jurisdiction}:person:{given[0]}" if given else f"jail:{jurisdiction}:{booking_no}"

    with_detainer = {b for b, rows in bookings.items()
                     if any(reader.is_detainer_line(r) or reader.has_hold(r) for r in rows)}
    people_with = {person_id(b) for b in with_detainer}
    people: dict[str, dict] = {}
    skipped = 0
    for booking_no, rows in bookings.items():
        pid = person_id(booking_no)
        if pid not in people_with:
            skipped += 1
            continue
        _person(reader, rows, pid, people, extract)
        _booking(reader, booking_no, rows, pid, jurisdiction, facility_id, state, table, extract,
                 booking_no in with_detainer)
    for row in people.values():
        extract.add("people.csv", row)
    if skipped:
        extract.quality[f"{reader.labels['booking_id']}: no detainer or hold (booking skipped)"] += skipped
        extract.notes.append(f"{skipped} booking(s) of people with no detainer or hold in the file were skipped.")
    kept_other = len({b for b in bookings if person_id(b) in people_with} - with_detainer)
    if kept_other:
        extract.notes.append(f"{kept_other} booking(s) without a detainer were kept because the same person has "
                             "a detainer on another booking (later bookings show re-arrests).")


def _agreed(reader: _Reader, rows: list[_Row], key: str) -> tuple[str, _Row] | None:
    """The one value of a booking-level column across a booking's rows (blank rows allowed)."""
    first: tuple[str, _Row] | None = None
    for row in rows:
        value = row.cells.get(key)
        if value is None:
            continue
        if first is None:
            first = (value, row)
        elif value != first[0]:
            fail(reader.path, row.number, reader.labels[key], value,
                 f"differs from {first[0]!r} on row {first[1].number} (expected the same value on every row "
                 f"of booking {row.cells.get('booking_id')})")
    return first


def _person(reader: _Reader, rows: list[_Row], pid: str, people: dict[str, dict], extract: Extract) -> None:
    found = {key: next((r.cells.get(key) for r in rows if r.cells.get(key)), None) for key in _PERSON_KEYS}
    dob = next((r for r in rows if r.cells.get("date_of_birth")), None)
    found["date_of_birth"] = reader.date(dob, "date_of_birth") if dob else None
    if pid in people:
        known = people[pid]
        for key in _PERSON_KEYS:
            if found[key] is not None and known[key] is not None and found[key] != known[key]:
                extract.quality[f"{reader.labels[key]}: differs between bookings of one person (first kept)"] += 1
            elif known[key] is None:
                known[key] = found[key]
        return
    people[pid] = {"person_id": pid, "birth_year": found["date_of_birth"].year if found["date_of_birth"] else None,
                   "sex": found["sex"], "citizenship": found["citizenship"], "name": found["name"],
                   "date_of_birth": found["date_of_birth"], "source_row": rows[0].number, "sheet": None}


def _booking(reader: _Reader, booking_no: str, rows: list[_Row], pid: str, jurisdiction: str, facility_id: str,
             state: str | None, table: dispositions.Table, extract: Extract, has_detainer: bool) -> None:
    booking_id = f"jail:{jurisdiction}:{booking_no}"
    booked = _agreed(reader, rows, "booked_on")
    if booked is None:
        fail(reader.path, rows[0].number, reader.labels["booked_on"], None,
             "is empty (expected the booking date on at least one row of the booking)")
    booked_on = reader.date(booked[1], "booked_on")
    released_on, release_reason = _release(reader, rows, booked_on, extract)

    lines = [r for r in rows if reader.is_detainer_line(r)]
    detainers: list[tuple[_Row, date | None, str | None]] = []
    for line in lines:
        lifted_on, lift_reason, release = _detainer_disposition(reader, line, booked_on, table, extract)
        detainers.append((line, lifted_on, lift_reason))
        if release is not None and "release_reason" not in reader.index:
            released_on = released_on or release[0]
            release_reason = release[1]
    if has_detainer and not lines:
        detainers.append((next(r for r in rows if reader.has_hold(r)), None, None))
    if released_on is not None and release_reason is None:
        extract.quality["bookings: released with no release reason (outcome unknown)"] += 1

    for n, (line, lifted_on, lift_reason) in enumerate(detainers, start=1):
        lodged_row = next((r for r in ([line] + rows) if r.cells.get("detainer_lodged_on")), None)
        lodged_on = reader.date(lodged_row, "detainer_lodged_on") if lodged_row else None
        if lodged_on is None:
            lodged_on = booked_on
            extract.quality["detainers: lodged date taken from booking date"] += 1
        extract.add("detainers.csv", {
            "detainer_id": f"{booking_id}:detainer" + (f":{n}" if len(detainers) > 1 else ""),
            "person_id": pid, "facility_id": facility_id, "lodged_on": lodged_on, "booking_id": booking_id,
            "form": None, "lifted_on": lifted_on, "lift_reason": lift_reason, "outcome_claimed": None,
            "criminality": None, "threat_level": None, "redacted": None, "source_row": line.number, "sheet": None,
        })
    extract.add("bookings.csv", {
        "booking_id": booking_id, "person_id": pid, "facility_id": facility_id, "booked_on": booked_on,
        "released_on": released_on, "release_reason": release_reason, "source_row": booked[1].number, "sheet": None,
    })
    charges = [r for r in rows if r not in lines and (r.cells.get("charge_text") or r.cells.get("charge_code"))]
    for n, row in enumerate(charges, start=1):
        _charge(reader, row, f"{booking_id}:{n}", booking_id, state, table, extract)


def _release(reader: _Reader, rows: list[_Row], booked_on: date, extract: Extract) -> tuple[date | None, str | None]:
    """The booking-level release date and reason (columns released_on and release_reason)."""
    released = _agreed(reader, rows, "released_on")
    released_on = reader.date(released[1], "released_on") if released else None
    if released_on is not None:
        not_before(reader.path, released[1].number, reader.labels["released_on"], released_on, booked_on, released[0])
    given = _agreed(reader, rows, "release_reason")
    if given is None:
        return released_on, None
    if released_on is None:
        fail(reader.path, given[1].number, reader.labels.get("released_on", "released_on"), None,
             f"is empty but the release reason is {given[0]!r} (expected the release date)")
    key = dispositions.normalize(given[0])
    reason = reader.mapping.release_values.get(key)
    if reason is None and key in values(ReleaseReason):
        reason = key
    if reason is None:
        meaning = dispositions.table().lookup(given[0])
        reason = meaning.release_reason if meaning is not None else None
    if reason is None:
        extract.quality[f"{reader.labels['release_reason']}: not in [values.release_reason] or the dispositions "
                        f"table: {given[0]}"] += 1
    return released_on, reason


def _detainer_disposition(reader: _Reader, line: _Row, booked_on: date, table: dispositions.Table,
                          extract: Extract) -> tuple[date | None, str | None, tuple[date, str | None] | None]:
    """(lifted_on, lift_reason, release) from the disposition column of a detainer line, when mapped."""
    if "disposition" not in reader.index:
        return None, None, None
    raw = line.cells.get("disposition")
    meaning = table.lookup(raw)
    label = reader.labels["disposition"]
    when_key = "disposition_date" if "disposition_date" in reader.index else "released_on"
    when = reader.date(line, when_key) if when_key in reader.index else None
    if meaning is None:
        extract.quality[f"{label}: not in the dispositions table: {raw}"] += 1
        return None, None, ((when, None) if when else None)
    if not (meaning.releases or meaning.ends_detainer):
        return None, None, None
    if when is None:
        fail(reader.path, line.number, reader.labels.get(when_key, "disposition_date"), None,
             f"is empty but the disposition {meaning.text!r} ends the detainer (expected its date)")
    not_before(reader.path, line.number, reader.labels[when_key], when, booked_on, line.cells.get(when_key))
    if meaning.ends_detainer:
        reason = dispositions.as_written(meaning.text)
        check_lift_reason(reason, meaning.detainer_action, extract.quality)
        return when, reason, None
    return None, None, (when, meaning.release_reason)


def _charge(reader: _Reader, row: _Row, charge_id: str, booking_id: str, state: str | None,
            table: dispositions.Table, extract: Extract) -> None:
    code, text = row.cells.get("charge_code"), row.cells.get("charge_text")
    stage = None
    raw_stage = row.cells.get("charge_stage")
    if raw_stage is not None:
        key = dispositions.normalize(raw_stage)
        stage = reader.mapping.stage_values.get(key) or (key if key in values(Stage) else None)
        if stage is None:
            extract.quality[f"{reader.labels['charge_stage']}: not in [values.stage]: {raw_stage}"] += 1
            stage = "unknown"
    elif "disposition" in reader.index:
        meaning = table.lookup(row.cells.get("disposition"))
        if meaning is None:
            extract.quality[f"{reader.labels['disposition']}: not in the dispositions table: "
                            f"{row.cells.get('disposition')}"] += 1
        stage, conflict = charge_stage(meaning, row.cells.get("sentence"))
        if conflict:
            extract.quality[f"{reader.labels['sentence']}: sentence given on a dismissed charge (stage dismissed)"] += 1
    elif row.cells.get("sentence"):
        stage, _ = charge_stage(None, row.cells.get("sentence"))
    level_code = row.cells.get("charge_level")
    level = charge_level(level_code, text, state)
    if level == "unknown" and level_code:
        extract.quality[f"{reader.labels['charge_level']}: not a known level code: {level_code}"] += 1
    if text is None:
        label = reader.labels.get("charge_text", "charge_text")
        extract.quality[f"{label}: empty (charge code used as description)"] += 1
    extract.add("charges.csv", {
        "charge_id": charge_id, "booking_id": booking_id, "detainer_id": None,
        "description": text or f"code {code}", "code": code, "level": level, "stage": stage, "category": None,
        "source_row": row.number, "sheet": None,
    })
