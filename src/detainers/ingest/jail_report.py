"""Sheriffs' "in custody inmates with a detainer" reports, exported to CSV (one block per booking).

Layout: title rows, a header row naming `Booking No … Booking Date`, then one block per
booking — the booking row, a charge header (`Charge, Charge Literal, Level, Sentence,
Disposition Date, Disposition Type`), the charge rows, a blank row — and notes at the end.
The detainer itself is written as a charge line (code 4200, "ICE DETAINER"); its
disposition says how the booking ended. Columns are found by their header text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from detainers import lift_reasons
from detainers.errors import InputError
from detainers.ingest import dispositions
from detainers.ingest.base import Extract, IngestOptions, clean_text, csv_rows, fail, parse_date, read_text_file
from detainers.offenses import classify, level_from_code
from detainers.offenses.levels import level_from_text

KIND = "jail-report"
TITLE = "Sheriff's jail report of people in custody with an immigration detainer"
WHERE_FROM = (
    "Sheriffs' offices produce these reports from their jail management systems, usually as "
    "\"in custody inmates with an ICE detainer added\" lists, and release them in answer to public "
    "records requests (often as PDF or Excel, converted to CSV). Each booking is a block: the booking "
    "row, then its charge lines, one of which is the immigration detainer itself (code 4200, "
    "\"ICE DETAINER\"), whose disposition says how the person left the jail."
)

#: Charge codes that mark the detainer line, besides the classifier's reading of the text.
DETAINER_CODES = frozenset({"4200"})

_BOOKING_HEADER = {
    "booking no": "booking_no", "booking number": "booking_no", "booking #": "booking_no",
    "booking name": "name", "name": "name", "race": "race", "sex": "sex", "age": "age",
    "booking date": "booked_on", "place of birth": "place_of_birth",
}
_CHARGE_HEADER = {
    "charge": "code", "charge code": "code", "charge literal": "text", "level": "level", "sentence": "sentence",
    "disposition date": "disposition_date", "disposition type": "disposition",
}
_BOOKING_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,29}$")
_NO_SENTENCE = frozenset({"0", "none", "n/a", "na", "-"})
# Level codes and literal markers only Texas jail systems write (besides its 8-digit offense codes).
_TEXAN_LEVELS = frozenset({"F1", "F2", "F3", "FS", "SJ", "FX", "MA", "MB", "MC"})
_TEXAN_CODE = re.compile(r"^\d{8}$")


# ---------------------------------------------------------------- helpers shared with jail_csv


def require_jurisdiction(options: IngestOptions, kind: str) -> str:
    """The jurisdiction whose jail the file describes; an InputError when the user did not say."""
    if not options.jurisdiction_id:
        raise InputError(f"--jurisdiction is required for {kind} files: say whose jail this is")
    return options.jurisdiction_id


def facility_row(options: IngestOptions, jurisdiction: str, facility_id: str, name: str | None, row: int) -> dict:
    """The one facility a jail file describes (the loader keeps an existing facility of that id)."""
    return {"facility_id": facility_id, "name": name or f"{jurisdiction} jail", "jurisdiction_id": jurisdiction,
            "kind": "county_jail", "city": None, "state": options.state, "code": None,
            "source_row": row, "sheet": None}


def is_detainer_line(text: str | None, code: str | None, codes: frozenset[str] = DETAINER_CODES) -> bool:
    """True when a charge line is the immigration detainer/hold itself rather than a criminal charge."""
    if code is not None and code.strip() in codes:
        return True
    return classify(text, code).is_detainer


def looks_texan(codes: list[str | None], levels: list[str | None]) -> bool:
    """True when a file's offense codes (8 digits) or level codes (F1 … MC) are those of Texas jail systems."""
    return any(c and _TEXAN_CODE.match(c) for c in codes) or any(lv and lv.upper() in _TEXAN_LEVELS for lv in levels)


def charge_level(level: str | None, text: str | None, state: str | None) -> str:
    """felony/misdemeanor/infraction/unknown from the level column, else from a marker in the literal ("(MB)")."""
    found = level_from_code(level, state)
    if found == "unknown" and text:
        found = level_from_text(text)
    return found


def charge_stage(disposition: dispositions.Disposition | None, sentence: str | None) -> tuple[str, bool]:
    """A charge's stage from its disposition and sentence; True as second value when the two disagree."""
    sentenced = bool(sentence) and sentence.strip().lower() not in _NO_SENTENCE
    if disposition is not None and disposition.charge_stage in ("convicted", "dismissed"):
        return disposition.charge_stage, sentenced and disposition.charge_stage == "dismissed"
    if sentenced:
        return "convicted", False
    return (disposition.charge_stage if disposition is not None else "unknown"), False


