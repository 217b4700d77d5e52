"""Checks that need more than one row: references, date order, policy intervals.

A reference may point into the package or into what the database already holds,
so a package can add bookings for people loaded earlier.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Connection, Table, select

from detainers.datapackage.reader import Package, ProblemList
from detainers.datapackage.spec import read_text
from detainers.errors import Problem
from detainers.offenses import CATEGORIES
from detainers.store.schema import bookings, detainers, facilities, jurisdictions, metadata, people, policies

_CATEGORY_IDS = frozenset(c.id for c in CATEGORIES)
_CHUNK = 500


def existing_rows(conn: Connection, table: Table, key: str, ids: set[str], *columns: str) -> dict[str, tuple]:
    """Rows of `table` whose `key` is in `ids`, as {id: (columns...)}."""
    found: dict[str, tuple] = {}
    ordered = sorted(ids)
    cols = [table.c[key], *(table.c[c] for c in columns)]
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start:start + _CHUNK]
        for row in conn.execute(select(*cols).where(table.c[key].in_(chunk))):
            found[row[0]] = tuple(row[1:])
    return found


def check_package(conn: Connection, pkg: Package, *, stored_links: bool | None = None) -> ProblemList:
    """Every cross-row problem of the package against itself and the database.

    Checked after the package is written (in the same transaction), the answer is the same as before,
    given `stored_links`: `stored_detainers_name_bookings` as it was before the package was written.
    """
    problems = ProblemList()
    _known(conn, pkg, "jurisdictions.csv", "jurisdiction_id", jurisdictions, [
        ("regions.csv", "jurisdiction_id"), ("policies.csv", "jurisdiction_id"),
        ("facilities.csv", "jurisdiction_id")], problems)
    _known(conn, pkg, "facilities.csv", "facility_id", facilities, [
        ("bookings.csv", "facility_id"), ("detainers.csv", "facility_id")], problems)
    _known(conn, pkg, "people.csv", "person_id", people, [
        ("bookings.csv", "person_id"), ("detainers.csv", "person_id")], problems)
    _known(conn, pkg, "detainers.csv", "detainer_id", detainers, [("charges.csv", "detainer_id")], problems)
    booking_map = _bookings(conn, pkg, problems)
    _check_lengths(pkg, problems)
    _check_booking_dates(pkg, problems)
    _check_stored_detainers(conn, pkg, problems, stored_links)
    _check_charges(pkg, problems)
    _check_detainers(pkg, booking_map, problems)
    _check_policies(conn, pkg, problems)
    return problems


def file_alone(pkg: Package, name: str) -> bool:
    """Whether the rows of one file pass the checks that need nothing but them (lengths, and the
    checks of each row across its columns), as `check_package` makes them."""
    problems = ProblemList()
    one = Package(pkg.path, {name: pkg.files[name]}, pkg.sha256, read_by_spec=pkg.read_by_spec)
    _check_lengths(one, problems)
    if name == "bookings.csv":
        _check_booking_dates(one, problems)
    elif name == "charges.csv":
        _check_charges(one, problems)
    return not problems


def _longest(values: list) -> int:
    """The length of the longest text among `values` (0 if none)."""
    try:
        return max(map(len, filter(None, values)), default=0)  # texts and empty cells: the usual case
    except TypeError:  # a value that is not text
        return max((len(v) for v in values if isinstance(v, str)), default=0)


def _check_lengths(pkg, problems) -> None:
    """Values must fit their columns (PostgreSQL refuses what SQLite would silently keep)."""
    for name, f in pkg.files.items():
        table = metadata.tables[f.spec.table]
        limits = [(c.name, c.stored_as, table.c[c.stored_as].type.length) for c in f.spec.columns
                  if c.stored_as in table.c and getattr(table.c[c.stored_as].type, "length", None)
                  # cells read through a bounded reader (ids, states, vocabularies) already fit
                  and not (pkg.read_by_spec and c.read is not read_text)]
        for label, key, limit in limits:
            longest = _longest([r.get(key) for r in f.rows])
            if longest <= limit:
                continue  # the usual case: one pass, no per-row work
            for row in f.rows:
                value = row.get(key)
                if isinstance(value, str) and len(value) > limit:
                    problems.add(Problem(name, row["source_row"], label, value[:40] + "…",
                                         f"is {len(value)} characters long (this column holds at most {limit})"))


def stored_detainers_name_bookings(conn: Connection) -> bool:
    """Whether any stored detainer names the booking it belongs to."""
    return conn.execute(
        select(detainers.c.detainer_id).where(detainers.c.booking_link == "given").limit(1)).first() is not None


def _check_stored_detainers(conn, pkg, problems, stored_links: bool | None) -> None:
    """A changed booking must still hold the stored detainers that name it."""
    if stored_links is None:
        stored_links = stored_detainers_name_bookings(conn)
    if not pkg.rows("bookings.csv") or not stored_links:
        return  # no stored detainer names a booking (a first load): nothing to hold
    rows = {r["booking_id"]: r for r in pkg.rows("bookings.csv")}
    in_package = {r["detainer_id"] for r in pkg.rows("detainers.csv")}
    ordered = sorted(rows)
    for start in range(0, len(ordered), _CHUNK):
        query = select(detainers.c.detainer_id, detainers.c.booking_id, detainers.c.person_id,
                       detainers.c.facility_id, detainers.c.lodged_on).where(
            detainers.c.booking_id.in_(ordered[start:start + _CHUNK]), detainers.c.booking_link == "given")
        for d in conn.execute(query):
            if d.detainer_id in in_package:
                continue
            b = rows[d.booking_id]
            if (b["person_id"], b["facility_id"]) != (d.person_id, d.facility_id):
                problems.add(Problem("bookings.csv", b["source_row"], "person_id", b["person_id"],
                                     f"does not match stored detainer {d.detainer_id} (person {d.person_id} at "
                                     f"{d.facility_id}), which names this booking"))
            elif b.get("released_on") is not None and b["released_on"] < d.lodged_on:
                problems.add(Problem("bookings.csv", b["source_row"], "released_on", b["released_on"].isoformat(),
                                     f"is before stored detainer {d.detainer_id} was lodged on {d.lodged_on} "
                                     "(expected a release on or after it)"))


def _known(conn, pkg, parent_file, key, table, children, problems) -> None:
    """Check that every child reference names a parent in the package or database."""
    in_package = {r[key] for r in pkg.rows(parent_file)}
    wanted = {r.get(col) for f, col in children for r in pkg.rows(f)}
    wanted.discard(None)
    outside = wanted - in_package
    in_db = set(existing_rows(conn, table, key, outside))
    if outside <= in_db:
        return  # the usual case: every reference resolves (told row by row below when one does not)
    known = in_package | in_db
    for file_name, col in children:
        for row in pkg.rows(file_name):
            value = row.get(col)
            if value is not None and value not in known:
                problems.add(Problem(file_name, row["source_row"], col, value,
                                     f"is not in {parent_file} or the database (expected a known {key})"))


def _bookings(conn, pkg, problems) -> dict[str, tuple]:
    """Every booking the package refers to: {booking_id: (person_id, facility_id, booked_on, released_on)}."""
    mapping = {r["booking_id"]: (r["person_id"], r["facility_id"], r["booked_on"], r.get("released_on"))
               for r in pkg.rows("bookings.csv")}
    named = {r.get("booking_id") for f in ("charges.csv", "detainers.csv") for r in pkg.rows(f)}
    named.discard(None)
    mapping.update(existing_rows(conn, bookings, "booking_id", named - mapping.keys(),
                                 "person_id", "facility_id", "booked_on", "released_on"))
    if named <= mapping.keys():
        return mapping  # the usual case: every booking named is known
    for file_name in ("charges.csv", "detainers.csv"):
        for row in pkg.rows(file_name):
            value = row.get("booking_id")
            if value is not None and value not in mapping:
                problems.add(Problem(file_name, row["source_row"], "booking_id", value,
                                     "is not in bookings.csv or the database (expected a known booking_id)"))
    return mapping


def _check_booking_dates(pkg, problems) -> None:
    for row in pkg.rows("bookings.csv"):
        released, booked = row.get("released_on"), row["booked_on"]
        if released is not None and released < booked:
            problems.add(Problem("bookings.csv", row["source_row"], "released_on", released.isoformat(),
                                 f"is before booked_on {booked} (expected on or after it)"))
        if released is None and row.get("release_reason") is not None:
            problems.add(Problem("bookings.csv", row["source_row"], "release_reason", row["release_reason"],
                                 "is given but released_on is empty (expected a release date with a release reason)"))


def _check_charges(pkg, problems) -> None:
    for row in pkg.rows("charges.csv"):
        if row.get("booking_id") is None and row.get("detainer_id") is None:
            problems.add(Problem("charges.csv", row["source_row"], "booking_id", None,
                                 "is empty (expected the booking the charge was brought on, or a detainer_id)"))
        category = row.get("category")
        if category is not None and category not in _CATEGORY_IDS:
            problems.add(Problem("charges.csv", row["source_row"], "category", category,
                                 "is not a category id (expected one of: " + ", ".join(sorted(_CATEGORY_IDS)) + ")"))


def _check_detainers(pkg, booking_map, problems) -> None:
    for row in pkg.rows("detainers.csv"):
        n = row["source_row"]
        lodged, lifted = row["lodged_on"], row.get("lifted_on")
        if lifted is not None and lifted < lodged:
            problems.add(Problem("detainers.csv", n, "lifted_on", lifted.isoformat(),
                                 f"is before lodged_on {lodged} (expected on or after it)"))
        booking_id = row.get("booking_id")
        if booking_id is None or booking_id not in booking_map:
            continue
        person, facility, _booked, released = booking_map[booking_id]
        if person != row["person_id"]:
            problems.add(Problem("detainers.csv", n, "booking_id", booking_id,
                                 f"belongs to person {person}, not {row['person_id']} (expected a booking of the same person)"))
        elif facility != row["facility_id"]:
            problems.add(Problem("detainers.csv", n, "booking_id", booking_id,
                                 f"is at facility {facility}, not {row['facility_id']} (expected a booking at the detainer's facility)"))
        elif released is not None and lodged > released:
            problems.add(Problem("detainers.csv", n, "lodged_on", lodged.isoformat(),
                                 f"is after booking {booking_id} ended on {released} (expected a detainer lodged during the booking)"))


def _check_policies(conn, pkg, problems) -> None:
    rows = pkg.rows("policies.csv")
    if not rows:
        return
    by_juris: dict[str, dict[date, tuple]] = defaultdict(dict)
    # Policies derived from 287(g) lists give way to the user's; only the user's can conflict.
    for p in conn.execute(select(policies.c.jurisdiction_id, policies.c.effective_from, policies.c.effective_to)
                          .where(policies.c.jurisdiction_id.in_(sorted({r["jurisdiction_id"] for r in rows})),
                                 policies.c.origin != "287g-roster")):
        by_juris[p.jurisdiction_id][p.effective_from] = (p.effective_from, p.effective_to, None)
    for r in rows:
        start, end = r["effective_from"], r["effective_to"]
        if end is not None and end <= start:
            problems.add(Problem("policies.csv", r["source_row"], "effective_to", end.isoformat(),
                                 f"is not after effective_from {start} (expected a later date, or empty for open-ended)"))
            continue
        by_juris[r["jurisdiction_id"]][start] = (start, end, r["source_row"])
    for juris_id, intervals in by_juris.items():
        ordered = sorted(intervals.values(), key=lambda t: t[0])
        for (s1, e1, _r1), (s2, _e2, r2) in zip(ordered, ordered[1:]):
            if e1 is None or e1 > s2:
                where = "the database" if _r1 is None else f"row {_r1}"
                problems.add(Problem("policies.csv", r2 if r2 is not None else _r1, "effective_from", s2.isoformat(),
                                     f"overlaps the {juris_id} policy from {s1} to {e1 or 'open end'} ({where}); "
                                     "expected intervals that do not overlap (set effective_to on the earlier one)"))
