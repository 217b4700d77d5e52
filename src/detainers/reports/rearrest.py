"""Re-arrest after release (DESIGN §1, §7): were people released despite a detainer booked again?

People released in a period are followed for a fixed number of days after the
release day. A person is "re-booked" when the data holds a later booking of the
same person (same `person_id`; booked on a day after the release day, at most
`follow_days` later; bookings into ICE detention are custody, not arrests).
The same measure is taken for comparison groups so the number has context.
People whose follow-up runs past the last booking in the data are censored:
counted, and left out of the denominator. A new booking is an arrest, not a
conviction: its charges are accusations unless their stage says `convicted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from sqlalchemy import Connection

from detainers import audit
from detainers.analytics import custody, provenance
from detainers.analytics.drilldown import rearrest_spec
from detainers.analytics import rearrest as queries
from detainers.errors import InputError
from detainers.model import Audience, Stage
from detainers.offenses import most_serious
from detainers.offenses.taxonomy import category_rank
from detainers.privacy import Keyer, installation_secret
from detainers.reports import manifest, suppress
from detainers.reports.policy_change import MIN_DECIDED, wilson_interval

TITLE = "Re-arrest after release: later bookings of people released despite a detainer, with comparison groups"

#: (id, label, definition) of each group, the main one first.
GROUPS = (
    ("declined", "Released despite a detainer",
     "The detainer ended `declined` in the period: the jail released the person (bond, sentence served, "
     "dismissal, recognizance or another release) while the detainer was active, under any policy."),
    ("lifted_released", "(a) Released after ICE lifted or cancelled the detainer",
     "ICE lifted or cancelled the detainer while the person was held, and the jail then released the person "
     "to the community (not to ICE, not to another custodian) on a day in the period."),
    ("declined_under_honors", "(b) Released despite a detainer, in a jurisdiction whose policy was to honour it",
     "Part of the main group: the detainer ended `declined` on a day when the policy in force where the person "
     "was held was `honors`. These people were released although the jurisdiction's policy was to honour "
     "detainers (for example on bond before ICE took custody): their release was not the result of a policy "
     "of declining. The rest of the main group were released under a `declines` or `limited` policy, or where "
     "no policy is recorded."),
    ("honored", "(c) Handed to ICE (detainer honoured)",
     "The detainer ended `honored` in the period: the person was released to ICE custody. A later booking at a "
     "local jail means the person was back in the community after ICE custody; it is rare, and meaningful."),
)
STATUSES = ("rebooked", "not_rebooked", "censored", "not_linkable")
NOT_LINKABLE = {
    "one_person_per_booking": "the source gives each booking its own person (sheriffs' jail reports; jail "
                              "exports with no person id column), so a later booking of the same person cannot "
                              "be recognised",
    "ice_records_only": "the person is known only from ICE releases, whose identifiers no jail record shares",
}


@dataclass(frozen=True)
class RearrestQuery:
    date_from: date
    date_to: date
    follow_days: int = 365
    audience: str = Audience.PUBLIC
    #: Small-cell threshold for the public audience (None: DETAINERS_SUPPRESS_BELOW, else 5).
    suppress_below: int | None = None


def build(conn: Connection, q: RearrestQuery) -> dict:
    """The report as one plain dict; every renderer (md, csv, html, json) draws on it."""
    if q.date_from > q.date_to:
        raise InputError(f"The period starts ({q.date_from}) after it ends ({q.date_to}); swap FROM and TO.")
    if q.follow_days < 1:
        raise InputError(f"The follow-up must be at least 1 day (got {q.follow_days}).")
    if q.audience not in (Audience.PUBLIC, Audience.RESTRICTED):
        raise InputError(f"The audience is public or restricted, not {q.audience!r}.")
    threshold = suppress.resolve_threshold(q.suppress_below)
    restricted = q.audience == Audience.RESTRICTED
    members = _members(conn, q)
    everyone = sorted({r.person_id for rows in members.values() for r in rows})
    data_through = queries.last_booking_day(conn)
    unlinkable = _not_linkable(conn, members, everyone)
    later = queries.later_bookings(conn, everyone, min((r.released_on for rows in members.values() for r in rows),
                                                       default=q.date_from))

    people: list[dict] = []
    groups = []
    for key, label, definition in GROUPS:
        listed = [_follow(r, q.follow_days, data_through, unlinkable, later) for r in _first_release(members[key])]
        for item in listed:
            item["group"] = key
        groups.append(_summary(key, label, definition, listed))
        people += listed

    rebooked = sorted({p["rebooking_id"] for p in people if p["rebooking_id"]})
    charges = custody.charges_of(conn, rebooked)
    for g in groups:
        g["new_charges"], g["no_charges_recorded"] = _charge_table(
            [charges[p["rebooking_id"]] for p in people if p["group"] == g["group"] and p["rebooking_id"]])
    keyer = Keyer(installation_secret(conn))
    identities = custody.identities_of(conn, everyone) if restricted else {}
    public = [_public(p, keyer, charges, restricted, identities) for p in people]

    sources = provenance.source_list(conn)
    synthetic = provenance.is_synthetic(sources)
    facts = _facts(conn, q, members, unlinkable, data_through)
    report = {
        "report": "rearrest",
        "title": TITLE,
        "period": {"from": q.date_from.isoformat(), "to": q.date_to.isoformat()},
        "audience": str(q.audience),
        "synthetic": synthetic,
        "data_label": provenance.SYNTHETIC_LABEL if synthetic else None,
        "parameters": {"follow_days": q.follow_days, "confidence": 0.95},
        "definitions": DEFINITIONS,
        "data_through": data_through.isoformat() if data_through else None,
        "groups": groups,
        "people": public,
        "scope": facts,
        "sources": sources,
        "fidelity": [],  # written below, from the counts as shown (suppressed for the public)
        "generated_by": provenance.tool_info(),
    }
    for g in groups:
        g["provenance"] = _group_provenance(g["group"], q, data_through)
    _suppress(report, threshold, public=not restricted)
    report["fidelity"] = _fidelity(conn, q, groups, facts, data_through, sources, synthetic) + report["fidelity"]
    report["manifest"] = manifest.make(conn, "rearrest", q, suppress_below=threshold)
    if restricted:
        audit.record(conn, "report.restricted", {
            "report": "rearrest", "from": report["period"]["from"], "to": report["period"]["to"],
            "people": len(everyone)})
    return report


manifest.register("rearrest", __name__, "RearrestQuery")


DEFINITIONS = {
    "released": "People in the group, each counted once, on their first release in the period (the release day "
                "is the day the detainer ended; for group (a), the day the booking ended).",
    "re-booked": "A later booking of the same person (same person id) that began after the release day and at "
                 "most follow_days after it — a booking on the last day of the window counts. Bookings into ICE "
                 "detention are custody, not arrests, and do not count. When a person was booked more than once, "
                 "the first later booking is the one measured.",
    "days_to_rebooking": "Days from the release day to the first later booking.",
    "censored": "People whose follow-up window runs past the last booking day in the data (data_through): "
                "whether they were re-booked within the window cannot be known yet. Counted, and left out of "
                "the denominator, whether or not a booking was seen.",
    "not_linkable": "People whose later bookings cannot be recognised: sources that give each booking its own "
                    "person, or people known only from ICE releases. Counted, and left out of the denominator.",
    "followed": "released − not_linkable − censored: the denominator of the share.",
    "share": "re-booked / followed, with a 95% Wilson score interval (low–high).",
    "median_days": "The median of days_to_rebooking among those re-booked within the window.",
    "new_charges": "The charges of the first later booking, by category: people charged with at least one "
                   "offence in the category, and the number of such charges at each stage. A booking is an arrest, "
                   "not a conviction: a charge is an accusation unless its stage is `convicted`.",
    **{key: definition for key, _, definition in GROUPS},
}


# ---------------------------------------------------------------- who is in each group

def _members(conn: Connection, q: RearrestQuery) -> dict[str, list]:
    declined = queries.ended_in(conn, q.date_from, q.date_to, ("declined",))
    return {
        "declined": declined,
        "lifted_released": queries.lifted_then_released(conn, q.date_from, q.date_to),
        "declined_under_honors": [r for r in declined if r.policy_stance == "honors"],
        "honored": queries.ended_in(conn, q.date_from, q.date_to, ("honored",)),
    }


#: Count key of a group → the follow-up statuses of the people behind it.
COUNT_STATUSES = {"released": STATUSES, "followed": ("rebooked", "not_rebooked"), "rebooked": ("rebooked",),
                  "not_linkable": ("not_linkable",), "censored": ("censored",)}


def _group_provenance(group: str, q: RearrestQuery, data_through: date | None) -> dict:
    """Count key → the query spec of the people behind it (see analytics.drilldown, `rearrest_people`)."""
    return {key: rearrest_spec(group=group, released_from=q.date_from.isoformat(),
                               released_to=q.date_to.isoformat(), follow_days=q.follow_days,
                               data_through=data_through.isoformat() if data_through else None,
                               status_in=list(statuses))
            for key, statuses in COUNT_STATUSES.items()}


def group_people(conn: Connection, group: str, date_from: date, date_to: date, follow_days: int,
                 data_through: date | None) -> list[dict]:
    """The people of one group as `build` follows them (first release in the period, status, first later
    booking), with the last booking day the report used: the drill-down of the group's counts."""
    if group not in {key for key, _, _ in GROUPS}:
        raise InputError(f"Query spec: group must be one of {', '.join(k for k, _, _ in GROUPS)}, not {group!r}.")
    rows = _members(conn, RearrestQuery(date_from, date_to, follow_days))[group]
    everyone = sorted({r.person_id for r in rows})
    unlinkable = _not_linkable(conn, {group: rows}, everyone)
    later = queries.later_bookings(conn, everyone, min((r.released_on for r in rows), default=date_from))
    return [_follow(r, follow_days, data_through, unlinkable, later) for r in _first_release(rows)]