def check_lift_reason(reason: str, action: str, quality) -> None:
    """Count a lift reason whose meaning in the lift-reason table differs from the disposition table's."""
    means = lift_reasons.meaning(reason)
    if means != action:
        quality[f"lift_reason: {reason!r} is {action} in the dispositions table but {means} "
                "in the lift-reason table"] += 1


def not_before(path: Path, row: int, column: str, value: date, booked_on: date, raw: str | None) -> None:
    """Refuse an end date (release, lift) that comes before the booking date."""
    if value < booked_on:
        fail(path, row, column, raw, f"is before the booking date {booked_on} (expected a date on or after it)")


# ---------------------------------------------------------------- reading the blocks


@dataclass
class _Line:
    row: int
    cells: dict[str, str | None]


@dataclass
class _Booking:
    row: int
    cells: dict[str, str | None]
    lines: list[_Line] = field(default_factory=list)


@dataclass
class _Layout:
    header_row: int
    booking_labels: dict[str, str]
    charge_labels: dict[str, str] = field(default_factory=dict)
    bookings: list[_Booking] = field(default_factory=list)
    title: str | None = None
    notes: list[tuple[int, str]] = field(default_factory=list)


def _key(cell: str) -> str:
    return " ".join(cell.replace("\u00a0", " ").split()).strip(" .:").casefold()


def _columns(row: list[str], names: dict[str, str]) -> dict[int, str]:
    """Column index → field for the cells of a header row that name a known column."""
    found: dict[int, str] = {}
    for index, cell in enumerate(row):
        name = names.get(_key(cell))
        if name is not None and name not in found.values():
            found[index] = name
    return found


def _is_charge_header(row: list[str]) -> bool:
    keys = {_key(c) for c in row}
    return "charge literal" in keys or ("charge" in keys and "disposition type" in keys)


def _is_booking_header(row: list[str]) -> bool:
    return any(_BOOKING_HEADER.get(_key(c)) == "booking_no" for c in row)


def _cells(row: list[str], columns: dict[int, str]) -> dict[str, str | None]:
    return {name: clean_text(row[i]) if i < len(row) else None for i, name in columns.items()}


def _texts(row: list[str]) -> list[str]:
    return [t for t in (clean_text(c) for c in row) if t]


def _layout(path: Path, rows: list[list[str]]) -> _Layout:
    """Find the header, the booking blocks and the notes (raw text; nothing interpreted yet)."""
    start = next((i for i, r in enumerate(rows) if _is_booking_header(r)), None)
    if start is None:
        fail(path, None, None, None, "has no header row: expected a header row with Booking No "
             "(and Booking Date) above the bookings — is this a jail detainer report?")
    booking_cols = _columns(rows[start], _BOOKING_HEADER)
    labels = {name: clean_text(rows[start][i]) or name for i, name in booking_cols.items()}
    if "booked_on" not in booking_cols.values():
        fail(path, start + 1, None, None, "expected a Booking Date column in the header row with Booking No")
    title = " / ".join(line.strip() for r in rows[:start] for t in _texts(r) for line in t.splitlines()
                       if line.strip()) or None
    layout = _Layout(start + 1, labels, title=title)

    current: _Booking | None = None
    charge_cols: dict[int, str] = {}
    for i in range(start + 1, len(rows)):
        row, number = rows[i], i + 1
        texts = _texts(row)
        if not texts:
            current = None
            continue
        if not _is_charge_header(row) and {_key(c) for c in row} & {"charge", "charge code"}:
            fail(path, number, None, None, "looks like a charge header but is not one (expected the charge columns "
                 "Charge, Charge Literal, Level, Sentence, Disposition Date, Disposition Type)")
        if _is_charge_header(row):
            if current is None:
                fail(path, number, None, None, "is a charge header with no booking row above it")
            charge_cols = _columns(row, _CHARGE_HEADER)
            for needed in ("code", "text"):
                if needed not in charge_cols.values():
                    fail(path, number, None, None, "expected the charge columns Charge and Charge Literal")
            layout.charge_labels = {n: clean_text(row[j]) or n for j, n in charge_cols.items()}
            current.lines = []
            continue
        if _is_booking_header(row):  # the header again, as page breaks repeat it
            current = None
            continue
        before_charges = i + 1 < len(rows) and _is_charge_header(rows[i + 1])
        if current is not None and charge_cols and not before_charges:
            if len(texts) == 1 and len(texts[0]) > 30 and " " in texts[0]:
                layout.notes.append((number, texts[0]))  # a note right after the last block
                current = None
                continue
            current.lines.append(_Line(number, _cells(row, charge_cols)))
            continue
        cells = _cells(row, booking_cols)
        booking_no = cells.get("booking_no")
        if before_charges or (booking_no and _BOOKING_NO.match(booking_no) and len(texts) > 1):
            current = _Booking(number, cells)
            charge_cols = {}
            layout.bookings.append(current)
        else:
            layout.notes.append((number, " ".join(" ".join(texts).split())))
            current = None
    return layout


