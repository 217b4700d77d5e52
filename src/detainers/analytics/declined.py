"""Queries of the declined-detainer report: what ended where, under which policy, in a period.

A detainer belongs to the jurisdiction of the facility it was lodged with; a
facility with no jurisdiction gives the key None ("unplaced"). Counts come back
per day so that the report can split a jurisdiction's period at a policy change
(DESIGN §4: a decline is attributed to the policy in force on the release day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, and_, case, func, or_, select, true

from detainers.store.schema import bookings, charges, detainers, facilities, jurisdictions, people, policies, regions


@dataclass(frozen=True)
class Scope:
    """Which detainers a query covers: these jurisdictions (all when empty), and the unplaced ones or not."""

    jurisdiction_ids: tuple[str, ...] = ()
    unplaced: bool = True

    def where(self):
        """SQL condition on `facilities.jurisdiction_id`."""
        col = facilities.c.jurisdiction_id
        if not self.jurisdiction_ids:
            return true() if self.unplaced else col.is_not(None)
        placed = col.in_(self.jurisdiction_ids)
        return placed | col.is_(None) if self.unplaced else placed


_AT_FACILITY = detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id)


def ended_by_day(conn: Connection, date_from: date, date_to: date, scope: Scope) -> list:
    """(jurisdiction_id, ended_on, outcome, n): detainers that ended in [date_from, date_to]."""
    query = (select(facilities.c.jurisdiction_id, detainers.c.ended_on, detainers.c.outcome,
                    func.count().label("n"))
             .select_from(_AT_FACILITY)
             .where(detainers.c.ended_on >= date_from, detainers.c.ended_on <= date_to, scope.where())
             .group_by(facilities.c.jurisdiction_id, detainers.c.ended_on, detainers.c.outcome))
    return list(conn.execute(query))


def lodged_by_day(conn: Connection, date_from: date, date_to: date, scope: Scope) -> list:
    """(jurisdiction_id, lodged_on, n): detainers lodged in [date_from, date_to]."""
    query = (select(facilities.c.jurisdiction_id, detainers.c.lodged_on, func.count().label("n"))
             .select_from(_AT_FACILITY)
             .where(detainers.c.lodged_on >= date_from, detainers.c.lodged_on <= date_to, scope.where())
             .group_by(facilities.c.jurisdiction_id, detainers.c.lodged_on))
    return list(conn.execute(query))


def open_on(conn: Connection, day: date, scope: Scope) -> dict[str | None, tuple[int, int]]:
    """Per jurisdiction: (still open, end unknown) among detainers lodged by `day`.

    Still open: ended after `day`, or not ended and the person still held. End unknown:
    no end date and not in custody (no booking and no dated ICE record) — such a
    detainer may have ended long ago, so it is not called open.
    """
    not_ended = detainers.c.ended_on.is_(None)
    still_open = or_(detainers.c.ended_on > day, and_(not_ended, detainers.c.outcome == "in_custody"))
    unknown_end = and_(not_ended, detainers.c.outcome != "in_custody")
    query = (select(facilities.c.jurisdiction_id,
                    func.sum(case((still_open, 1), else_=0)).label("open"),
                    func.sum(case((unknown_end, 1), else_=0)).label("unknown_end"))
             .select_from(_AT_FACILITY)
             .where(detainers.c.lodged_on <= day, or_(still_open, unknown_end), scope.where())
             .group_by(facilities.c.jurisdiction_id))
    return {r.jurisdiction_id: (int(r.open or 0), int(r.unknown_end or 0)) for r in conn.execute(query)}


def declined_in(conn: Connection, date_from: date, date_to: date, scope: Scope) -> list:
    """Each detainer that ended `declined` in [date_from, date_to], with its booking's release."""
    query = (select(detainers.c.detainer_id, detainers.c.person_id, detainers.c.facility_id,
                    facilities.c.jurisdiction_id, detainers.c.lodged_on, detainers.c.ended_on,
                    detainers.c.booking_id, detainers.c.duplicate_of, bookings.c.release_reason,
                    people.c.citizenship)
             .select_from(_AT_FACILITY
                          .join(people, people.c.person_id == detainers.c.person_id)
                          .outerjoin(bookings, bookings.c.booking_id == detainers.c.booking_id))
             .where(detainers.c.outcome == "declined", detainers.c.ended_on >= date_from,
                    detainers.c.ended_on <= date_to, scope.where())
             .order_by(detainers.c.ended_on, detainers.c.lodged_on, detainers.c.detainer_id))
    return list(conn.execute(query))


def charges_of_detainers(conn: Connection, detainer_ids: list[str]) -> dict[str, list]:
    """Charges a source attached to the detainer itself (ICE releases: the most serious conviction)."""
    found: dict[str, list] = {d: [] for d in detainer_ids}
    for start in range(0, len(detainer_ids), 500):
        chunk = detainer_ids[start:start + 500]
        query = (select(charges.c.detainer_id, charges.c.charge_id, charges.c.description, charges.c.category,
                        charges.c.level, charges.c.stage, charges.c.code)
                 .where(charges.c.detainer_id.in_(chunk), charges.c.booking_id.is_(None),
                        charges.c.is_detainer_line.is_(False))
                 .order_by(charges.c.detainer_id, charges.c.charge_id))
        for row in conn.execute(query):
            found[row.detainer_id].append(row)
    return found