def _first_release(rows: list) -> list:
    """One row per person: the earliest release (rows come ordered by release day)."""
    first: dict[str, object] = {}
    for r in rows:
        first.setdefault(r.person_id, r)
    return list(first.values())


def _not_linkable(conn: Connection, members: dict[str, list], everyone: list[str]) -> dict[str, str]:
    minted = queries.one_person_per_booking(conn, everyone)
    reasons = {p: "one_person_per_booking" for p in minted}
    for rows in members.values():
        for r in rows:
            if r.person_id not in reasons and r.person_source_kind == "ice-lesa":
                reasons[r.person_id] = "ice_records_only"
    return reasons


def _follow(r, follow_days: int, data_through: date | None, unlinkable: dict[str, str], later: dict) -> dict:
    """One person's follow-up: status, and the first later booking within the window."""
    window_end = r.released_on + timedelta(days=follow_days)
    item = {"row": r, "released_on": r.released_on, "window_end": window_end, "status": None,
            "not_linkable_reason": unlinkable.get(r.person_id), "rebooking": None, "rebooking_id": None,
            "bookings_in_window": 0}
    if item["not_linkable_reason"]:
        item["status"] = "not_linkable"
        return item
    if data_through is None or window_end > data_through:
        item["status"] = "censored"
        return item
    within = [b for b in later.get(r.person_id, ()) if r.released_on < b.booked_on <= window_end]
    item["bookings_in_window"] = len(within)
    if within:
        item["status"], item["rebooking"], item["rebooking_id"] = "rebooked", within[0], within[0].booking_id
    else:
        item["status"] = "not_rebooked"
    return item


