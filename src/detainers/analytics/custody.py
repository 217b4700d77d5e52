"""Who was held, where, with an active detainer, on a given day.

"In custody with an active detainer on day T" (DESIGN §4): the detainer was
lodged on or before T and had not ended by T (its end is empty or after T), and
the booking it is linked to had begun by T and had not ended by T. A release on
T itself means the person was not held on T.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, or_, select

from detainers.store.schema import bookings, charges, detainers, facilities, people, person_identities


def held_on(conn: Connection, day: date, jurisdiction_ids: list[str]) -> list:
    """One row per (jurisdiction, person) held on `day` in the jurisdictions' facilities."""
    if not jurisdiction_ids:
        return []
    query = (
        select(
            facilities.c.jurisdiction_id,
            detainers.c.person_id,
            func.min(bookings.c.booked_on).label("booked_on"),
            func.min(detainers.c.lodged_on).label("lodged_on"),
            func.min(bookings.c.booking_id).label("booking_id"),
            func.min(facilities.c.facility_id).label("facility_id"),
            func.count(detainers.c.detainer_id).label("detainers"),
            people.c.citizenship,
        )
        .select_from(
            detainers.join(bookings, bookings.c.booking_id == detainers.c.booking_id)
            .join(facilities, facilities.c.facility_id == bookings.c.facility_id)
            .join(people, people.c.person_id == detainers.c.person_id)
        )
        .where(
            facilities.c.jurisdiction_id.in_(jurisdiction_ids),
            detainers.c.lodged_on <= day,
            or_(detainers.c.ended_on.is_(None), detainers.c.ended_on > day),
            bookings.c.booked_on <= day,
            or_(bookings.c.released_on.is_(None), bookings.c.released_on > day),
        )
        .group_by(facilities.c.jurisdiction_id, detainers.c.person_id, people.c.citizenship)
        .order_by(facilities.c.jurisdiction_id, func.min(bookings.c.booked_on), detainers.c.person_id)
    )
    return list(conn.execute(query))


def charges_of(conn: Connection, booking_ids: list[str]) -> dict[str, list]:
    """Criminal charges per booking (detainer lines entered as charges are left out)."""
    found: dict[str, list] = {b: [] for b in booking_ids}
    for start in range(0, len(booking_ids), 500):
        chunk = booking_ids[start:start + 500]
        query = (
            select(charges.c.booking_id, charges.c.charge_id, charges.c.description, charges.c.category,
                   charges.c.level, charges.c.stage, charges.c.code)
            .where(charges.c.booking_id.in_(chunk), charges.c.is_detainer_line.is_(False))
            .order_by(charges.c.booking_id, charges.c.charge_id)
        )
        for row in conn.execute(query):
            found[row.booking_id].append(row)
    return found


def detainers_without_booking(conn: Connection, jurisdiction_ids: list[str], day: date) -> int:
    """Detainers lodged by `day` at these jurisdictions' facilities that no booking places in custody."""
    if not jurisdiction_ids:
        return 0
    query = (
        select(func.count())
        .select_from(detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id))
        .where(facilities.c.jurisdiction_id.in_(jurisdiction_ids), detainers.c.booking_id.is_(None),
               detainers.c.lodged_on <= day, or_(detainers.c.ended_on.is_(None), detainers.c.ended_on > day))
    )
    return conn.execute(query).scalar_one()


def identities_of(conn: Connection, person_ids: list[str]) -> dict[str, tuple]:
    """Restricted: name and date of birth per person. Callers check the audience first."""
    found: dict[str, tuple] = {}
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start:start + 500]
        for row in conn.execute(select(person_identities.c.person_id, person_identities.c.name,
                                       person_identities.c.date_of_birth)
                                .where(person_identities.c.person_id.in_(chunk))):
            found[row.person_id] = (row.name, row.date_of_birth)
    return found