def _date(path: Path, row: int, column: str, raw: str | None) -> date | None:
    try:
        return parse_date(raw)
    except ValueError:
        fail(path, row, column, raw, "is not a date (expected e.g. 2016-01-04 or 1/4/2016)")


# ---------------------------------------------------------------- canonical rows


def read(path: Path, options: IngestOptions, progress: Callable[[int], None] | None = None) -> Extract:
    """Read a jail detainer report (CSV) into canonical rows: facility, people, bookings, charges, detainers."""
    # progress(n), if given, is called with the number of records read so far.
    path = Path(path)
    jurisdiction = require_jurisdiction(options, KIND)
    text, encoding = read_text_file(path)
    layout = _layout(path, csv_rows(path, text))
    table = dispositions.table(options.mapping)

    extract = Extract(KIND, path)
    facility_id = options.facility_id or f"{jurisdiction}-jail"
    extract.add("facilities.csv", facility_row(options, jurisdiction, facility_id, None, layout.header_row))
    state = _level_state(options, layout, extract)

    seen: dict[str, int] = {}
    skipped: list[str] = []
    done = 0
    for block in layout.bookings:
        if not _booking(path, block, layout, jurisdiction, facility_id, state, table, extract, seen):
            skipped.append(block.cells.get("booking_no") or f"row {block.row}")
        done += 1 + len(block.lines)
        if progress is not None:
            progress(done)
    extract.records = done
    _notes(extract, layout, encoding, jurisdiction, skipped)
    return extract


def _level_state(options: IngestOptions, layout: _Layout, extract: Extract) -> str | None:
    """The state whose level codes apply: the user's, else Texas when the file's codes look Texan."""
    if options.state:
        return options.state.strip().upper()
    lines = [line for b in layout.bookings for line in b.lines]
    if looks_texan([line.cells.get("code") for line in lines], [line.cells.get("level") for line in lines]):
        extract.notes.append("No --state given; the file's offense and level codes look Texan, so level codes "
                             "are read as Texas codes (1, 2, 3 = felony degrees).")
        return "TX"
    return None


def _booking(path: Path, block: _Booking, layout: _Layout, jurisdiction: str, facility_id: str,
             state: str | None, table: dispositions.Table, extract: Extract, seen: dict[str, int]) -> bool:
    """Add one booking's rows; False when the booking has no detainer line and is skipped."""
    label = layout.booking_labels.get
    booking_no = block.cells.get("booking_no")
    if not booking_no:
        fail(path, block.row, label("booking_no"), None, "is empty (expected the booking number)")
    if booking_no in seen:
        fail(path, block.row, label("booking_no"), booking_no,
             f"appears again (first at row {seen[booking_no]}; expected one block per booking)")
    seen[booking_no] = block.row
    raw_booked = block.cells.get("booked_on")
    if raw_booked is None:
        fail(path, block.row, label("booked_on"), None, "is empty (expected the booking date, e.g. 2016-01-04)")
    booked_on = _date(path, block.row, label("booked_on"), raw_booked)

    detainer_lines = [ln for ln in block.lines if is_detainer_line(ln.cells.get("text"), ln.cells.get("code"))]
    if not detainer_lines:
        extract.quality[f"{label('booking_no')}: no detainer line (booking skipped)"] += 1
        return False

    booking_id = f"jail:{jurisdiction}:{booking_no}"
    clabel = layout.charge_labels.get
    releases: list[tuple[date, str | None]] = []
    several = len(detainer_lines) > 1
    for n, line in enumerate(detainer_lines, start=1):
        lifted_on, lift_reason, release = _detainer_line(path, line, clabel, booked_on, table, extract)
        if release is not None:
            releases.append(release)
        extract.quality["detainers: lodged date taken from booking date"] += 1
        extract.add("detainers.csv", {
            "detainer_id": f"{booking_id}:detainer" + (f":{n}" if several else ""),
            "person_id": booking_id, "facility_id": facility_id, "lodged_on": booked_on, "booking_id": booking_id,
            "form": None, "lifted_on": lifted_on, "lift_reason": lift_reason, "outcome_claimed": None,
            "criminality": None, "threat_level": None, "redacted": None,
            "source_row": line.row, "sheet": None,
        })
    released_on, release_reason = _release(releases, clabel, extract)

    extract.add("people.csv", {
        "person_id": booking_id, "birth_year": None, "sex": block.cells.get("sex"), "citizenship": None,
        "name": block.cells.get("name"), "date_of_birth": None, "source_row": block.row, "sheet": None,
    })
    extract.add("bookings.csv", {
        "booking_id": booking_id, "person_id": booking_id, "facility_id": facility_id, "booked_on": booked_on,
        "released_on": released_on, "release_reason": release_reason, "source_row": block.row, "sheet": None,
    })
    charges = [ln for ln in block.lines if ln not in detainer_lines]
    for n, line in enumerate(charges, start=1):
        _charge(line, f"{booking_id}:{n}", booking_id, state, clabel, table, extract)
    return True


