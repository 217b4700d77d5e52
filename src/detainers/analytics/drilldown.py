"""Query specs: a small, JSON-able description of the records behind one count, and how to fetch them.

A spec is ``{"select": KIND, "where": {...}}``. Kinds:

``detainers`` — detainers, each counted once. Conditions (all must hold; dates are
ISO days, both ends included):

| key | meaning |
|---|---|
| `jurisdiction_id` | lodged with a facility of this jurisdiction |
| `unplaced` (true) | lodged with a facility that has no jurisdiction |
| `jurisdiction_in` | lodged with a facility of one of these jurisdictions |
| `region` | … of a jurisdiction in this region |
| `no_region` (true) | … of no jurisdiction in any region (unplaced facilities included) |
| `lodged_from`, `lodged_to` | lodged in these days |
| `ended_from`, `ended_to` | ended in these days |
| `outcome`, `outcome_in` | with this outcome / one of these outcomes |
| `open_on` | lodged by this day and not ended on it (ended later, or still in custody) |
| `end_unknown_on` | lodged by this day, no end date and not in custody |

``people_held`` — people held on a day with an active detainer (the non-cooperative
report), each counted once: `as_of`, `jurisdiction_id`, and optionally `category`
(at least one charge of the holding booking in it) and `stage` (of that charge).

``rearrest_people`` — people of one group of the re-arrest report, each counted once
on their first release in the period, followed as the report follows them:
`group` (declined, lifted_released, declined_under_honors, honored),
`released_from`, `released_to`, `follow_days`, `data_through` (the last booking
day the report used; none: everyone censored) and `status_in` (rebooked,
not_rebooked, censored, not_linkable). Each record is the person with the
detainer of the release and the first later booking within the window.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Connection, and_, exists, or_, select

from detainers.analytics import custody
from detainers.errors import InputError
from detainers.store.schema import bookings, charges, detainers, facilities, regions, sources

DETAINER_KEYS = ("jurisdiction_id", "unplaced", "jurisdiction_in", "region", "no_region", "lodged_from", "lodged_to",
                 "ended_from", "ended_to", "outcome", "outcome_in", "open_on", "end_unknown_on")
PEOPLE_KEYS = ("as_of", "jurisdiction_id", "category", "stage")
REARREST_KEYS = ("group", "released_from", "released_to", "follow_days", "data_through", "status_in")


def place(jurisdiction_id: str | None) -> dict:
    """The where-condition for one row's jurisdiction (None: the unplaced row)."""
    return {"jurisdiction_id": jurisdiction_id} if jurisdiction_id is not None else {"unplaced": True}


def detainer_spec(**where) -> dict:
    """A `detainers` spec; conditions given as None or empty are left out."""
    return {"select": "detainers", "where": {k: v for k, v in where.items() if v not in (None, (), [], False)}}


def people_spec(**where) -> dict:
    return {"select": "people_held", "where": {k: v for k, v in where.items() if v is not None}}


def rearrest_spec(**where) -> dict:
    return {"select": "rearrest_people", "where": dict(where)}


def _day(where: dict, key: str) -> date:
    try:
        return date.fromisoformat(where[key])
    except (TypeError, ValueError):
        raise InputError(f"Query spec: {key} must be a day (YYYY-MM-DD), not {where[key]!r}.") from None


def _conditions(where: dict) -> list:
    unknown = set(where) - set(DETAINER_KEYS)
    if unknown:
        raise InputError(f"Query spec: unknown conditions {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(DETAINER_KEYS)}).")
    j = facilities.c.jurisdiction_id
    out = []
    if "jurisdiction_id" in where:
        out.append(j == where["jurisdiction_id"])
    if where.get("unplaced"):
        out.append(j.is_(None))
    if "jurisdiction_in" in where:
        out.append(j.in_(list(where["jurisdiction_in"])))
    if "region" in where:
        out.append(j.in_(select(regions.c.jurisdiction_id).where(regions.c.region == where["region"])))
    if where.get("no_region"):
        out.append(or_(j.is_(None), ~exists().where(regions.c.jurisdiction_id == j)))
    for key, column, op in (("lodged_from", detainers.c.lodged_on, "ge"), ("lodged_to", detainers.c.lodged_on, "le"),
                            ("ended_from", detainers.c.ended_on, "ge"), ("ended_to", detainers.c.ended_on, "le")):
        if key in where:
            day = _day(where, key)
            out.append(column >= day if op == "ge" else column <= day)
    if "outcome" in where:
        out.append(detainers.c.outcome == where["outcome"])
    if "outcome_in" in where:
        out.append(detainers.c.outcome.in_(list(where["outcome_in"])))
    not_ended = detainers.c.ended_on.is_(None)
    if "open_on" in where:
        day = _day(where, "open_on")
        out += [detainers.c.lodged_on <= day,
                or_(detainers.c.ended_on > day, and_(not_ended, detainers.c.outcome == "in_custody"))]
    if "end_unknown_on" in where:
        day = _day(where, "end_unknown_on")
        out += [detainers.c.lodged_on <= day, not_ended, detainers.c.outcome != "in_custody"]
    return out


