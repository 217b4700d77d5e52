"""The lifecycle rules of DESIGN §4: what became of each detainer, and when.

`derive` is a pure function of one detainer and the booking that held the person;
`recompute` stores its answer (outcome, end date, the rule that decided, fiscal
years) for the detainers whose inputs may have changed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable

from sqlalchemy import Connection, bindparam, select, update

from detainers import lift_reasons
from detainers.fiscal import fiscal_year
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


@dataclass(frozen=True)
class Booking:
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
        return Derived("in_custody", None, f"3: booking {booking.booking_id} has no release")

    # Rule 4: no booking; only an ICE-side record can say what happened.
    if ice_side:
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


def recompute(conn: Connection, person_ids: Iterable[str] | None = None) -> dict[str, int]:
    """Re-derive the outcome of every detainer of these people (all people if None).

    Returns how many detainers changed outcome, and how many have no booking.
    """
    table = lift_reasons.active_table()
    ids = None if person_ids is None else sorted(set(person_ids))
    changed = unmatched = total = 0
    for chunk in _chunks(ids):
        d_query = select(detainers.c.detainer_id, detainers.c.person_id, detainers.c.facility_id,
                         detainers.c.lodged_on, detainers.c.booking_id, detainers.c.booking_link,
                         detainers.c.lifted_on, detainers.c.lift_reason, detainers.c.outcome,
                         detainers.c.ended_on)
        b_query = select(bookings.c.booking_id, bookings.c.person_id, bookings.c.facility_id,
                         bookings.c.booked_on, bookings.c.released_on, bookings.c.release_reason)
        if chunk is not None:
            d_query = d_query.where(detainers.c.person_id.in_(chunk))
            b_query = b_query.where(bookings.c.person_id.in_(chunk))
        by_id: dict[str, Booking] = {}
        by_place: dict[tuple[str, str], list[Booking]] = defaultdict(list)
        for r in conn.execute(b_query):
            b = Booking(r.booking_id, r.booked_on, r.released_on, r.release_reason)
            by_id[r.booking_id] = b
            by_place[(r.person_id, r.facility_id)].append(b)
        updates = []
        for d in conn.execute(d_query):
            total += 1
            if d.booking_link == "given":
                booking, link = by_id.get(d.booking_id), "given"
            else:
                booking = match_booking(by_place.get((d.person_id, d.facility_id), ()), d.lodged_on)
                link = "matched" if booking else "none"
            if booking is None:
                unmatched += 1
            result = derive(d.lodged_on, d.lifted_on, d.lift_reason, booking, table)
            if result.outcome != d.outcome or result.ended_on != d.ended_on:
                changed += 1
            updates.append({
                "b_id": d.detainer_id,
                "b_booking": booking.booking_id if booking else None,
                "b_link": link,
                "b_outcome": result.outcome,
                "b_ended": result.ended_on,
                "b_rule": result.rule,
                "b_lodged_fy": fiscal_year(d.lodged_on),
                "b_ended_fy": fiscal_year(result.ended_on) if result.ended_on else None,
            })
        if updates:
            conn.execute(_UPDATE, updates)
    return {"detainers": total, "changed": changed, "without_booking": unmatched}


_UPDATE = (
    update(detainers)
    .where(detainers.c.detainer_id == bindparam("b_id"))
    .values(
        booking_id=bindparam("b_booking"),
        booking_link=bindparam("b_link"),
        outcome=bindparam("b_outcome"),
        ended_on=bindparam("b_ended"),
        outcome_rule=bindparam("b_rule"),
        lodged_fy=bindparam("b_lodged_fy"),
        ended_fy=bindparam("b_ended_fy"),
    )
)


def _chunks(ids: list[str] | None):
    if ids is None:
        yield None
        return
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]
