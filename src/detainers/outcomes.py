"""The lifecycle rules of DESIGN §4: what became of each detainer, and when.

`derive` is a pure function of one detainer and the booking that held the person;
`recompute` stores its answer (outcome, end date, the rule that decided, fiscal
years) for the detainers whose inputs may have changed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable, NamedTuple

from sqlalchemy import Connection, select

from detainers import lift_reasons
from detainers.fiscal import fiscal_year
from detainers.store import bulk
from detainers.store.schema import bookings, detainers

#: release_reason → outcome when the booking ended without an earlier lift.
RELEASE_OUTCOME = {
    "to_ice": "honored",
    "to_other_custody": "transferred",
    "bond": "declined",
    "sentence_served": "declined",
    "dismissed": "declined",
    "recognizance": "declined",
    "other_release": "declined",
}


class Booking(NamedTuple):  # a tuple: millions are made while an import links detainers
    booking_id: str
    booked_on: date
    released_on: date | None
    release_reason: str | None


@dataclass(frozen=True)
class Derived:
    outcome: str
    ended_on: date | None
    rule: str


def derive(lodged_on: date, lifted_on: date | None, lift_reason: str | None,
           booking: Booking | None, table: dict[str, str] | None = None) -> Derived:
    """Apply the lifecycle rules to one detainer (DESIGN §4, rules 1–4)."""
    means = lift_reasons.meaning(lift_reason, table)
    released = booking.released_on if booking else None
    ice_side = means in ("honored", "declined", "transferred")

    # Rule 1: a lift on or before release (or while still held) ends the detainer.
    if lifted_on is not None and not ice_side and (released is None or lifted_on <= released):
        if means == "cancelled":
            return Derived("cancelled", lifted_on, f"1: cancelled on {lifted_on} ({lift_reason})")
        reason = lift_reason if lift_reason else "no reason recorded"
        return Derived("lifted", lifted_on, f"1: lifted on {lifted_on} ({reason})")

    # Rule 2: the booking that held the person ended.
    if booking is not None and released is not None:
        reason = booking.release_reason
        outcome = RELEASE_OUTCOME.get(reason or "")
        if outcome is None:
            return Derived("unknown", released, f"2: released on {released}, release reason not recorded")
        return Derived(outcome, released, f"2: released on {released} ({reason})")

    # Rule 3: still held.
    if booking is not None:
        return Derived("in_custody", None, "3: the booking that holds the person has no release")

    # Rule 4: no booking; only an ICE-side record can say what happened (a lift with no date included).
    if ice_side or means in ("lifted", "cancelled"):
        return Derived(means, lifted_on, f"4: ICE lift reason {lift_reason!r} means {means}")
    if means == "unmapped":
        return Derived("unknown", None, f"4: lift reason {lift_reason!r} is not in the lift-reason table")
    return Derived("unknown", None, "4: no booking and no recorded outcome")


def match_booking(person_bookings: Iterable[Booking], lodged_on: date) -> Booking | None:
    """The booking of the same person at the same facility that contains `lodged_on`."""
    best = None
    for b in person_bookings:
        if b.booked_on <= lodged_on and (b.released_on is None or lodged_on <= b.released_on):
            if best is None or b.booked_on > best.booked_on:
                best = b
    return best


_CHUNK = 500
#: Above this many people, one scan of the tables beats many IN (…) queries.
_SCAN_ABOVE = 20_000

_D_COLS = (detainers.c.detainer_id, detainers.c.person_id, detainers.c.facility_id, detainers.c.lodged_on,
           detainers.c.booking_id, detainers.c.booking_link, detainers.c.lifted_on, detainers.c.lift_reason,
           detainers.c.outcome, detainers.c.ended_on, detainers.c.outcome_rule, detainers.c.lodged_fy,
           detainers.c.ended_fy)
_B_COLS = (bookings.c.booking_id, bookings.c.person_id, bookings.c.facility_id, bookings.c.booked_on,
           bookings.c.released_on, bookings.c.release_reason)


class BookingIndex:
    """The bookings of a set of people, for linking their detainers to them."""

    def __init__(self, rows: Iterable) -> None:
        """From rows with the columns of `_B_COLS` as attributes (stored rows)."""
        self._build((r.booking_id, r.person_id, r.facility_id, r.booked_on, r.released_on, r.release_reason)
                  for r in rows)

    def _build(self, values: Iterable[tuple]) -> None:
        self.by_id: dict[str, Booking] = {}
        self.by_place: dict[tuple[str, str], list[Booking]] = defaultdict(list)
        make = tuple.__new__  # a Booking without the keyword handling of Booking(...): millions are made
        for booking_id, person_id, facility_id, booked_on, released_on, release_reason in values:
            b = make(Booking, (booking_id, booked_on, released_on, release_reason))
            self.by_id[booking_id] = b
            self.by_place[(person_id, facility_id)].append(b)

    @classmethod
    def of_records(cls, records: Iterable[dict], person_ids: set[str]) -> "BookingIndex":
        """Index bookings given as records (keys as the columns of `_B_COLS`) of these people: what a load
        is writing, when nothing else is stored (saves reading back what was just written)."""
        index = cls.__new__(cls)
        index._build((r["booking_id"], r["person_id"], r["facility_id"], r["booked_on"], r["released_on"],
                    r["release_reason"]) for r in records if r["person_id"] in person_ids)
        return index

    @classmethod
    def load(cls, conn: Connection, person_ids: set[str], scan_above: int | None = _SCAN_ABOVE) -> "BookingIndex":
        """Index the stored bookings of these people (looked up 500 at a time, or for more than
        `scan_above` of them in one scan of the table; None: never)."""
        return cls(row for batch, _ in _batches(conn, person_ids, detainers_too=False, scan_above=scan_above)
                   for row in batch)

    def link(self, person_id: str, facility_id: str, lodged_on: date, given: str | None) -> tuple[Booking | None, str]:
        """The booking a detainer belongs to, and how it was found: given, matched or none."""
        if given is not None:
            return self.by_id.get(given), "given"
        booking = match_booking(self.by_place.get((person_id, facility_id), ()), lodged_on)
        return booking, "matched" if booking else "none"


def derived_fields(index: BookingIndex, person_id: str, facility_id: str, lodged_on: date, given_booking: str | None,
                   lifted_on: date | None, lift_reason: str | None, table: dict[str, str]) -> tuple:
    """The stored derived values of one detainer, in `DERIVED` order."""
    booking, link = index.link(person_id, facility_id, lodged_on, given_booking)
    result = derive(lodged_on, lifted_on, lift_reason, booking, table)
    return (booking.booking_id if booking else given_booking, link, result.outcome, result.ended_on, result.rule,
            fiscal_year(lodged_on), fiscal_year(result.ended_on) if result.ended_on else None)


#: The derived columns of a detainer, in the order `derived_fields` returns them.
DERIVED = ("booking_id", "booking_link", "outcome", "ended_on", "outcome_rule", "lodged_fy", "ended_fy")


def recompute(conn: Connection, person_ids: Iterable[str] | None = None,
              skip: frozenset[str] | set[str] = frozenset()) -> dict[str, int]:
    """Re-derive the outcome of every detainer of these people (all people if None).

    Detainers in `skip` were just written with fresh values and are left alone.
    Only detainers whose derived values change are written. Returns counts:
    detainers checked, how many changed outcome or end date, how many have no booking.
    """
    table = lift_reasons.active_table()
    ids = None if person_ids is None else set(person_ids)
    changed = unmatched = total = 0
    for booking_rows, detainer_rows in _batches(conn, ids):
        index = BookingIndex(booking_rows)
        writes = []
        for d in detainer_rows:
            if d.detainer_id in skip:
                continue
            total += 1
            given = d.booking_id if d.booking_link == "given" else None
            new = derived_fields(index, d.person_id, d.facility_id, d.lodged_on, given, d.lifted_on,
                                 d.lift_reason, table)
            if new[1] == "none":
                unmatched += 1
            if new[2] != d.outcome or new[3] != d.ended_on:
                changed += 1
            old = (d.booking_id, d.booking_link, d.outcome, d.ended_on, d.outcome_rule, d.lodged_fy, d.ended_fy)
            if new != old:
                writes.append((d.detainer_id, *new))
        bulk.update_rows(conn, detainers, ("detainer_id",), DERIVED, writes)
    return {"detainers": total, "changed": changed, "without_booking": unmatched}


def _batches(conn: Connection, ids: set[str] | None, detainers_too: bool = True,
             scan_above: int | None = _SCAN_ABOVE):
    """(bookings, detainers) of the given people, in batches that keep queries small (or, for more than
    `scan_above` people, from one scan of each table; None: never)."""
    if ids is not None and (scan_above is None or len(ids) <= scan_above):
        ordered = sorted(ids)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start:start + _CHUNK]
            b = conn.execute(select(*_B_COLS).where(bookings.c.person_id.in_(chunk))).all()
            d = conn.execute(select(*_D_COLS).where(detainers.c.person_id.in_(chunk))).all() if detainers_too else []
            yield b, d
        return
    # Many people: one pass over each table, keeping only their rows (streamed, so memory follows the
    # people asked for, not the size of the database).
    wanted = (lambda r: True) if ids is None else (lambda r: r.person_id in ids)
    b = [r for r in conn.execute(bulk.streamed(select(*_B_COLS))) if wanted(r)]
    d = [r for r in conn.execute(bulk.streamed(select(*_D_COLS))) if wanted(r)] if detainers_too else []
    yield b, d