_RECORD_COLUMNS = (detainers.c.detainer_id, detainers.c.person_id, detainers.c.facility_id,
                   facilities.c.jurisdiction_id, detainers.c.booking_id, detainers.c.lodged_on, detainers.c.ended_on, detainers.c.outcome,
                   detainers.c.outcome_rule, detainers.c.duplicate_of, detainers.c.source_row,
                   sources.c.source_id, sources.c.kind.label("source_kind"), sources.c.name.label("source_name"),
                   sources.c.sha256.label("source_sha256"))


def _detainer_rows(conn: Connection, conditions: list) -> list:
    query = (select(*_RECORD_COLUMNS)
             .select_from(detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id)
                          .outerjoin(sources, sources.c.source_id == detainers.c.source_id))
             .where(*conditions)
             .order_by(detainers.c.lodged_on, detainers.c.detainer_id))
    return list(conn.execute(query))


def fetch(conn: Connection, spec: dict) -> tuple[str, list]:
    """('detainers', rows) or ('people', [(person_id, booking_id, [detainer rows], [charge rows])])."""
    kind, where = spec.get("select"), dict(spec.get("where") or {})
    if kind == "detainers":
        return "detainers", _detainer_rows(conn, _conditions(where))
    if kind == "people_held":
        return "people", _people_held(conn, where)
    if kind == "rearrest_people":
        return "released_people", _rearrest_people(conn, where)
    raise InputError(f"Query spec: select must be 'detainers', 'people_held' or 'rearrest_people', not {kind!r}.")


def _rearrest_people(conn: Connection, where: dict) -> list:
    """[(person_id, follow-up, detainer row, charge rows of the first later booking)], in release order."""
    from detainers.reports.rearrest import STATUSES, group_people  # the report's own definition of its groups

    missing = set(REARREST_KEYS) - set(where)
    unknown = set(where) - set(REARREST_KEYS)
    if missing or unknown:
        raise InputError(f"Query spec: rearrest_people needs exactly {', '.join(REARREST_KEYS)}.")
    statuses = list(where["status_in"] or ())
    if set(statuses) - set(STATUSES):
        raise InputError(f"Query spec: status_in holds {', '.join(STATUSES)}, not {statuses!r}.")
    try:
        follow_days = int(where["follow_days"])
    except (TypeError, ValueError):
        raise InputError(f"Query spec: follow_days must be a number of days, not {where['follow_days']!r}.") from None
    through = _day(where, "data_through") if where["data_through"] is not None else None
    items = [p for p in group_people(conn, where["group"], _day(where, "released_from"), _day(where, "released_to"),
                                     follow_days, through) if p["status"] in statuses]
    ids = sorted({p["row"].detainer_id for p in items})
    rows = {}
    for start in range(0, len(ids), 500):
        rows.update({r.detainer_id: r for r in _detainer_rows(conn, [detainers.c.detainer_id.in_(ids[start:start + 500])])})
    charge_rows = custody.charges_of(conn, sorted({p["rebooking_id"] for p in items if p["rebooking_id"]}))
    return [(p["row"].person_id, p, rows[p["row"].detainer_id],
             charge_rows.get(p["rebooking_id"], []) if p["rebooking_id"] else []) for p in items]


def _people_held(conn: Connection, where: dict) -> list:
    unknown = set(where) - set(PEOPLE_KEYS)
    if unknown or "as_of" not in where or "jurisdiction_id" not in where:
        raise InputError("Query spec: people_held needs as_of and jurisdiction_id (and at most category, stage).")
    day = _day(where, "as_of")
    held = custody.held_on(conn, day, [where["jurisdiction_id"]])
    charge_rows = custody.charges_of(conn, sorted({h.booking_id for h in held}))
    # the active detainers behind each person: held_on's conditions, ungrouped (placed by the booking's facility)
    query = (select(*_RECORD_COLUMNS)
             .select_from(detainers.join(bookings, bookings.c.booking_id == detainers.c.booking_id)
                          .join(facilities, facilities.c.facility_id == bookings.c.facility_id)
                          .outerjoin(sources, sources.c.source_id == detainers.c.source_id))
             .where(facilities.c.jurisdiction_id == where["jurisdiction_id"], detainers.c.lodged_on <= day,
                    or_(detainers.c.ended_on.is_(None), detainers.c.ended_on > day),
                    bookings.c.booked_on <= day,
                    or_(bookings.c.released_on.is_(None), bookings.c.released_on > day))
             .order_by(detainers.c.lodged_on, detainers.c.detainer_id))
    active = list(conn.execute(query))
    by_person = defaultdict(list)
    for row in active:
        by_person[row.person_id].append(row)
    found = []
    for h in held:
        matching = [c for c in charge_rows[h.booking_id]
                    if ("category" not in where or c.category == where["category"])
                    and ("stage" not in where or c.stage == where["stage"])]
        if ("category" in where or "stage" in where) and not matching:
            continue
        found.append((h.person_id, h.booking_id, by_person[h.person_id], matching))
    return found


def charge_sources(conn: Connection, charge_ids: list[str]) -> dict[str, tuple]:
    """(source_row, source_id, kind, name, sha256) per charge id."""
    found = {}
    for start in range(0, len(charge_ids), 500):
        query = (select(charges.c.charge_id, charges.c.source_row, sources.c.source_id, sources.c.kind,
                        sources.c.name, sources.c.sha256)
                 .select_from(charges.outerjoin(sources, sources.c.source_id == charges.c.source_id))
                 .where(charges.c.charge_id.in_(charge_ids[start:start + 500])))
        found.update({r.charge_id: r for r in conn.execute(query)})
    return found
