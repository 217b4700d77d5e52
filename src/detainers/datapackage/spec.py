"""The canonical data package (DESIGN §5): which files, which columns, which values.

Each column declares how a cell is read; readers return the value or raise
`CellError` with what was expected, and the package reader turns that into a
`Problem` naming file, row, column and value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from detainers.model import (
    Agreement,
    FacilityKind,
    JurisdictionKind,
    Level,
    Outcome,
    ReleaseReason,
    Stage,
    Stance,
    values,
)


class CellError(ValueError):
    """A cell that cannot be read; the message says what was expected."""


def read_text(raw: str) -> str:
    return raw.strip()


def read_id(raw: str) -> str:
    value = raw.strip()
    if len(value) > 128:
        raise CellError("is too long for an id (expected at most 128 characters)")
    return value


def read_date(raw: str) -> date:
    value = raw.strip()
    # date.fromisoformat also takes "20190101" and week dates; the package format is stricter.
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise CellError("is not a date (expected YYYY-MM-DD)")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise CellError("is not a date (expected YYYY-MM-DD)") from None
    if not 1900 <= parsed.year <= 2100:
        raise CellError("is outside the years 1900–2100 (expected YYYY-MM-DD)")
    return parsed


#: The earliest day an event in custody (a booking, a release, a detainer) is believed. Jail systems
#: often enter 1900-01-01 when a date is unknown; such a date is a typo or a stand-in, not a record.
EARLIEST_EVENT = date(1950, 1, 1)


def read_event_date(raw: str) -> date:
    """A day something happened: a date, not before 1950 and not after tomorrow (UTC)."""
    parsed = read_date(raw)
    if parsed < EARLIEST_EVENT:
        raise CellError(f"is before {EARLIEST_EVENT.year} (expected the day it happened; leave an unknown "
                        "date empty rather than entering a stand-in such as 1900-01-01)")
    tomorrow = datetime.now(timezone.utc).date() + timedelta(days=1)
    if parsed > tomorrow:
        raise CellError("is in the future (expected the day it happened)")
    return parsed


def read_year(raw: str) -> int:
    value = raw.strip()
    if not (len(value) == 4 and value.isdigit()) or not 1900 <= int(value) <= 2100:
        raise CellError("is not a year (expected four digits, 1900–2100)")
    return int(value)


def read_state(raw: str) -> str:
    value = raw.strip().upper()
    if not (2 <= len(value) <= 3 and value.isalpha()):
        raise CellError("is not a state code (expected a two-letter postal code such as NC)")
    return value


def read_fips(raw: str) -> str:
    value = raw.strip()
    if not (len(value) == 5 and value.isdigit()):
        raise CellError("is not a county FIPS code (expected five digits, e.g. 37183)")
    return value


def one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    """A reader accepting exactly one of `allowed` (case-insensitive)."""
    lookup = {a.lower(): a for a in allowed}

    def read(raw: str) -> str:
        value = lookup.get(raw.strip().lower())
        if value is None:
            raise CellError(f"is not allowed (expected one of: {', '.join(allowed)})")
        return value

    return read


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    read: Callable[[str], object]
    required: bool = False
    #: The database column, when it is named differently from the package column.
    db_name: str | None = None

    @property
    def stored_as(self) -> str:
        return self.db_name or self.name


@dataclass(frozen=True)
class FileSpec:
    name: str
    table: str
    columns: tuple[ColumnSpec, ...]
    #: Columns that identify a row (unique within the file and the database).
    key: tuple[str, ...]

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def C(name: str, read=read_text, required: bool = False, db_name: str | None = None) -> ColumnSpec:
    return ColumnSpec(name, read, required, db_name)


JURISDICTIONS = FileSpec(
    "jurisdictions.csv",
    "jurisdictions",
    (
        C("jurisdiction_id", read_id, True),
        C("name", required=True),
        C("state", read_state, True),
        C("kind", one_of(values(JurisdictionKind)), True),
        C("fips", read_fips),
        C("ori"),
        C("aor"),
    ),
    ("jurisdiction_id",),
)

POLICIES = FileSpec(
    "policies.csv",
    "policies",
    (
        C("jurisdiction_id", read_id, True),
        C("effective_from", read_date, True),
        C("effective_to", read_date),
        C("stance", one_of(values(Stance)), True),
        C("agreement", one_of(values(Agreement))),
        C("criteria"),
        C("source", db_name="citation"),
    ),
    ("jurisdiction_id", "effective_from"),
)

FACILITIES = FileSpec(
    "facilities.csv",
    "facilities",
    (
        C("facility_id", read_id, True),
        C("name", required=True),
        C("jurisdiction_id", read_id),  # empty: not yet placed in a jurisdiction
        C("kind", one_of(values(FacilityKind))),
        C("city"),
        C("state", read_state),
        C("code"),
    ),
    ("facility_id",),
)

PEOPLE = FileSpec(
    "people.csv",
    "people",
    (
        C("person_id", read_id, True),
        C("birth_year", read_year),
        C("sex"),
        C("citizenship"),
        C("name"),
        C("date_of_birth", read_date),
    ),
    ("person_id",),
)

#: Columns of people.csv that are identity fields and go to the restricted table.
IDENTITY_COLUMNS = ("name", "date_of_birth")

BOOKINGS = FileSpec(
    "bookings.csv",
    "bookings",
    (
        C("booking_id", read_id, True),
        C("person_id", read_id, True),
        C("facility_id", read_id, True),
        C("booked_on", read_event_date, True),
        C("released_on", read_event_date),
        C("release_reason", one_of(values(ReleaseReason))),
    ),
    ("booking_id",),
)

CHARGES = FileSpec(
    "charges.csv",
    "charges",
    (
        C("charge_id", read_id, True),
        C("booking_id", read_id),  # a booking_id or a detainer_id is required (checked across columns)
        C("description", required=True),
        C("code"),
        C("level", one_of(values(Level))),
        C("stage", one_of(values(Stage))),
        C("category"),  # checked against the taxonomy by the package reader
        C("detainer_id", read_id),
    ),
    ("charge_id",),
)

DETAINERS = FileSpec(
    "detainers.csv",
    "detainers",
    (
        C("detainer_id", read_id, True),
        C("person_id", read_id, True),
        C("facility_id", read_id, True),
        C("lodged_on", read_event_date, True),
        C("booking_id", read_id),
        C("form"),
        C("lifted_on", read_event_date),
        C("lift_reason"),
        C("outcome", one_of(values(Outcome)), db_name="outcome_claimed"),
        C("criminality"),
        C("threat_level"),
        C("redacted"),
    ),
    ("detainer_id",),
)

REGIONS = FileSpec(
    "regions.csv",
    "regions",
    (C("region", required=True), C("jurisdiction_id", read_id, True)),
    ("region", "jurisdiction_id"),
)

#: Files in load order (parents before children).
FILES: tuple[FileSpec, ...] = (
    JURISDICTIONS,
    REGIONS,
    POLICIES,
    FACILITIES,
    PEOPLE,
    BOOKINGS,
    DETAINERS,
    CHARGES,
)

FILES_BY_NAME = {f.name: f for f in FILES}