def _detainer_line(path: Path, line: _Line, clabel, booked_on: date, table: dispositions.Table,
                   extract: Extract) -> tuple[date | None, str | None, tuple[date, str | None] | None]:
    """(lifted_on, lift_reason, (released_on, release_reason) or None) from one detainer line's disposition."""
    raw_type, raw_date = line.cells.get("disposition"), line.cells.get("disposition_date")
    when = _date(path, line.row, clabel("disposition_date"), raw_date)
    meaning = table.lookup(raw_type)
    if meaning is None:
        extract.quality[f"{clabel('disposition')}: not in the dispositions table: {raw_type}"] += 1
        # Something happened on that date, but what is unknown: a release with no reason (outcome unknown).
        return None, None, ((when, None) if when else None)
    if (meaning.releases or meaning.ends_detainer) and when is None:
        fail(path, line.row, clabel("disposition_date"), None,
             f"is empty but the disposition {meaning.text!r} ends the detainer (expected its date)")
    if when is not None and (meaning.releases or meaning.ends_detainer):
        not_before(path, line.row, clabel("disposition_date"), when, booked_on, raw_date)
    if meaning.ends_detainer:
        reason = dispositions.as_written(meaning.text)
        check_lift_reason(reason, meaning.detainer_action, extract.quality)
        return when, reason, None
    if meaning.releases:
        return None, None, (when, meaning.release_reason)
    return None, None, None


def _release(releases: list[tuple[date, str | None]], clabel, extract: Extract) -> tuple[date | None, str | None]:
    """The booking's release: the latest release among its detainer lines (a conflict leaves the reason empty)."""
    if not releases:
        return None, None
    last = max(d for d, _ in releases)
    reasons = {r for d, r in releases if d == last}
    if len(reasons) > 1:
        extract.quality[f"{clabel('disposition')}: detainer lines disagree on the release (reason left empty)"] += 1
        return last, None
    return last, reasons.pop()


def _charge(line: _Line, charge_id: str, booking_id: str, state: str | None, clabel,
            table: dispositions.Table, extract: Extract) -> None:
    code, text = line.cells.get("code"), line.cells.get("text")
    if text is None:
        extract.quality[f"{clabel('text')}: empty (charge code used as description)"] += 1
    raw_type = line.cells.get("disposition")
    meaning = table.lookup(raw_type)
    if meaning is None:
        extract.quality[f"{clabel('disposition')}: not in the dispositions table: {raw_type}"] += 1
    stage, conflict = charge_stage(meaning, line.cells.get("sentence"))
    if conflict:
        extract.quality[f"{clabel('sentence')}: sentence given on a dismissed charge (stage dismissed)"] += 1
    level_code = line.cells.get("level")
    level = charge_level(level_code, text, state)
    if level == "unknown" and level_code:
        extract.quality[f"{clabel('level')}: not a known level code: {level_code}"] += 1
    extract.add("charges.csv", {
        "charge_id": charge_id, "booking_id": booking_id, "detainer_id": None,
        "description": text or f"code {code}", "code": code, "level": level, "stage": stage, "category": None,
        "source_row": line.row, "sheet": None,
    })


def _notes(extract: Extract, layout: _Layout, encoding: str, jurisdiction: str, skipped: list[str]) -> None:
    if layout.title:
        extract.notes.append(f"Report title: {layout.title}")
    if encoding != "utf-8-sig":
        extract.notes.append(f"The file is not UTF-8; it was read as {encoding}.")
    extract.notes.append(
        f"Jail reports carry no person number: each booking is its own person (jail:{jurisdiction}:<booking no>), "
        "so a person booked more than once cannot be linked across bookings.")
    extract.notes.append(
        "The report does not say when a detainer was lodged, only that it is on the booking: whether it was lodged "
        "on the booking date is unknown; the booking date is used as the lodged date and counted under quality.")
    if "place_of_birth" in layout.booking_labels:
        extract.notes.append(f"{layout.booking_labels['place_of_birth']} is self-reported and is not citizenship: "
                             "it is not kept, and citizenship is left empty.")
    dropped = [text for key, text in layout.booking_labels.items() if key in ("race", "age")]
    if dropped:
        extract.notes.append(f"Not kept: {', '.join(dropped)} (no birth year is estimated from an age).")
    if skipped:
        extract.notes.append(f"{len(skipped)} booking(s) without a detainer line were skipped: {', '.join(skipped)}.")
    for row, note in layout.notes:
        extract.notes.append(f"Report note (row {row}): {note}")
