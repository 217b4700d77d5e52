"""Which policy was in force where, on which day (intervals are [from, to))."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, or_, select

from detainers.store.schema import jurisdictions, policies


def in_force(day: date):
    """SQL condition: the policy row is in force on `day`."""
    return (policies.c.effective_from <= day) & or_(policies.c.effective_to.is_(None), policies.c.effective_to > day)


def policy_on(conn: Connection, jurisdiction_id: str, day: date):
    """The policy of one jurisdiction in force on `day`, or None."""
    return conn.execute(
        select(policies).where(policies.c.jurisdiction_id == jurisdiction_id, in_force(day))
    ).first()


def jurisdictions_on(conn: Connection, day: date, *, stances: tuple[str, ...] | None = None,
                     jurisdiction_ids: tuple[str, ...] | None = None) -> list:
    """Jurisdictions with the policy in force on `day` (None when they have none).

    With `stances`, only those whose policy on that day has one of them; with
    `jurisdiction_ids`, only those (whatever their policy).
    """
    query = (
        select(jurisdictions, policies.c.stance, policies.c.agreement, policies.c.effective_from,
               policies.c.effective_to, policies.c.criteria, policies.c.citation)
        .select_from(jurisdictions.outerjoin(
            policies, (policies.c.jurisdiction_id == jurisdictions.c.jurisdiction_id) & in_force(day)))
        .order_by(jurisdictions.c.state, jurisdictions.c.name, jurisdictions.c.jurisdiction_id)
    )
    if jurisdiction_ids:
        query = query.where(jurisdictions.c.jurisdiction_id.in_(jurisdiction_ids))
    elif stances:
        query = query.where(policies.c.stance.in_(stances))
    return list(conn.execute(query))


def unknown_jurisdictions(conn: Connection, ids: tuple[str, ...] | list[str]) -> list[str]:
    """The ids among `ids` that name no jurisdiction (a typo should not read as 'nobody held')."""
    if not ids:
        return []
    found = set(conn.execute(select(jurisdictions.c.jurisdiction_id).where(
        jurisdictions.c.jurisdiction_id.in_(list(ids)))).scalars())
    return [i for i in ids if i not in found]


def check_known(conn: Connection, jurisdiction_ids, region: str | None = None, *, flag: str = "--") -> None:
    """Unknown jurisdiction ids and regions are errors, not empty answers. `flag` prefixes the parameter
    name in the message: "--" for the command line ("--jurisdiction"), "" for the web ("jurisdiction")."""
    from detainers.errors import InputError
    from detainers.store.schema import regions

    missing = unknown_jurisdictions(conn, tuple(jurisdiction_ids or ()))
    if missing:
        what = "is not a known jurisdiction id" if len(missing) == 1 else "are not known jurisdiction ids"
        raise InputError(f"{flag}jurisdiction: {', '.join(map(repr, missing))} {what}")
    if region is not None and conn.execute(select(regions.c.region).where(regions.c.region == region)
                                           .limit(1)).first() is None:
        raise InputError(f"{flag}region: {region!r} is not a known region (see regions.csv)")


def timeline(conn: Connection, jurisdiction_id: str) -> list:
    """Every policy of one jurisdiction, oldest first."""
    return list(conn.execute(
        select(policies).where(policies.c.jurisdiction_id == jurisdiction_id).order_by(policies.c.effective_from)
    ))