# ---------------------------------------------------------------- summaries

def _summary(key: str, label: str, definition: str, listed: list[dict]) -> dict:
    status = {s: sum(1 for p in listed if p["status"] == s) for s in STATUSES}
    followed = status["rebooked"] + status["not_rebooked"]
    ci = wilson_interval(status["rebooked"], followed)
    days = [(p["rebooking"].booked_on - p["released_on"]).days for p in listed if p["rebooking"]]
    reasons = {k: sum(1 for p in listed if p["not_linkable_reason"] == k) for k in NOT_LINKABLE}
    if not followed:
        note = "Nobody in this group could be followed for the whole window: there is no share to give."
    elif followed < MIN_DECIDED:
        note = (f"Only {followed} people could be followed for the whole window: too few to say much; the interval "
                "shows how wide the uncertainty is.")
    else:
        note = None
    return {
        "group": key,
        "label": label,
        "released": len(listed),
        "not_linkable": status["not_linkable"],
        "not_linkable_by_reason": reasons,
        "censored": status["censored"],
        "followed": followed,
        "rebooked": status["rebooked"],
        "share": round(status["rebooked"] / followed, 4) if followed else None,
        "low": round(ci[0], 4) if ci else None,
        "high": round(ci[1], 4) if ci else None,
        "median_days": median(days) if days else None,
        "min_days": min(days) if days else None,
        "max_days": max(days) if days else None,
        "note": note,
    }


