"""Restricted search: find people by person key, person id, booking id or name.

Everything returned carries identity fields; callers check the audience first and
write the audit entry (the API as "view.search", the search page likewise).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from detainers.errors import InputError
from detainers.privacy import Keyer, installation_secret
from detainers.store.schema import bookings, charges, detainers, facilities, people, person_identities

MIN_NAME_LENGTH = 2


def search_people(conn: Connection, q: str, keyer: Keyer, limit: int = 50) -> list[dict]:
    """People matching `q` (a P- key, a person id, a booking id, or part of a name), with their
    bookings (and charges) and detainers; at most `limit` people, exact matches first."""
    q = q.strip()
    if len(q) < MIN_NAME_LENGTH:
        raise InputError(f"q: search for at least {MIN_NAME_LENGTH} characters (a person key such as P-…, "
                         "a person id, a booking id, or part of a name).")
    matched: dict[str, list[str]] = {}

    def hit(person_id: str, how: str) -> None:
        kinds = matched.setdefault(person_id, [])
        if how not in kinds:
            kinds.append(how)

    if q.upper().startswith("P-"):
        # Keys are keyed hashes: the only way back from a key is to hash every id and compare.
        wanted = q.upper()
        for person_id in conn.execute(select(people.c.person_id)).scalars():
            if keyer(person_id) == wanted:
                hit(person_id, "person key")
    for person_id in conn.execute(select(people.c.person_id).where(people.c.person_id == q)).scalars():
        hit(person_id, "person id")
    for person_id in conn.execute(select(bookings.c.person_id).where(bookings.c.booking_id == q)).scalars():
        hit(person_id, "booking id")
    by_name = (select(person_identities.c.person_id)
               .where(person_identities.c.name.ilike(f"%{_escape_like(q)}%", escape="\\"))
               .order_by(person_identities.c.name, person_identities.c.person_id)
               .limit(limit + len(matched)))
    for person_id in conn.execute(by_name).scalars():
        hit(person_id, "name")
    chosen = list(matched)[:limit]
    return [_person(conn, pid, matched[pid], keyer) for pid in chosen]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _person(conn: Connection, person_id: str, matched_by: list[str], keyer: Keyer) -> dict:
    secret = installation_secret(conn)
    booking_keyer, detainer_keyer = Keyer(secret, "B-"), Keyer(secret, "D-")
    p = conn.execute(select(people, person_identities.c.name, person_identities.c.date_of_birth)
                     .select_from(people.outerjoin(person_identities,
                                                   person_identities.c.person_id == people.c.person_id))
                     .where(people.c.person_id == person_id)).one()
    booking_rows = list(conn.execute(
        select(bookings, facilities.c.name.label("facility_name"), facilities.c.jurisdiction_id)
        .select_from(bookings.join(facilities, facilities.c.facility_id == bookings.c.facility_id))
        .where(bookings.c.person_id == person_id)
        .order_by(bookings.c.booked_on, bookings.c.booking_id)))
    by_booking: dict[str, list[dict]] = {}
    if booking_rows:
        for c in conn.execute(select(charges.c.booking_id, charges.c.description, charges.c.category,
                                     charges.c.stage, charges.c.level)
                              .where(charges.c.booking_id.in_([b.booking_id for b in booking_rows]),
                                     charges.c.is_detainer_line.is_(False))
                              .order_by(charges.c.booking_id, charges.c.charge_id)):
            by_booking.setdefault(c.booking_id, []).append(
                {"description": c.description, "category": c.category, "stage": c.stage, "level": c.level})
    detainer_rows = conn.execute(
        select(detainers, facilities.c.jurisdiction_id)
        .select_from(detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id))
        .where(detainers.c.person_id == person_id)
        .order_by(detainers.c.lodged_on, detainers.c.detainer_id))
    return {
        "person_id": p.person_id, "person_key": keyer(p.person_id), "name": p.name,
        "date_of_birth": p.date_of_birth, "birth_year": p.birth_year, "sex": p.sex, "citizenship": p.citizenship,
        "matched_by": matched_by,
        "bookings": [{"booking_id": b.booking_id, "booking_key": booking_keyer(b.booking_id),
                      "facility_id": b.facility_id, "facility_name": b.facility_name,
                      "jurisdiction_id": b.jurisdiction_id, "booked_on": b.booked_on, "released_on": b.released_on,
                      "release_reason": b.release_reason, "charges": by_booking.get(b.booking_id, [])}
                     for b in booking_rows],
        "detainers": [{"detainer_id": d.detainer_id, "detainer_key": detainer_keyer(d.detainer_id),
                       "booking_id": d.booking_id, "facility_id": d.facility_id, "jurisdiction_id": d.jurisdiction_id,
                       "form": d.form, "lodged_on": d.lodged_on, "lifted_on": d.lifted_on,
                       "lift_reason": d.lift_reason, "ended_on": d.ended_on, "outcome": d.outcome,
                       "outcome_rule": d.outcome_rule}
                      for d in detainer_rows],
    }