def jurisdictions_of(conn: Connection, ids: list[str]) -> dict[str, object]:
    """Name and state per jurisdiction id."""
    found = {}
    for start in range(0, len(ids), 500):
        query = select(jurisdictions).where(jurisdictions.c.jurisdiction_id.in_(ids[start:start + 500]))
        found.update({r.jurisdiction_id: r for r in conn.execute(query)})
    return found


def policies_overlapping(conn: Connection, date_from: date, date_to: date, ids: list[str]) -> dict[str, list]:
    """Per jurisdiction, its policies in force on any day of [date_from, date_to], oldest first."""
    found: dict[str, list] = {j: [] for j in ids}
    for start in range(0, len(ids), 500):
        query = (select(policies)
                 .where(policies.c.jurisdiction_id.in_(ids[start:start + 500]),
                        policies.c.effective_from <= date_to,
                        or_(policies.c.effective_to.is_(None), policies.c.effective_to > date_from))
                 .order_by(policies.c.jurisdiction_id, policies.c.effective_from))
        for row in conn.execute(query):
            found[row.jurisdiction_id].append(row)
    return found


@dataclass(frozen=True)
class Interval:
    """One part of the period under one policy (or none): days `first`…`last`, both inclusive."""

    first: date
    last: date
    policy: object | None


def split_period(date_from: date, date_to: date, policy_rows: list) -> list[Interval]:
    """Cut [date_from, date_to] at every policy change; days no policy covers get policy None."""
    parts: list[Interval] = []
    day = date_from
    for p in sorted(policy_rows, key=lambda p: p.effective_from):
        start = max(p.effective_from, date_from)
        end = date_to if p.effective_to is None else min(p.effective_to - timedelta(days=1), date_to)
        if end < start or end < day:
            continue
        if start > day:
            parts.append(Interval(day, start - timedelta(days=1), None))
        parts.append(Interval(max(start, day), end, p))
        day = end + timedelta(days=1)
        if day > date_to:
            break
    if day <= date_to:
        parts.append(Interval(day, date_to, None))
    return parts


def scope_facts(conn: Connection, date_from: date, date_to: date, scope: Scope) -> dict:
    """Counts for the fidelity section, over detainers lodged or ended in the period."""
    in_scope = or_(and_(detainers.c.ended_on >= date_from, detainers.c.ended_on <= date_to),
                   and_(detainers.c.lodged_on >= date_from, detainers.c.lodged_on <= date_to))
    ended = and_(detainers.c.ended_on >= date_from, detainers.c.ended_on <= date_to)

    return _counts(conn, [in_scope, scope.where()], {
        "detainers": (),
        "ended": (ended,),
        "ended_unknown": (ended, detainers.c.outcome == "unknown"),
        "unknown_no_end": (detainers.c.outcome == "unknown", detainers.c.ended_on.is_(None)),
        "unknown": (detainers.c.outcome == "unknown",),
        "without_booking": (detainers.c.booking_id.is_(None),),
        "duplicates": (detainers.c.duplicate_of.is_not(None),),
        "unplaced": (facilities.c.jurisdiction_id.is_(None),),
        "lifted_without_date": (detainers.c.outcome.in_(("lifted", "cancelled")), detainers.c.ended_on.is_(None)),
    })


def _counts(conn: Connection, base: list, named: dict[str, tuple]) -> dict[str, int]:
    """Several counts over the same detainers in one pass: {name: how many also meet its conditions}."""
    columns = [func.sum(case((and_(*conditions), 1), else_=0)).label(name) if conditions
               else func.count().label(name) for name, conditions in named.items()]
    row = conn.execute(select(*columns).select_from(_AT_FACILITY).where(*base)).one()
    return {name: int(row._mapping[name] or 0) for name in named}


def lodged_facts(conn: Connection, date_from: date, date_to: date, jurisdiction_ids: tuple[str, ...] = (),
                 region: str | None = None) -> dict:
    """Fidelity counts over detainers lodged in [date_from, date_to] (used by the transfers report)."""
    base = [detainers.c.lodged_on >= date_from, detainers.c.lodged_on <= date_to]
    if jurisdiction_ids:
        base.append(facilities.c.jurisdiction_id.in_(jurisdiction_ids))
    if region:
        base.append(facilities.c.jurisdiction_id.in_(
            select(regions.c.jurisdiction_id).where(regions.c.region == region)))

    return _counts(conn, base, {
        "lodged": (),
        "no_end": (detainers.c.ended_on.is_(None), detainers.c.outcome != "in_custody"),
        "without_booking": (detainers.c.booking_id.is_(None),),
        "duplicates": (detainers.c.duplicate_of.is_not(None),),
    })