def _charge_table(charge_lists: list[list]) -> tuple[list[dict], int]:
    """Per category: people charged with at least one offence in it, and charges by stage."""
    table: dict[str, dict] = {}
    empty = 0
    for charges in charge_lists:
        if not charges:
            empty += 1
        seen = set()
        for c in charges:
            row = table.setdefault(c.category, {"category": c.category, "people": 0, "charges": 0,
                                                **{s.value: 0 for s in Stage}})
            row["charges"] += 1
            row[c.stage if c.stage in row else "unknown"] += 1
            if c.category not in seen:
                row["people"] += 1
                seen.add(c.category)
    return sorted(table.values(), key=lambda row: (category_rank(row["category"]), row["category"])), empty


def _public(p: dict, keyer: Keyer, charges: dict, restricted: bool, identities: dict) -> dict:
    r, b = p["row"], p["rebooking"]
    found = charges.get(p["rebooking_id"], []) if b else []
    top = most_serious((c.category, c.level) for c in found)
    item = {
        "group": p["group"],
        "person_key": keyer(r.person_id),
        "citizenship": r.citizenship,
        "jurisdiction_id": r.jurisdiction_id,
        "facility_id": r.facility_id,
        "policy_stance": r.policy_stance,
        "released_on": r.released_on.isoformat(),
        "release_reason": r.release_reason,
        "window_end": p["window_end"].isoformat(),
        "status": p["status"],
        "not_linkable_reason": p["not_linkable_reason"],
        "rebooked_on": b.booked_on.isoformat() if b else None,
        "days_to_rebooking": (b.booked_on - r.released_on).days if b else None,
        "rebooking_facility_id": b.facility_id if b else None,
        "rebooking_jurisdiction_id": b.jurisdiction_id if b else None,
        "bookings_in_window": p["bookings_in_window"],
        "charges": [{"description": c.description, "category": c.category, "stage": c.stage, "level": c.level}
                    for c in found],
        "most_serious_category": top[0] if top else None,
    }
    if restricted:
        name, dob = identities.get(r.person_id, (None, None))
        item.update(person_id=r.person_id, name=name, date_of_birth=dob.isoformat() if dob else None,
                    booking_id=r.booking_id, rebooking_id=p["rebooking_id"])
    return item


# ---------------------------------------------------------------- small-cell suppression

