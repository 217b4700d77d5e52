"""Queries of the re-arrest report: who was released, and the same person's later bookings.

People are linked only by `person_id`. Sources that mint one person per booking
(sheriffs' jail reports; jail exports with no person id column) give the
person the id of the booking itself, and ICE releases use ICE's own identifiers,
which no jail record shares: re-bookings of such people cannot be seen, so they
are found here and kept apart rather than counted as "not re-booked".
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, and_, func, or_, select

from detainers.store.schema import bookings, detainers, facilities, people, policies, sources

#: Release reasons that put a person back in the community (not to ICE, not to another custodian).
STREET_RELEASES = ("bond", "sentence_served", "dismissed", "recognizance", "other_release")
#: Facility kinds whose bookings are immigration custody, not an arrest.
NOT_AN_ARREST = ("ice_detention",)

_CHUNK = 500


def _release_columns(release_day):
    return (detainers.c.detainer_id, detainers.c.person_id, detainers.c.outcome, detainers.c.facility_id,
            facilities.c.jurisdiction_id, detainers.c.booking_id, release_day.label("released_on"),
            bookings.c.release_reason, policies.c.stance.label("policy_stance"), people.c.citizenship,
            sources.c.kind.label("person_source_kind"))


def _releases(conn: Connection, release_day, conditions: list) -> list:
    in_force = and_(policies.c.jurisdiction_id == facilities.c.jurisdiction_id,
                    policies.c.effective_from <= release_day,
                    or_(policies.c.effective_to.is_(None), policies.c.effective_to > release_day))
    source = (detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id)
              .join(people, people.c.person_id == detainers.c.person_id)
              .outerjoin(sources, sources.c.source_id == people.c.source_id)
              .outerjoin(bookings, bookings.c.booking_id == detainers.c.booking_id)
              .outerjoin(policies, in_force))
    query = (select(*_release_columns(release_day)).select_from(source).where(*conditions)
             .order_by(release_day, detainers.c.person_id, detainers.c.detainer_id))
    return list(conn.execute(query))


def ended_in(conn: Connection, date_from: date, date_to: date, outcomes: tuple[str, ...]) -> list:
    """Detainers with one of `outcomes` that ended in [date_from, date_to]: the end day is the release day."""
    day = detainers.c.ended_on
    return _releases(conn, day, [detainers.c.outcome.in_(outcomes), day >= date_from, day <= date_to])


def lifted_then_released(conn: Connection, date_from: date, date_to: date) -> list:
    """Detainers lifted or cancelled while the person was held, whose booking then ended in a release
    to the community (not to ICE, not to another custodian) in [date_from, date_to]."""
    day = bookings.c.released_on
    return _releases(conn, day, [detainers.c.outcome.in_(("lifted", "cancelled")), day >= date_from,
                                 day <= date_to, bookings.c.release_reason.in_(STREET_RELEASES)])


def lifted_release_unknown(conn: Connection, date_from: date, date_to: date) -> int:
    """Lifted or cancelled detainers whose booking ended in the period with no release reason recorded."""
    query = (select(func.count()).select_from(
        detainers.join(bookings, bookings.c.booking_id == detainers.c.booking_id))
        .where(detainers.c.outcome.in_(("lifted", "cancelled")), bookings.c.released_on >= date_from,
               bookings.c.released_on <= date_to, bookings.c.release_reason.is_(None)))
    return conn.execute(query).scalar_one()


def ended_unknown(conn: Connection, date_from: date, date_to: date) -> int:
    """Detainers that ended in the period with an unknown outcome (in no group)."""
    query = select(func.count()).where(detainers.c.outcome == "unknown", detainers.c.ended_on >= date_from,
                                       detainers.c.ended_on <= date_to)
    return conn.execute(query).scalar_one()


def later_bookings(conn: Connection, person_ids: list[str], after: date) -> dict[str, list]:
    """Per person, bookings that began after `after`, oldest first; ICE detention is not an arrest."""
    found: dict[str, list] = {p: [] for p in person_ids}
    for start in range(0, len(person_ids), _CHUNK):
        chunk = person_ids[start:start + _CHUNK]
        query = (select(bookings.c.person_id, bookings.c.booking_id, bookings.c.booked_on, bookings.c.facility_id,
                        facilities.c.jurisdiction_id, facilities.c.kind.label("facility_kind"))
                 .select_from(bookings.join(facilities, facilities.c.facility_id == bookings.c.facility_id))
                 .where(bookings.c.person_id.in_(chunk), bookings.c.booked_on > after,
                        or_(facilities.c.kind.is_(None), facilities.c.kind.not_in(NOT_AN_ARREST)))
                 .order_by(bookings.c.person_id, bookings.c.booked_on, bookings.c.booking_id))
        for row in conn.execute(query):
            found[row.person_id].append(row)
    return found


def one_person_per_booking(conn: Connection, person_ids: list[str]) -> set[str]:
    """The people whose id is the id of one of their own bookings: the source minted a person per booking."""
    found: set[str] = set()
    for start in range(0, len(person_ids), _CHUNK):
        chunk = person_ids[start:start + _CHUNK]
        query = select(bookings.c.person_id).where(bookings.c.person_id.in_(chunk),
                                                   bookings.c.booking_id == bookings.c.person_id)
        found.update(conn.execute(query).scalars())
    return found


def last_booking_day(conn: Connection) -> date | None:
    """The day of the latest booking in the data (any facility but ICE detention)."""
    query = (select(func.max(bookings.c.booked_on))
             .select_from(bookings.join(facilities, facilities.c.facility_id == bookings.c.facility_id))
             .where(or_(facilities.c.kind.is_(None), facilities.c.kind.not_in(NOT_AN_ARREST))))
    return conn.execute(query).scalar()
