"""Transfers to ICE custody and outcomes by fiscal year (DESIGN §7), per jurisdiction or region.

Each fiscal year is counted two ways, side by side: by the day a detainer was
lodged (how many lodged that year ended honored, of all lodged) and by the day
it ended (how many ended honored that year, of all that ended). Both come from
analytics.stats.outcome_stats, the query behind `detainers stats outcomes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from detainers import audit
from detainers.analytics import provenance
from detainers.analytics.declined import lodged_facts, policies_overlapping
from detainers.analytics.drilldown import detainer_spec, place
from detainers.analytics.stats import OutcomeQuery, outcome_stats
from detainers.errors import InputError
from detainers.fiscal import fiscal_year_bounds
from detainers.model import OUTCOME_ORDER, Audience
from detainers.reports import manifest, suppress

TITLE = "Transfers to ICE custody and detainer outcomes by fiscal year"
GROUPINGS = ("jurisdiction", "region")


@dataclass(frozen=True)
class TransfersQuery:
    fy_from: int
    fy_to: int
    by: str = "jurisdiction"
    jurisdiction_ids: tuple[str, ...] = ()
    region: str | None = None
    #: The report has no person-level data; `restricted` only turns small-cell suppression off (and is audited).
    audience: str = Audience.PUBLIC
    #: Small-cell threshold for the public audience (None: DETAINERS_SUPPRESS_BELOW, else 5).
    suppress_below: int | None = None


def build(conn: Connection, q: TransfersQuery) -> dict:
    """The report as one plain dict; every renderer (md, csv, html, json) draws on it."""
    if q.by not in GROUPINGS:
        raise InputError(f"Group by one of {', '.join(GROUPINGS)}, not {q.by!r}.")
    if q.fy_from > q.fy_to:
        raise InputError(f"The first fiscal year ({q.fy_from}) is after the last ({q.fy_to}); swap them.")
    if q.audience not in (Audience.PUBLIC, Audience.RESTRICTED):
        raise InputError(f"The audience is public or restricted, not {q.audience!r}.")
    threshold = suppress.resolve_threshold(q.suppress_below)
    first, _ = fiscal_year_bounds(q.fy_from)
    _, last = fiscal_year_bounds(q.fy_to)

    def stats(cohort: str) -> list[dict]:
        return outcome_stats(conn, OutcomeQuery(by=(q.by, "fy"), cohort=cohort, date_from=first, date_to=last,
                                                jurisdiction_ids=tuple(q.jurisdiction_ids), region=q.region))

    groups = _groups(q, stats("lodged"), stats("ended"))
    if q.by == "jurisdiction":
        ids = [g["jurisdiction_id"] for g in groups if g["jurisdiction_id"] is not None]
        changes = policies_overlapping(conn, first, last, ids)
        for g in groups:
            g["policies"] = [_policy(p) for p in changes.get(g["jurisdiction_id"], [])]

    sources = provenance.source_list(conn)
    synthetic = provenance.is_synthetic(sources)
    report = {
        "report": "transfers",
        "title": TITLE,
        "period": {"from": first.isoformat(), "to": last.isoformat(), "fy_from": q.fy_from, "fy_to": q.fy_to},
        "audience": str(q.audience),
        "synthetic": synthetic,
        "data_label": provenance.SYNTHETIC_LABEL if synthetic else None,
        "parameters": {"by": q.by, "jurisdictions": list(q.jurisdiction_ids), "region": q.region},
        "definitions": DEFINITIONS,
        "groups": groups,
        "totals": _totals(groups, q),
        "sources": sources,
        "fidelity": [],  # written below, from the counts as shown (suppressed for the public)
        "generated_by": provenance.tool_info(),
    }
    _add_provenance(report, q)
    restricted = q.audience == Audience.RESTRICTED
    _suppress(report, threshold, public=not restricted)
    report["fidelity"] = _fidelity(conn, q, groups, sources, synthetic, first, last) + report["fidelity"]
    report["manifest"] = manifest.make(conn, "transfers", q, suppress_below=threshold)
    if restricted:
        audit.record(conn, "report.restricted", {"report": "transfers", "fy_from": q.fy_from, "fy_to": q.fy_to})
    return report


DEFINITIONS = {
    "fiscal_year": "U.S. federal fiscal year: FY2017 runs from 2016-10-01 to 2017-09-30.",
    "honored": "A detainer that ended with the person released to ICE custody — what ICE calls a transfer "
               "to ERO custody.",
    "lodged": "All detainers lodged in the fiscal year (counted on the day lodged). The denominator of "
              "honored_by_lodged.",
    "honored_by_lodged": "Detainers lodged in the fiscal year that ended honored (whenever they ended). Recent "
                         "years are incomplete: detainers still open may yet be honored (see open_of_lodged).",
    "open_of_lodged": "Detainers lodged in the fiscal year that had not ended when the data were loaded.",
    "ended": "All detainers that ended in the fiscal year (release, transfer or lift; counted on the day "
             "they ended). The denominator of honored_by_ended and share_honored.",
    "honored_by_ended": "Detainers that ended honored in the fiscal year, whenever they were lodged.",
    "share_honored": "honored_by_ended / ended; empty when nothing ended that year.",
    "ended_outcomes": "The detainers that ended in the fiscal year, by outcome. `transferred` means handed "
                      "to another custodian (prison, another county, U.S. Marshals), not to ICE; it is "
                      "neither a transfer to ICE nor a decline.",
    "policies": "The jurisdiction's policies in force during the years shown, to read the years before and "
                "after a change side by side.",
}


def _key(q: TransfersQuery, row: dict) -> tuple:
    if q.by == "jurisdiction":
        return (row["jurisdiction_id"], row["jurisdiction_name"], row["state"])
    return (row["region"],)


def _groups(q: TransfersQuery, lodged: list[dict], ended: list[dict]) -> list[dict]:
    keys = list(dict.fromkeys(_key(q, r) for r in lodged + ended))
    if q.by == "jurisdiction":
        keys.sort(key=lambda k: (k[0] is None, k[2] or "", k[1] or "", k[0] or ""))
    else:
        keys.sort(key=lambda k: (k[0] is None, k[0] or ""))
    by_lodged = {(_key(q, r), r["fy"]): r for r in lodged}
    by_ended = {(_key(q, r), r["fy"]): r for r in ended}
    groups = []
    for key in keys:
        group = ({"jurisdiction_id": key[0],
                  "name": key[1] if key[0] is not None else "unplaced (facility with no jurisdiction)",
                  "state": key[2]}
                 if q.by == "jurisdiction" else {"region": key[0], "name": key[0] or "(in no region)"})
        group["years"] = [_year(fy, by_lodged.get((key, fy)), by_ended.get((key, fy)))
                          for fy in range(q.fy_from, q.fy_to + 1)]
        groups.append(group)
    return groups


def _year(fy: int, lodged: dict | None, ended: dict | None) -> dict:
    first, last = fiscal_year_bounds(fy)
    n_ended = ended["lodged"] if ended else 0  # outcome_stats calls its group total `lodged`
    honored_ended = ended["honored"] if ended else 0
    return {
        "fy": fy,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "honored_by_lodged": lodged["honored"] if lodged else 0,
        "lodged": lodged["lodged"] if lodged else 0,
        "open_of_lodged": lodged["in_custody"] if lodged else 0,
        "honored_by_ended": honored_ended,
        "ended": n_ended,
        "share_honored": round(honored_ended / n_ended, 4) if n_ended else None,
        "ended_outcomes": {o: (ended[o] if ended else 0) for o in OUTCOME_ORDER if o != "in_custody"},
    }


def _policy(p) -> dict:
    return {"effective_from": p.effective_from.isoformat(),
            "effective_to": p.effective_to.isoformat() if p.effective_to else None,
            "stance": p.stance, "agreement": p.agreement, "criteria": p.criteria, "source": p.citation}


def _totals(groups: list[dict], q: TransfersQuery) -> list[dict]:
    """Per fiscal year, over all groups (a jurisdiction in two regions would count twice: not summed then)."""
    if q.by == "region":
        return []
    totals = []
    for i, fy in enumerate(range(q.fy_from, q.fy_to + 1)):
        years = [g["years"][i] for g in groups]
        row = {"fy": fy, **{k: sum(y[k] for y in years)
                            for k in ("honored_by_lodged", "lodged", "open_of_lodged", "honored_by_ended", "ended")}}
        row["share_honored"] = round(row["honored_by_ended"] / row["ended"], 4) if row["ended"] else None
        totals.append(row)
    return totals


def _year_provenance(where: dict, first: str, last: str) -> dict:
    lodged = {"lodged_from": first, "lodged_to": last}
    ended = {"ended_from": first, "ended_to": last}
    specs = {
        "honored_by_lodged": detainer_spec(**where, **lodged, outcome="honored"),
        "lodged": detainer_spec(**where, **lodged),
        "open_of_lodged": detainer_spec(**where, **lodged, outcome="in_custody"),
        "honored_by_ended": detainer_spec(**where, **ended, outcome="honored"),
        "ended": detainer_spec(**where, **ended),
    }
    return specs


def _add_provenance(report: dict, q: TransfersQuery) -> None:
    """Each year (and totals row) gets `provenance`: count key → the query spec of its detainers."""
    scope = {"jurisdiction_in": list(q.jurisdiction_ids), "region": q.region}
    for g in report["groups"]:
        if q.by == "jurisdiction":
            where = {**scope, **place(g["jurisdiction_id"])}
        else:
            where = {**scope, **({"region": g["region"]} if g["region"] is not None else {"no_region": True})}
        for y in g["years"]:
            y["provenance"] = _year_provenance(where, y["from"], y["to"])
            y["provenance"].update({f"ended_outcomes.{o}": detainer_spec(
                **where, ended_from=y["from"], ended_to=y["to"], outcome=o) for o in y["ended_outcomes"]})
    for t in report["totals"]:
        first, last = fiscal_year_bounds(t["fy"])
        t["provenance"] = _year_provenance(scope, first.isoformat(), last.isoformat())


_YEAR_COUNTS = ("honored_by_lodged", "lodged", "open_of_lodged", "honored_by_ended", "ended")


def _suppress(report: dict, threshold: int, public: bool) -> None:
    """Lines: a year's ended outcomes add up to `ended` (honored_by_ended repeats the honored one); by
    jurisdiction, each count adds up over the groups to the totals row of its year."""
    values, lines, rates = {}, [], []
    for gi, g in enumerate(report["groups"]):
        for yi, y in enumerate(g["years"]):
            p = f"groups.{gi}.years.{yi}"
            values.update({f"{p}.{k}": y[k] for k in _YEAR_COUNTS})
            values.update({f"{p}.ended_outcomes.{o}": n for o, n in y["ended_outcomes"].items()})
            lines.append(suppress.Line(tuple(f"{p}.ended_outcomes.{o}" for o in y["ended_outcomes"]), f"{p}.ended"))
            if "honored" in y["ended_outcomes"]:
                lines.append(suppress.Line((f"{p}.ended_outcomes.honored",), f"{p}.honored_by_ended"))
            rates.append((f"{p}.share_honored", (f"{p}.honored_by_ended", f"{p}.ended")))
    for ti, t in enumerate(report["totals"]):
        p = f"totals.{ti}"
        values.update({f"{p}.{k}": t[k] for k in _YEAR_COUNTS})
        rates.append((f"{p}.share_honored", (f"{p}.honored_by_ended", f"{p}.ended")))
        if report["groups"]:
            lines += [suppress.Line(tuple(f"groups.{gi}.years.{ti}.{k}" for gi in range(len(report["groups"]))),
                                    f"{p}.{k}") for k in _YEAR_COUNTS]
    suppress.apply(report, values, lines, threshold, public, rates=rates,
                   protects="Suppressed: the yearly counts of every table and of the totals.")


def _sum(values) -> int | None:
    """The sum, or None when a value is suppressed."""
    total = 0
    for v in values:
        if not isinstance(v, int):
            return None
        total += v
    return total


def _fidelity(conn: Connection, q: TransfersQuery, groups: list[dict], sources: list[dict], synthetic: bool,
              first, last) -> list[str]:
    notes = []
    if synthetic:
        notes.append("SYNTHETIC: the records behind this report were invented for demonstration; "
                     "no number in it describes real people.")
    if sources:
        loaded = [s["loaded_at"][:10] for s in sources if s["loaded_at"]]
        if loaded:
            notes.append(f"Made from {len(sources)} loaded sources (listed below with their SHA-256), loaded "
                         f"{min(loaded)} to {max(loaded)}.")
    else:
        notes.append("No sources are loaded: every count is zero because there are no records.")
    years = [y for g in groups for y in g["years"]]
    ended = _sum(y["ended"] for y in years)
    unknown = _sum(y["ended_outcomes"]["unknown"] for y in years)
    if ended is None or unknown is None:  # a sum would give a suppressed cell back
        notes.append("Some detainers that ended in these years have an unknown outcome (a release with no reason "
                     "recorded); they are in `ended` but never in `honored_by_ended`. The sums over all years are "
                     "not shown because they would reveal suppressed counts.")
    else:
        share = f"{unknown / ended:.1%}" if ended else "—"
        notes.append(f"Of {ended} detainers that ended in these years, {unknown} ({share}) have an unknown outcome "
                     "(a release with no reason recorded); they are in `ended` but never in `honored_by_ended`.")
    still = _sum(y["open_of_lodged"] for y in years)
    if still is None:
        notes.append("Some detainers lodged in these years had not ended when the data were loaded; "
                     "honored_by_lodged for recent years can still grow.")
    elif still:
        notes.append(f"{still} detainers lodged in these years had not ended when the data were loaded; "
                     "honored_by_lodged for recent years can still grow.")
    facts = lodged_facts(conn, first, last, tuple(q.jurisdiction_ids), q.region)
    if facts["no_end"]:
        notes.append(f"{facts['no_end']} detainers lodged in these years have no end date and no custody "
                     "record (no booking, or an undated ICE record); they are in `lodged` but can be in no "
                     "`ended` count.")
    if facts["without_booking"]:
        notes.append(f"{facts['without_booking']} detainers lodged in these years are linked to no jail "
                     "booking; their outcome comes only from ICE's lift reason.")
    if facts["duplicates"]:
        notes.append(f"{facts['duplicates']} detainers lodged in these years are flagged as likely duplicates "
                     "(same person, facility and day as another); they are counted, not dropped.")
    unplaced = provenance.unplaced_facilities(conn)
    if unplaced:
        notes.append(f"{unplaced} facilities have no jurisdiction assigned; their detainers are in the "
                     "'unplaced' row (by jurisdiction) or '(in no region)' (by region), unless the report is "
                     "limited to named jurisdictions or a region.")
    if q.by == "region":
        notes.append("A jurisdiction in two regions counts in both; region rows are not added up.")
    shared = provenance.shared_names(conn)
    if shared:
        notes.append("Jurisdictions are told apart by state and id, never by name alone; names used in more "
                     "than one state: " + "; ".join(shared) + ".")
    notes.extend(provenance.source_limits(sources))
    notes.append("The report counts what the records say ended each detainer; it does not show what happened "
                 "after a transfer to ICE custody (removal, release) or after any other release.")
    return notes