_GROUP_COUNTS = ("released", "not_linkable", "censored", "followed", "rebooked", "no_charges_recorded")
_CHARGE_COUNTS = ("people", "charges", *(s.value for s in Stage))
#: What a share or a figure left empty because of suppressed counts says instead.
WITHHELD = "withheld: computed from suppressed counts"


def _suppress(report: dict, threshold: int, public: bool) -> None:
    """Lines: per group, released = not_linkable + censored + followed and not_linkable adds up by reason; per
    category of section II, the charges at each stage add up to `charges`; the scope's not_linkable adds up by
    reason."""
    values, lines, rates = {}, [], []
    for gi, g in enumerate(report["groups"]):
        p = f"groups.{gi}"
        values.update({f"{p}.{k}": g[k] for k in _GROUP_COUNTS})
        values.update({f"{p}.not_linkable_by_reason.{k}": n for k, n in g["not_linkable_by_reason"].items()})
        lines.append(suppress.Line((f"{p}.not_linkable", f"{p}.censored", f"{p}.followed"), f"{p}.released"))
        lines.append(suppress.Line(tuple(f"{p}.not_linkable_by_reason.{k}" for k in g["not_linkable_by_reason"]),
                                   f"{p}.not_linkable"))
        rates += [(f"{p}.{k}", (f"{p}.rebooked", f"{p}.followed")) for k in ("share", "low", "high")]
        rates += [(f"{p}.{k}", (f"{p}.rebooked",)) for k in ("median_days", "min_days", "max_days")]
        for ci, c in enumerate(g["new_charges"]):
            cp = f"{p}.new_charges.{ci}"
            values.update({f"{cp}.{k}": c[k] for k in _CHARGE_COUNTS})
            lines.append(suppress.Line(tuple(f"{cp}.{s.value}" for s in Stage), f"{cp}.charges"))
    scope = report["scope"]
    values.update({f"scope.{k}": scope[k] for k in ("people", "not_linkable")})
    values.update({f"scope.not_linkable_by_reason.{k}": n for k, n in scope["not_linkable_by_reason"].items()})
    lines.append(suppress.Line(tuple(f"scope.not_linkable_by_reason.{k}" for k in scope["not_linkable_by_reason"]),
                               "scope.not_linkable"))
    suppress.apply(report, values, lines, threshold, public, rates=rates, protects=(
        "Suppressed: the counts of sections I and II and the number of people in the fidelity section; the "
        "shares, intervals and days to re-booking of a group whose counts are suppressed are left empty. Not "
        "suppressed: the list of people (section III), which this report shows row by row with pseudonymous "
        "keys — the counts can be counted from it."))
    marked = set(report["suppression"]["cells"])
    for gi, g in enumerate(report["groups"]):
        if {f"groups.{gi}.rebooked", f"groups.{gi}.followed"} & marked:
            days = " and the days to re-booking are" if f"groups.{gi}.rebooked" in marked else " is"
            g["note"] = ("Counts of this group are too small to publish (suppressed for the public audience): the "
                         f"share{days} not shown.")


# ---------------------------------------------------------------- fidelity

def _facts(conn: Connection, q: RearrestQuery, members: dict[str, list], unlinkable: dict[str, str],
           data_through: date | None) -> dict:
    released = {r.person_id for rows in members.values() for r in rows}
    in_groups: dict[str, int] = {}
    for key in ("declined", "lifted_released", "honored"):  # (b) is part of the main group by definition
        for pid in {r.person_id for r in members[key]}:
            in_groups[pid] = in_groups.get(pid, 0) + 1
    kinds: dict[str, int] = {}
    for pid, reason in unlinkable.items():
        kinds[reason] = kinds.get(reason, 0) + 1
    return {
        "people": len(released),
        "in_more_than_one_group": sum(1 for n in in_groups.values() if n > 1),
        "not_linkable": len(unlinkable),
        "not_linkable_by_reason": {k: kinds.get(k, 0) for k in NOT_LINKABLE},
        "declined_without_booking": sum(1 for r in members["declined"] if r.booking_id is None),
        "lifted_release_unknown": queries.lifted_release_unknown(conn, q.date_from, q.date_to),
        "ended_unknown": queries.ended_unknown(conn, q.date_from, q.date_to),
        "data_through": data_through.isoformat() if data_through else None,
    }


