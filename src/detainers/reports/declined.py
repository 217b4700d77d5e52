"""Declined detainer outcomes (DESIGN §7): what became of detainers that ended in a period.

Per jurisdiction, the detainers that ended in the period by outcome — counted on
the day they ended, under the policy in force that day, so a jurisdiction whose
policy changed inside the period gets one row per policy — beside the detainers
lodged in the period and those still open at its end; then every declined
detainer with its charges, the policies, and what the data cannot show.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from detainers import audit
from detainers.analytics import custody, provenance
from detainers.analytics import declined as queries
from detainers.analytics.drilldown import detainer_spec, place
from detainers.errors import InputError
from detainers.model import Audience
from detainers.offenses import most_serious
from detainers.privacy import Keyer, installation_secret
from detainers.reports import manifest, suppress

TITLE = "Declined detainer outcomes: detainers that ended, by outcome, jurisdiction and policy"

#: Outcomes a detainer that ended can have, in column order.
ENDED_OUTCOMES = ("honored", "declined", "transferred", "lifted", "cancelled", "unknown")
#: Outcomes that mean the custodian decided at release: the denominator of the decline rate.
DECIDED = ("honored", "declined", "transferred")


@dataclass(frozen=True)
class DeclinedQuery:
    date_from: date
    date_to: date
    jurisdiction_ids: tuple[str, ...] = ()
    audience: str = Audience.PUBLIC
    #: Small-cell threshold for the public audience (None: DETAINERS_SUPPRESS_BELOW, else 5).
    suppress_below: int | None = None


def build(conn: Connection, q: DeclinedQuery) -> dict:
    """The report as one plain dict; every renderer (md, csv, html, json) draws on it."""
    if q.date_from > q.date_to:
        raise InputError(f"The period starts ({q.date_from}) after it ends ({q.date_to}); swap FROM and TO.")
    restricted = q.audience == Audience.RESTRICTED
    threshold = suppress.resolve_threshold(q.suppress_below)
    scope = queries.Scope(tuple(q.jurisdiction_ids), unplaced=not q.jurisdiction_ids)

    rows = _jurisdiction_rows(conn, q, scope)
    stance_on = _stance_lookup(rows)
    declined = _declined(conn, q, scope, stance_on, restricted, rows)
    listed = list(dict.fromkeys(r["jurisdiction_id"] for r in rows if r["jurisdiction_id"] is not None))
    policy_table = _policy_table(conn, q, listed)

    sources = provenance.source_list(conn)
    synthetic = provenance.is_synthetic(sources)
    facts = queries.scope_facts(conn, q.date_from, q.date_to, scope)
    report = {
        "report": "declined",
        "title": TITLE,
        "period": {"from": q.date_from.isoformat(), "to": q.date_to.isoformat()},
        "audience": str(q.audience),
        "synthetic": synthetic,
        "data_label": provenance.SYNTHETIC_LABEL if synthetic else None,
        "parameters": {"jurisdictions": list(q.jurisdiction_ids)},
        "definitions": DEFINITIONS,
        "jurisdictions": rows,
        "totals": _totals(rows, declined),
        "declined": declined,
        "policies": policy_table,
        "scope": facts,
        "sources": sources,
        "fidelity": [],  # written below, from the counts as shown (suppressed for the public)
        "generated_by": provenance.tool_info(),
    }
    for row in rows:
        row["provenance"] = _row_provenance(row)
    report["totals"]["provenance"] = _totals_provenance(q)
    _suppress(report, threshold, public=not restricted)
    report["fidelity"] = _fidelity(conn, q, report["scope"], rows, sources, synthetic) + report["fidelity"]
    report["manifest"] = manifest.make(conn, "declined", q, suppress_below=threshold)
    if restricted:
        audit.record(conn, "report.restricted", {
            "report": "declined", "from": report["period"]["from"], "to": report["period"]["to"],
            "detainers": len(declined)})
    return report


DEFINITIONS = {
    "cohort": "Detainers are counted on the day they ended (release, transfer or lift), not the day they "
              "were lodged: a detainer lodged before the period and declined inside it is counted; one "
              "declined after the period is not.",
    "honored": "Ended with the person released to ICE custody.",
    "declined": "Ended with the person released (bond, sentence served, dismissal, recognizance or another "
                "release) while the detainer was active.",
    "transferred": "Ended with the person handed to another custodian (prison, another county, U.S. "
                   "Marshals); the detainer follows the person. Not a decline, and not a transfer to ICE.",
    "lifted": "Lifted by ICE before the release.",
    "cancelled": "Withdrawn by ICE as issued in error (wrong person, error in entry, U.S. citizen).",
    "unknown": "Ended (the person was released) but the records do not say how; never guessed.",
    "ended": "All detainers that ended in the row's period: the sum of the six outcome columns.",
    "decided": "honored + declined + transferred: detainers on which the custodian acted at release. "
               "The denominator of decline_rate.",
    "decline_rate": "declined / decided; empty when decided is 0. Not a share of detainers issued.",
    "issued": "Detainers lodged in the row's period (counted on the day lodged). Shown beside the ended "
              "counts for scale; it is not their denominator, and jurisdictions are not ranked by it.",
    "still_open": "Detainers lodged by the row's last day that had not ended on that day (the person was "
                  "still held). A count on one day: rows of one jurisdiction are not to be added up.",
    "end_unknown": "Detainers lodged by the row's last day with no end date and no custody record (no "
                   "booking, or an undated ICE record): whether they were still open is unknown.",
    "policy": "The jurisdiction's policy in force on the day each detainer ended. A jurisdiction whose "
              "policy changed inside the period has one row per policy, each covering the days that policy "
              "was in force (period_from–period_to, both inclusive). policy_from is the day the policy took "
              "effect; policy_to the day it stopped (exclusive), empty while it is in force.",
    "unplaced": "Detainers lodged with facilities that no jurisdiction has been assigned to.",
    "most_serious_category": "The highest-ranked category among the charges listed for the detainer "
                             "(DESIGN §6 order; ties broken by level, felony first). Charges are accusations "
                             "unless their stage is `convicted`.",
}


# ---------------------------------------------------------------- section I

def _jurisdiction_rows(conn: Connection, q: DeclinedQuery, scope: queries.Scope) -> list[dict]:
    ended = queries.ended_by_day(conn, q.date_from, q.date_to, scope)
    lodged = queries.lodged_by_day(conn, q.date_from, q.date_to, scope)
    open_at_end = queries.open_on(conn, q.date_to, scope)

    active = {r.jurisdiction_id for r in ended} | {r.jurisdiction_id for r in lodged} | set(open_at_end)
    found = queries.jurisdictions_of(conn, sorted((active - {None}) | set(q.jurisdiction_ids)))
    ids = sorted(found, key=lambda j: (found[j].state, found[j].name, j))
    policies = queries.policies_overlapping(conn, q.date_from, q.date_to, ids)

    parts: dict[str | None, list[queries.Interval]] = {
        j: queries.split_period(q.date_from, q.date_to, policies[j]) for j in ids}
    if scope.unplaced and None in active:
        parts[None] = [queries.Interval(q.date_from, q.date_to, None)]
    rows = {key: [_empty_row(found.get(key), key, part, len(pieces) > 1) for part in pieces]
            for key, pieces in parts.items()}
    starts = {key: [part.first for part in pieces] for key, pieces in parts.items()}

    def row_of(key, day) -> dict | None:
        if key not in rows:
            return None
        return rows[key][bisect_right(starts[key], day) - 1]

    for r in ended:
        row = row_of(r.jurisdiction_id, r.ended_on)
        if row is not None and r.outcome in ENDED_OUTCOMES:
            row[r.outcome] += r.n
    for r in lodged:
        row = row_of(r.jurisdiction_id, r.lodged_on)
        if row is not None:
            row["issued"] += r.n
    _fill_open(conn, q, rows, open_at_end)
    ordered = [row for key in ids for row in rows[key]] + rows.get(None, [])
    for row in ordered:
        _rates(row)
    return ordered


def _empty_row(j, key: str | None, part: queries.Interval, split: bool) -> dict:
    p = part.policy
    return {
        "jurisdiction_id": key,
        "name": j.name if j is not None else "unplaced (facility with no jurisdiction)",
        "state": j.state if j is not None else None,
        "policy_stance": p.stance if p is not None else None,
        "policy_agreement": p.agreement if p is not None else None,
        "policy_from": p.effective_from.isoformat() if p is not None else None,
        "policy_to": p.effective_to.isoformat() if p is not None and p.effective_to else None,
        "period_from": part.first.isoformat(),
        "period_to": part.last.isoformat(),
        "split": split,
        "issued": 0,
        **{o: 0 for o in ENDED_OUTCOMES},
        "ended": 0,
        "decided": 0,
        "decline_rate": None,
        "still_open": 0,
        "end_unknown": 0,
    }


def _fill_open(conn: Connection, q: DeclinedQuery, rows: dict, open_at_end: dict) -> None:
    """Snapshot counts on each row's last day (one query per distinct day before the period's end)."""
    days: dict[date, list[str]] = defaultdict(list)
    for key, pieces in rows.items():
        for row in pieces:
            last = date.fromisoformat(row["period_to"])
            if last == q.date_to:
                row["still_open"], row["end_unknown"] = open_at_end.get(key, (0, 0))
            else:
                days[last].append(key)
    for day, keys in sorted(days.items()):
        counts = queries.open_on(conn, day, queries.Scope(tuple(keys), unplaced=False))
        for key in keys:
            for row in rows[key]:
                if row["period_to"] == day.isoformat():
                    row["still_open"], row["end_unknown"] = counts.get(key, (0, 0))


def _rates(row: dict) -> None:
    row["ended"] = sum(row[o] for o in ENDED_OUTCOMES)
    row["decided"] = sum(row[o] for o in DECIDED)
    row["decline_rate"] = round(row["declined"] / row["decided"], 4) if row["decided"] else None


def _stance_lookup(rows: list[dict]):
    """The policy stance of a jurisdiction on a day of the period, from the split rows."""
    by_key: dict[str | None, list[dict]] = defaultdict(list)
    for row in rows:
        by_key[row["jurisdiction_id"]].append(row)

    def stance_on(key: str | None, day: date) -> str | None:
        for row in by_key.get(key, ()):
            if row["period_from"] <= day.isoformat() <= row["period_to"]:
                return row["policy_stance"]
        return None

    return stance_on


def _totals(rows: list[dict], declined: list[dict]) -> dict:
    totals = {k: sum(r[k] for r in rows) for k in ("issued", *ENDED_OUTCOMES, "ended", "decided")}
    totals["decline_rate"] = round(totals["declined"] / totals["decided"], 4) if totals["decided"] else None
    totals["jurisdictions"] = len({r["jurisdiction_id"] for r in rows if r["jurisdiction_id"] is not None})
    totals["rows"] = len(rows)
    totals["declined_listed"] = len(declined)
    return totals


def _counts_provenance(where: dict, first: str, last: str, open_day: str | None) -> dict:
    ended = {"ended_from": first, "ended_to": last}
    specs = {"issued": detainer_spec(**where, lodged_from=first, lodged_to=last)}
    specs.update({o: detainer_spec(**where, **ended, outcome=o) for o in ENDED_OUTCOMES})
    specs["ended"] = detainer_spec(**where, **ended, outcome_in=list(ENDED_OUTCOMES))
    specs["decided"] = detainer_spec(**where, **ended, outcome_in=list(DECIDED))
    if open_day:  # a row: snapshot counts on its last day
        specs["still_open"] = detainer_spec(**where, open_on=open_day)
        specs["end_unknown"] = detainer_spec(**where, end_unknown_on=open_day)
    else:  # the totals: the declined detainers listed in section II
        specs["declined_listed"] = specs["declined"]
    return specs


def _row_provenance(row: dict) -> dict:
    """Count key → the query spec of the detainers behind it (see analytics.drilldown)."""
    return _counts_provenance(place(row["jurisdiction_id"]), row["period_from"], row["period_to"], row["period_to"])


def _totals_provenance(q: DeclinedQuery) -> dict:
    where = {"jurisdiction_in": list(q.jurisdiction_ids)} if q.jurisdiction_ids else {}
    return _counts_provenance(where, q.date_from.isoformat(), q.date_to.isoformat(), None)


#: Section I lines a reader could subtract along: parts that add up to a total shown beside them.
_ROW_LINES = ((DECIDED, "decided"), (("decided", "lifted", "cancelled", "unknown"), "ended"), (ENDED_OUTCOMES, "ended"))
_SUMMED = ("issued", *ENDED_OUTCOMES, "ended", "decided")


def _suppress(report: dict, threshold: int, public: bool) -> None:
    rows = report["jurisdictions"]
    values, lines = {}, []
    prefixes = [f"jurisdictions.{i}" for i in range(len(rows))] + ["totals"]
    for prefix, row in zip(prefixes, [*rows, report["totals"]]):
        keys = _SUMMED + (("still_open", "end_unknown") if prefix != "totals" else ())
        values.update({f"{prefix}.{k}": row[k] for k in keys})
        lines += [suppress.Line(tuple(f"{prefix}.{p}" for p in parts), f"{prefix}.{total}")
                  for parts, total in _ROW_LINES]
    if rows:  # each column adds up to the totals row
        lines += [suppress.Line(tuple(f"jurisdictions.{i}.{k}" for i in range(len(rows))), f"totals.{k}")
                  for k in _SUMMED]
    # the scope facts restate some of those counts and are shown in the fidelity section
    facts = report["scope"]
    values.update({f"scope.{k}": v for k, v in facts.items()})
    lines.append(suppress.Line(("scope.ended_unknown", "scope.unknown_no_end"), "scope.unknown"))
    for fact, total in (("ended", "ended"), ("ended_unknown", "unknown")):
        if facts[fact] == report["totals"][total]:
            lines.append(suppress.Line((f"totals.{total}",), f"scope.{fact}"))
    rates = [(f"{p}.decline_rate", (f"{p}.declined", f"{p}.decided")) for p in prefixes]
    suppress.apply(report, values, lines, threshold, public, rates=rates,
                   mirrors={"totals.declined_listed": "totals.declined"}, protects=(
                       "Suppressed: the counts of section I and its totals. Not suppressed: the list of declined "
                       "detainers (section II), which this report shows row by row with pseudonymous keys — the "
                       "declined counts can be counted from it. Small numbers in this fidelity section are "
                       "suppressed the same way."))


# ---------------------------------------------------------------- section II

def _declined(conn: Connection, q: DeclinedQuery, scope: queries.Scope, stance_on, restricted: bool,
              rows: list[dict]) -> list[dict]:
    found = queries.declined_in(conn, q.date_from, q.date_to, scope)
    keyer = Keyer(installation_secret(conn))
    booked = custody.charges_of(conn, sorted({d.booking_id for d in found if d.booking_id}))
    unbooked = queries.charges_of_detainers(conn, sorted({d.detainer_id for d in found if not d.booking_id}))
    identities = custody.identities_of(conn, sorted({d.person_id for d in found})) if restricted else {}
    order = {key: i for i, key in enumerate(dict.fromkeys(r["jurisdiction_id"] for r in rows))}

    listed = []
    for d in found:
        charge_rows = booked[d.booking_id] if d.booking_id else unbooked[d.detainer_id]
        top = most_serious((c.category, c.level) for c in charge_rows)
        item = {
            "person_key": keyer(d.person_id),
            "citizenship": d.citizenship,
            "jurisdiction_id": d.jurisdiction_id,
            "facility_id": d.facility_id,
            "policy_stance": stance_on(d.jurisdiction_id, d.ended_on),
            "lodged_on": d.lodged_on.isoformat(),
            "released_on": d.ended_on.isoformat(),
            "release_reason": d.release_reason,
            "charges_from": ("booking" if d.booking_id else "detainer") if charge_rows else None,
            "charges": [{"description": c.description, "category": c.category, "stage": c.stage,
                         "level": c.level} for c in charge_rows],
            "most_serious_category": top[0] if top else None,
            "likely_duplicate": d.duplicate_of is not None,
        }
        if restricted:
            name, dob = identities.get(d.person_id, (None, None))
            item.update(person_id=d.person_id, name=name, date_of_birth=dob.isoformat() if dob else None,
                        detainer_id=d.detainer_id, booking_id=d.booking_id)
        listed.append((order.get(d.jurisdiction_id, len(order)), item))
    listed.sort(key=lambda pair: pair[0])  # stable: within a jurisdiction, release day order is kept
    return [item for _, item in listed]


# ---------------------------------------------------------------- section III

def _policy_table(conn: Connection, q: DeclinedQuery, ids: list[str]) -> list[dict]:
    found = queries.jurisdictions_of(conn, ids)
    by_j = queries.policies_overlapping(conn, q.date_from, q.date_to, ids)
    return [
        {"jurisdiction_id": j, "name": found[j].name, "state": found[j].state,
         "effective_from": p.effective_from.isoformat(),
         "effective_to": p.effective_to.isoformat() if p.effective_to else None,
         "stance": p.stance, "agreement": p.agreement, "criteria": p.criteria, "source": p.citation,
         "origin": p.origin}
        for j in ids for p in by_j[j]
    ]


# ---------------------------------------------------------------- section IV

def _share(part: int | str, whole: int | str) -> str:
    if not isinstance(part, int) or not isinstance(whole, int):
        return "share not shown: suppressed counts"
    return f"{part / whole:.1%}" if whole else "—"


def _fidelity(conn: Connection, q: DeclinedQuery, facts: dict, rows: list[dict], sources: list[dict],
              synthetic: bool) -> list[str]:
    notes = []
    if synthetic:
        notes.append("SYNTHETIC: the records behind this report were invented for demonstration; "
                     "no number in it describes real people.")
    if sources:
        loaded = [s["loaded_at"][:10] for s in sources if s["loaded_at"]]
        described = [s["as_of"] for s in sources if s["as_of"]]
        text = (f"Made from {len(sources)} loaded sources (listed below with their SHA-256), loaded "
                f"{min(loaded)} to {max(loaded)}" if loaded else f"Made from {len(sources)} loaded sources")
        if described:
            text += f"; the dated lists and snapshots among them describe {min(described)} to {max(described)}"
        notes.append(text + ".")
    else:
        notes.append("No sources are loaded: every count is zero because there are no records.")
    notes.append(
        f"{facts['detainers']} detainers were lodged or ended in the period. Of the {facts['ended']} that ended, "
        f"{facts['ended_unknown']} ({_share(facts['ended_unknown'], facts['ended'])}) have an unknown outcome "
        "(a release with no reason recorded); they are counted as unknown, not as declines.")
    if facts["unknown_no_end"]:
        notes.append(f"A further {facts['unknown_no_end']} detainers lodged in the period have an unknown "
                     "outcome and no end date, so they cannot be placed on any day and are in no ended count "
                     "(they appear as end_unknown).")
    notes.append(f"Of all {facts['detainers']} detainers lodged or ended in the period, {facts['unknown']} "
                 f"({_share(facts['unknown'], facts['detainers'])}) have an unknown outcome.")
    if facts["without_booking"]:
        notes.append(f"{facts['without_booking']} of them are linked to no jail booking: their outcome comes "
                     "only from ICE's lift reason, and their charges (if any) from the detainer record.")
    if facts["lifted_without_date"]:
        notes.append(f"{facts['lifted_without_date']} lifted or cancelled detainers carry no lift date and are "
                     "in no ended count.")
    if facts["duplicates"]:
        notes.append(f"{facts['duplicates']} detainers are flagged as likely duplicates (same person, facility "
                     "and day as another). They are counted, not dropped, and marked in the list of declines.")
    unplaced = provenance.unplaced_facilities(conn)
    if unplaced:
        where = ("are counted in the 'unplaced' row" if not q.jurisdiction_ids
                 else "are not in this report, which is limited to the jurisdictions named")
        notes.append(f"{unplaced} facilities have no jurisdiction assigned; {facts['unplaced']} detainers "
                     f"there that were lodged or ended in the period {where}.")
    split = sorted({f"{r['name']}, {r['state']}" for r in rows if r["split"]})
    if split:
        notes.append("Policy changed inside the period for: " + "; ".join(split) + ". Each is shown in one row "
                     "per policy, with detainers counted under the policy in force on the day they ended.")
    shared = provenance.shared_names(conn)
    if shared:
        notes.append("Jurisdictions are told apart by state and id, never by name alone; names used in more "
                     "than one state: " + "; ".join(shared) + ".")
    notes.extend(provenance.source_limits(sources))
    notes.append("A decline is attributed to the custodian on the day of release; who lodged the detainer, "
                 "and when, does not move it to another row or period.")
    notes.append("This report does not show what happened to people after their release (re-arrest or new "
                 "charges are a separate report), why a jail released someone beyond the recorded release "
                 "reason, or detainers never recorded in the loaded sources.")
    return notes
