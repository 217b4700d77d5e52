"""Queries behind the list endpoints of the API: facilities, detainers, regions, agreements.

`detainer_page` decides what to fetch from the audience: for the public audience it never
joins `person_identities` and returns only pseudonymous keys; ids, names, dates of birth and
the outcome rule (which can quote ICE's free-text lift reasons) are fetched only when restricted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, func, select

from detainers.privacy import Keyer, installation_secret
from detainers.store.schema import (
    agreements,
    charges,
    detainers,
    facilities,
    jurisdictions,
    person_identities,
    regions,
)


def facility_page(conn: Connection, *, jurisdiction_id: str | None = None, unplaced: bool | None = None,
                  limit: int = 100, offset: int = 0) -> tuple[int, list[dict]]:
    """(total, one page of facilities) with their jurisdiction and detainer count."""
    conditions = []
    if jurisdiction_id is not None:
        conditions.append(facilities.c.jurisdiction_id == jurisdiction_id)
    if unplaced is True:
        conditions.append(facilities.c.jurisdiction_id.is_(None))
    elif unplaced is False:
        conditions.append(facilities.c.jurisdiction_id.is_not(None))
    total = conn.execute(select(func.count()).select_from(facilities).where(*conditions)).scalar_one()
    per_facility = (select(detainers.c.facility_id, func.count().label("n"))
                    .group_by(detainers.c.facility_id).subquery("per_facility"))
    query = (select(facilities.c.facility_id, facilities.c.name, facilities.c.code, facilities.c.kind,
                    facilities.c.city, facilities.c.state, facilities.c.jurisdiction_id,
                    func.coalesce(per_facility.c.n, 0).label("detainers"))
             .select_from(facilities.outerjoin(per_facility, per_facility.c.facility_id == facilities.c.facility_id))
             .where(*conditions)
             .order_by(facilities.c.state, facilities.c.name, facilities.c.facility_id)
             .limit(limit).offset(offset))
    return total, [{**r._mapping, "detainers": int(r.detainers)} for r in conn.execute(query)]


@dataclass(frozen=True)
class DetainerFilter:
    jurisdiction_id: str | None = None
    facility_id: str | None = None
    outcome: str | None = None
    lodged_from: date | None = None
    lodged_to: date | None = None
    ended_from: date | None = None
    ended_to: date | None = None
    fy: int | None = None
    cohort: str = "lodged"

    def conditions(self) -> list:
        c = []
        if self.jurisdiction_id is not None:
            c.append(facilities.c.jurisdiction_id == self.jurisdiction_id)
        if self.facility_id is not None:
            c.append(detainers.c.facility_id == self.facility_id)
        if self.outcome is not None:
            c.append(detainers.c.outcome == self.outcome)
        for column, low, high in ((detainers.c.lodged_on, self.lodged_from, self.lodged_to),
                                  (detainers.c.ended_on, self.ended_from, self.ended_to)):
            if low is not None:
                c.append(column >= low)
            if high is not None:
                c.append(column <= high)
        if self.fy is not None:
            c.append((detainers.c.lodged_fy if self.cohort == "lodged" else detainers.c.ended_fy) == self.fy)
        return c


#: Sort keys of `detainer_page`; a leading "-" sorts descending. Detainers not ended sort last.
DETAINER_SORTS = ("lodged_on", "ended_on")


def detainer_page(conn: Connection, f: DetainerFilter, *, restricted: bool, sort: str = "lodged_on",
                  limit: int = 100, offset: int = 0) -> tuple[int, list[dict]]:
    """(total, one page of detainers) for the audience, with their charges."""
    key = sort.lstrip("-")
    if key not in DETAINER_SORTS:
        raise ValueError(f"sort must be one of {', '.join(DETAINER_SORTS)} (optionally with '-'), not {sort!r}")
    source = detainers.join(facilities, facilities.c.facility_id == detainers.c.facility_id).outerjoin(
        jurisdictions, jurisdictions.c.jurisdiction_id == facilities.c.jurisdiction_id)
    total = conn.execute(select(func.count()).select_from(source).where(*f.conditions())).scalar_one()
    columns = [detainers.c.detainer_id, detainers.c.person_id, detainers.c.booking_id, detainers.c.facility_id,
               facilities.c.name.label("facility_name"), facilities.c.jurisdiction_id,
               jurisdictions.c.name.label("jurisdiction_name"), detainers.c.form, detainers.c.lodged_on,
               detainers.c.lifted_on, detainers.c.ended_on, detainers.c.outcome, detainers.c.lodged_fy,
               detainers.c.ended_fy, detainers.c.duplicate_of]
    if restricted:
        columns += [detainers.c.outcome_rule, detainers.c.lift_reason, person_identities.c.name,
                    person_identities.c.date_of_birth]
        source = source.outerjoin(person_identities, person_identities.c.person_id == detainers.c.person_id)
    column = detainers.c[key]
    order = [column.is_(None), column.desc() if sort.startswith("-") else column.asc(), detainers.c.detainer_id]
    rows = list(conn.execute(select(*columns).select_from(source).where(*f.conditions())
                             .order_by(*order).limit(limit).offset(offset)))
    found = _charges(conn, [r.booking_id for r in rows if r.booking_id], [r.detainer_id for r in rows])
    secret = installation_secret(conn)
    person, detainer, booking = Keyer(secret), Keyer(secret, "D-"), Keyer(secret, "B-")
    items = []
    for r in rows:
        item = {
            "detainer_key": detainer(r.detainer_id), "person_key": person(r.person_id),
            "booking_key": booking(r.booking_id) if r.booking_id else None,
            "jurisdiction_id": r.jurisdiction_id, "jurisdiction_name": r.jurisdiction_name,
            "facility_id": r.facility_id, "facility_name": r.facility_name, "form": r.form,
            "lodged_on": r.lodged_on, "lifted_on": r.lifted_on, "ended_on": r.ended_on, "outcome": r.outcome,
            "lodged_fy": r.lodged_fy, "ended_fy": r.ended_fy, "likely_duplicate": r.duplicate_of is not None,
            "charges": found.get(("b", r.booking_id), []) + found.get(("d", r.detainer_id), []),
        }
        if restricted:
            item.update(detainer_id=r.detainer_id, person_id=r.person_id, booking_id=r.booking_id, name=r.name,
                        date_of_birth=r.date_of_birth, outcome_rule=r.outcome_rule, lift_reason=r.lift_reason)
        items.append(item)
    return total, items


def _charges(conn: Connection, booking_ids: list[str], detainer_ids: list[str]) -> dict[tuple, list[dict]]:
    """Criminal charges (detainer lines left out) keyed ("b", booking_id) or ("d", detainer_id)."""
    found: dict[tuple, list[dict]] = {}
    for kind, column, ids in (("b", charges.c.booking_id, sorted(set(booking_ids))),
                              ("d", charges.c.detainer_id, detainer_ids)):
        for start in range(0, len(ids), 500):
            query = (select(column.label("owner"), charges.c.description, charges.c.category, charges.c.stage,
                            charges.c.level)
                     .where(column.in_(ids[start:start + 500]), charges.c.is_detainer_line.is_(False))
                     .order_by(column, charges.c.charge_id))
            for c in conn.execute(query):
                found.setdefault((kind, c.owner), []).append(
                    {"description": c.description, "category": c.category, "stage": c.stage, "level": c.level})
    return found


def known(conn: Connection, table, column, value: str) -> bool:
    """Whether `value` is an id in `table` (a typo in a filter should not read as 'no records')."""
    return conn.execute(select(column).select_from(table).where(column == value).limit(1)).first() is not None


def region_list(conn: Connection) -> list[dict]:
    """Each region with the jurisdictions in it."""
    grouped: dict[str, list[str]] = {}
    for region, jurisdiction_id in conn.execute(select(regions.c.region, regions.c.jurisdiction_id)
                                                .order_by(regions.c.region, regions.c.jurisdiction_id)):
        grouped.setdefault(region, []).append(jurisdiction_id)
    return [{"region": r, "jurisdiction_ids": ids} for r, ids in grouped.items()]


def agreement_spans(conn: Connection) -> list[dict]:
    """Every 287(g) agreement span (one per agency × model × period), as derived from ICE's lists."""
    query = select(agreements).order_by(agreements.c.state, agreements.c.agency_key, agreements.c.active_from,
                                        agreements.c.model)
    return [{"state": a.state, "agency": a.agency, "county": a.county, "county_fips": a.county_fips,
             "jurisdiction_id": a.jurisdiction_id, "models": [a.model], "signed_on": a.signed_on,
             "active_from": a.active_from, "active_to": a.active_to, "first_list": a.first_list,
             "last_list": a.last_list}
            for a in conn.execute(query)]


def agreements_on_day(conn: Connection, day: date) -> list[dict]:
    """The agencies with an agreement in force on `day` (analytics.agreements), in the API's shape."""
    from detainers.analytics.agreements import agreements_on

    return [{**row, "first_list": None, "last_list": None} for row in agreements_on(conn, day)]