def _fidelity(conn: Connection, q: RearrestQuery, groups: list[dict], facts: dict, data_through: date | None,
              sources: list[dict], synthetic: bool) -> list[str]:
    notes = []
    if synthetic:
        notes.append("SYNTHETIC: the records behind this report were invented for demonstration; "
                     "no number in it describes real people.")
    if sources:
        notes.append(f"Made from {len(sources)} loaded sources (listed below with their SHA-256).")
    else:
        notes.append("No sources are loaded: every count is zero because there are no records.")
    if data_through is None:
        notes.append("The data hold no bookings, so nobody can be followed: everyone is censored.")
    else:
        censored = ", ".join(f"{g['censored']} in {g['group']}" for g in groups)
        notes.append(f"The last booking in the data began on {data_through}. People whose {q.follow_days}-day "
                     f"follow-up runs past that day are censored ({censored}): "
                     "they are counted, and left out of the denominators, because a booking after the data end "
                     "could not have been seen. The last day of the data is taken over all loaded sources; a "
                     "source that ends earlier can hide re-bookings at its facilities.")
    notes.append("People are linked only by the same person id. People from different sources are linked only "
                 "when the sources share ids; a re-arrest recorded under another id (another agency, another "
                 "spelling) is not seen.")
    if facts["not_linkable"]:
        by = facts["not_linkable_by_reason"]
        parts = [f"{n} because {NOT_LINKABLE[k]}" for k, n in by.items() if n]
        notes.append(f"{facts['not_linkable']} of the {facts['people']} people released cannot be followed — "
                     + "; ".join(parts) + ". They are counted as not_linkable and left out of the denominators, "
                     "not counted as not re-booked.")
    notes.append("Re-bookings are seen only at facilities whose records are loaded: an arrest in another county "
                 "or state is not seen, so every share is a lower bound of re-arrest anywhere.")
    notes.append("A booking is an arrest, not a conviction: the charges of a later booking are listed as "
                 "'charged with', each with its stage; only stage `convicted` is a conviction.")
    if facts["in_more_than_one_group"]:
        notes.append(f"{facts['in_more_than_one_group']} people are in more than one of the main group, (a) and (c) "
                     "(on different releases in the period); each group follows them from their own release.")
    notes.append("Group (b) is part of the main group by definition (released despite a detainer, where the policy "
                 "was to honour detainers).")
    if facts["declined_without_booking"]:
        notes.append(f"{facts['declined_without_booking']} detainers in the main group are linked to no jail "
                     "booking: the release day is the end day in ICE's records.")
    if facts["lifted_release_unknown"]:
        notes.append(f"{facts['lifted_release_unknown']} lifted or cancelled detainers whose booking ended in the "
                     "period have no release reason recorded; they are in no group.")
    if facts["ended_unknown"]:
        notes.append(f"{facts['ended_unknown']} detainers ended in the period with an unknown outcome; they are in "
                     "no group (never guessed to be declines).")
    notes.append("Detainers that ended `transferred` (handed to another custodian) are in no group: the person "
                 "was not released.")
    shared = provenance.shared_names(conn)
    if shared:
        notes.append("Jurisdictions are told apart by state and id, never by name alone; names used in more "
                     "than one state: " + "; ".join(shared) + ".")
    notes.extend(provenance.source_limits(sources))
    notes.append("The groups differ in more than how their detainer ended (charges, history, how long they were "
                 "held, whether they were removed from the country): the comparison gives the number context; it "
                 "does not show that a release caused a re-arrest.")
    return notes
