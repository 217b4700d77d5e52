"""Before and after a policy change (DESIGN §7): one jurisdiction's detainer outcomes in two equal windows.

The windows are [change − window, change) and [change, change + window). A
detainer belongs to the window in which it **ended** (released, transferred or
lifted): a decline belongs to the policy in force on the release day, not the
day the detainer was lodged. Per window: outcome counts, the denominators
(ended; decided = honored + declined + transferred), the shares of decided with
95% Wilson score intervals, and the change in the decline share with a 95%
interval by Newcombe's method — followed by a plain-words verdict that says so
when the data cannot tell the two windows apart.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection

from detainers import audit
from detainers.analytics import provenance
from detainers.analytics import declined as queries
from detainers.analytics.drilldown import detainer_spec
from detainers.analytics.policies import timeline
from detainers.errors import InputError
from detainers.model import Audience
from detainers.reports import manifest, suppress
from detainers.reports.declined import DECIDED, ENDED_OUTCOMES

TITLE = "Before and after a policy change: detainer outcomes in two equal windows"

#: Two-sided 95%: the 0.975 quantile of the standard normal distribution.
Z95 = 1.959963984540054
#: Below this many decided detainers in a window, the report will not read anything into a share.
MIN_DECIDED = 30
#: Shares reported with intervals (of `decided`).
SHARES = DECIDED


# ---------------------------------------------------------------- intervals

def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for successes/n (95% by default); None when n is 0.

    >>> [round(x, 3) for x in wilson_interval(8, 10)]
    [0.49, 0.943]
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes ({successes}) must be between 0 and n ({n})")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float, float] | None:
    """Difference p1 − p2 of two independent proportions with its interval by Newcombe's hybrid score
    method (1998, method 10), built from the two Wilson intervals: (difference, low, high).

    >>> [round(x, 4) for x in newcombe_interval(56, 70, 48, 80)]
    [0.2, 0.0524, 0.3339]
    """
    a, b = wilson_interval(x1, n1, z), wilson_interval(x2, n2, z)
    if a is None or b is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = a, b
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(-1.0, low), min(1.0, high)


# ---------------------------------------------------------------- windows

def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's last day: 2019-03-31 − 1 → 2019-02-28."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PolicyChangeQuery:
    jurisdiction_id: str
    change_date: date
    window_days: int = 365
    window_months: int | None = None  # when given, windows are calendar months and window_days is ignored
    #: The report has no person-level data; `restricted` only turns small-cell suppression off (and is audited).
    audience: str = Audience.PUBLIC
    #: Small-cell threshold for the public audience (None: DETAINERS_SUPPRESS_BELOW, else 5).
    suppress_below: int | None = None


def windows(q: PolicyChangeQuery) -> tuple[tuple[date, date], tuple[date, date]]:
    """(first, last) days of the before and after windows, both inclusive."""
    if q.window_months is not None:
        if q.window_months < 1:
            raise InputError(f"The window must be at least 1 month (got {q.window_months}).")
        start, end = add_months(q.change_date, -q.window_months), add_months(q.change_date, q.window_months)
    else:
        if q.window_days < 1:
            raise InputError(f"The window must be at least 1 day (got {q.window_days}).")
        start, end = q.change_date - timedelta(days=q.window_days), q.change_date + timedelta(days=q.window_days)
    one = timedelta(days=1)
    return (start, q.change_date - one), (q.change_date, end - one)


# ---------------------------------------------------------------- build

def build(conn: Connection, q: PolicyChangeQuery) -> dict:
    """The report as one plain dict; every renderer (md, csv, html, json) draws on it."""
    found = queries.jurisdictions_of(conn, [q.jurisdiction_id])
    if q.jurisdiction_id not in found:
        raise InputError(f"No jurisdiction has the id {q.jurisdiction_id!r}; `detainers jurisdictions` lists "
                         "them (ids, not names: several states have a county of the same name).")
    j = found[q.jurisdiction_id]
    if q.audience not in (Audience.PUBLIC, Audience.RESTRICTED):
        raise InputError(f"The audience is public or restricted, not {q.audience!r}.")
    threshold = suppress.resolve_threshold(q.suppress_below)
    (b_from, b_to), (a_from, a_to) = windows(q)
    scope = queries.Scope((q.jurisdiction_id,), unplaced=False)
    ended = queries.ended_by_day(conn, b_from, a_to, scope)
    lodged = queries.lodged_by_day(conn, b_from, a_to, scope)
    policy_rows = queries.policies_overlapping(conn, b_from, a_to, [q.jurisdiction_id])[q.jurisdiction_id]

    parts = []
    for name, first, last in (("before", b_from, b_to), ("after", a_from, a_to)):
        part = _window(name, first, last, ended, lodged, policy_rows)
        part["open_at_end"], part["end_unknown_at_end"] = queries.open_on(conn, last, scope).get(
            q.jurisdiction_id, (0, 0))
        parts.append(part)
    before, after = parts
    comparison = _compare(before, after)
    change = _recorded_change(conn, q)

    sources = provenance.source_list(conn)
    synthetic = provenance.is_synthetic(sources)
    report = {
        "report": "policy-change",
        "title": TITLE,
        "period": {"from": b_from.isoformat(), "to": a_to.isoformat(), "change_date": q.change_date.isoformat()},
        "audience": str(q.audience),
        "synthetic": synthetic,
        "data_label": provenance.SYNTHETIC_LABEL if synthetic else None,
        "parameters": {"jurisdiction_id": q.jurisdiction_id, "change_date": q.change_date.isoformat(),
                       "window_days": None if q.window_months is not None else q.window_days,
                       "window_months": q.window_months, "min_decided": MIN_DECIDED, "confidence": 0.95},
        "definitions": DEFINITIONS,
        "jurisdiction": {"jurisdiction_id": j.jurisdiction_id, "name": j.name, "state": j.state},
        "recorded_change": change,
        "windows": parts,
        "comparison": comparison,
        "monthly": _monthly(b_from, a_to, q.change_date, ended),
        "policies": [_policy(p) for p in policy_rows],
        "sources": sources,
        "fidelity": [],  # written below, from the counts as shown (suppressed for the public)
        "generated_by": provenance.tool_info(),
    }
    _add_provenance(report, q.jurisdiction_id)
    restricted = q.audience == Audience.RESTRICTED
    _suppress(report, threshold, public=not restricted)
    report["fidelity"] = _fidelity(conn, q, j, parts, comparison, change, sources, synthetic) + report["fidelity"]
    report["manifest"] = manifest.make(conn, "policy-change", q, suppress_below=threshold)
    if restricted:
        audit.record(conn, "report.restricted", {"report": "policy-change", "jurisdiction_id": q.jurisdiction_id,
                                                 "change_date": q.change_date.isoformat()})
    return report


manifest.register("policy-change", __name__, "PolicyChangeQuery")


DEFINITIONS = {
    "windows": "Two windows of equal length: before = [change − window, change), after = [change, change + "
               "window). Each row gives its first and last day, both included.",
    "cohort": "A detainer is counted in the window in which it ended (the release, transfer or lift), not the "
              "one in which it was lodged: a decline belongs to the policy in force on the release day.",
    "honored": "Ended with the person released to ICE custody.",
    "declined": "Ended with the person released (bond, sentence served, dismissal, recognizance or another "
                "release) while the detainer was active.",
    "transferred": "Ended with the person handed to another custodian (prison, another county, U.S. Marshals): "
                   "not a decline, and not a transfer to ICE.",
    "lifted": "Lifted by ICE before the release.",
    "cancelled": "Withdrawn by ICE as issued in error.",
    "unknown": "Ended, but the records do not say how; never guessed.",
    "ended": "All detainers that ended in the window: the sum of the six outcomes.",
    "decided": "honored + declined + transferred: the detainers the custodian acted on at release. The "
               "denominator of every share.",
    "share": "count / decided, with a 95% Wilson score interval (low–high): the range of underlying shares "
             "that these counts are consistent with.",
    "difference": "The decline share after minus before, in percentage points, with a 95% interval by "
                  "Newcombe's method (from the two Wilson intervals). An interval that includes zero means the "
                  "data cannot tell the two windows apart.",
    "lodged": "Detainers lodged in the window (counted on the day lodged): context for the volume of "
              "detainers, not a denominator.",
    "open_at_end": "Detainers lodged by the window's last day that had not ended on that day.",
    "monthly": "Detainers that ended in each calendar month, by outcome; a month that the change date cuts "
               "is shown once per window.",
}


def _window(name: str, first: date, last: date, ended: list, lodged: list, policy_rows: list) -> dict:
    counts = {o: 0 for o in ENDED_OUTCOMES}
    for r in ended:
        if first <= r.ended_on <= last and r.outcome in counts:
            counts[r.outcome] += r.n
    decided = sum(counts[o] for o in DECIDED)
    shares = {}
    for o in SHARES:
        ci = wilson_interval(counts[o], decided)
        shares[o] = {"count": counts[o], "share": round(counts[o] / decided, 4) if decided else None,
                     "low": round(ci[0], 4) if ci else None, "high": round(ci[1], 4) if ci else None}
    parts = queries.split_period(first, last, policy_rows)
    return {
        "window": name,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days": (last - first).days + 1,
        "policies": [{"from": p.first.isoformat(), "to": p.last.isoformat(),
                      "stance": p.policy.stance if p.policy else None,
                      "agreement": p.policy.agreement if p.policy else None,
                      "effective_from": p.policy.effective_from.isoformat() if p.policy else None}
                     for p in parts],
        "one_policy": len(parts) == 1,
        "lodged": sum(r.n for r in lodged if first <= r.lodged_on <= last),
        **counts,
        "ended": sum(counts.values()),
        "decided": decided,
        "shares": shares,
    }


def _add_provenance(report: dict, jurisdiction_id: str) -> None:
    """Each window and each monthly row gets `provenance`: count key → the query spec of its detainers
    (see analytics.drilldown): by the day they ended, at the jurisdiction's facilities."""
    where = {"jurisdiction_id": jurisdiction_id}
    for w in report["windows"]:
        ended = {"ended_from": w["from"], "ended_to": w["to"]}
        specs = {o: detainer_spec(**where, **ended, outcome=o) for o in ENDED_OUTCOMES}
        specs["ended"] = detainer_spec(**where, **ended, outcome_in=list(ENDED_OUTCOMES))
        specs["decided"] = detainer_spec(**where, **ended, outcome_in=list(DECIDED))
        specs["lodged"] = detainer_spec(**where, lodged_from=w["from"], lodged_to=w["to"])
        specs["open_at_end"] = detainer_spec(**where, open_on=w["to"])
        specs["end_unknown_at_end"] = detainer_spec(**where, end_unknown_on=w["to"])
        w["provenance"] = specs
    for m in report["monthly"]:
        m["provenance"] = {"count": detainer_spec(**where, ended_from=m["from"], ended_to=m["to"],
                                                  outcome=m["outcome"])}


def _pp(x: float) -> str:
    """0.1234 → '12.3 points' (percentage points, signed)."""
    return f"{x * 100:+.1f} points"


def _compare(before: dict, after: dict) -> dict:
    nb, na = before["decided"], after["decided"]
    xb, xa = before["declined"], after["declined"]
    result = newcombe_interval(xa, na, xb, nb)
    out = {"decline_share_before": before["shares"]["declined"]["share"],
           "decline_share_after": after["shares"]["declined"]["share"],
           "difference": None, "low": None, "high": None,
           "intervals_overlap": None, "enough_data": bool(nb >= MIN_DECIDED and na >= MIN_DECIDED),
           "verdict": None}
    if result is None:
        empty = [w["window"] for w in (before, after) if not w["decided"]]
        out["verdict"] = (f"No detainer was decided in the {' or the '.join(empty)} window: there is nothing "
                          "to compare.")
        return out
    d, low, high = (round(x, 4) for x in result)  # the text shows the same rounded numbers as the tables
    sb, sa = before["shares"]["declined"], after["shares"]["declined"]
    out.update(difference=d, low=low, high=high,
               intervals_overlap=bool(sb["low"] <= sa["high"] and sa["low"] <= sb["high"]))
    shares = (f"The decline share was {sb['share']:.1%} before ({xb} of {nb} decided) and {sa['share']:.1%} "
              f"after ({xa} of {na}): a difference of {_pp(d)} (95% interval {_pp(low)} to {_pp(high)}).")
    if not out["enough_data"]:
        small = [f"{w['window']} ({w['decided']})" for w in (before, after) if w["decided"] < MIN_DECIDED]
        where = " and ".join(small) + (" windows" if len(small) > 1 else " window")
        out["verdict"] = (f"{shares} Fewer than {MIN_DECIDED} detainers were decided in the {where}: too few "
                          "to say whether the decline share changed.")
    elif low <= 0 <= high:
        out["verdict"] = f"{shares} The interval includes zero: the data cannot tell these apart."
    else:
        direction = "higher" if d > 0 else "lower"
        out["verdict"] = (f"{shares} The interval excludes zero: the decline share was {direction} after the "
                          "change. This compares two periods; it does not by itself show that the policy "
                          "caused the difference.")
    return out


def _monthly(first: date, last: date, change: date, ended: list) -> list[dict]:
    """Dense rows (month, window, outcome, count), one per outcome for every month segment."""
    counts: dict[tuple[str, str, str], int] = {}
    for r in ended:
        if r.outcome in ENDED_OUTCOMES and first <= r.ended_on <= last:
            key = (r.ended_on.strftime("%Y-%m"), "before" if r.ended_on < change else "after", r.outcome)
            counts[key] = counts.get(key, 0) + r.n
    rows = []
    day = first
    while day <= last:
        month_end = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
        for window, seg_from, seg_to in (("before", day, min(month_end, change - timedelta(days=1), last)),
                                         ("after", max(day, change), min(month_end, last))):
            if seg_from > seg_to:
                continue
            month = day.strftime("%Y-%m")
            for o in ENDED_OUTCOMES:
                rows.append({"month": month, "window": window, "from": seg_from.isoformat(),
                             "to": seg_to.isoformat(), "outcome": o, "count": counts.get((month, window, o), 0)})
        day = month_end + timedelta(days=1)
    return rows


def _policy(p) -> dict:
    return {"effective_from": p.effective_from.isoformat(),
            "effective_to": p.effective_to.isoformat() if p.effective_to else None,
            "stance": p.stance, "agreement": p.agreement, "criteria": p.criteria, "source": p.citation,
            "origin": p.origin}


def _recorded_change(conn: Connection, q: PolicyChangeQuery) -> dict | None:
    """The recorded change of policy (stance or agreement) nearest the date given, if any."""
    rows = timeline(conn, q.jurisdiction_id)

    def on(day: date):
        return next((p for p in rows if p.effective_from <= day and (p.effective_to is None or day < p.effective_to)),
                    None)

    def label(p) -> dict | None:
        return None if p is None else {"stance": p.stance, "agreement": p.agreement,
                                       "effective_from": p.effective_from.isoformat()}

    days = sorted({p.effective_from for p in rows} | {p.effective_to for p in rows if p.effective_to})
    changes = []
    for day in days:
        old, new = on(day - timedelta(days=1)), on(day)
        key = (lambda p: None if p is None else (p.stance, p.agreement))
        if key(old) != key(new) and old is not None:
            changes.append((abs((day - q.change_date).days), day, old, new))
    if not changes:
        return None
    _, day, old, new = min(changes, key=lambda c: (c[0], c[1]))
    return {"on": day.isoformat(), "days_from_date_given": (day - q.change_date).days,
            "from_policy": label(old), "to_policy": label(new)}


# ---------------------------------------------------------------- small-cell suppression

#: Lines of one window a reader could subtract along: parts that add up to a total shown beside them.
_WINDOW_LINES = ((ENDED_OUTCOMES, "ended"), (DECIDED, "decided"),
                 (("decided", "lifted", "cancelled", "unknown"), "ended"))
_WINDOW_COUNTS = (*ENDED_OUTCOMES, "ended", "decided", "lodged", "open_at_end", "end_unknown_at_end")
#: What a share, interval or comparison left empty because of suppressed counts says instead.
WITHHELD = "withheld: computed from suppressed counts"


def _suppress(report: dict, threshold: int, public: bool) -> None:
    """Lines: a window's outcomes add up to `ended`, honored + declined + transferred to `decided`; the
    monthly counts of one outcome add up over the window's month segments to the window's count."""
    values, lines, rates, mirrors = {}, [], [], {}
    for wi, w in enumerate(report["windows"]):
        p = f"windows.{wi}"
        values.update({f"{p}.{k}": w[k] for k in _WINDOW_COUNTS})
        lines += [suppress.Line(tuple(f"{p}.{x}" for x in parts), f"{p}.{total}") for parts, total in _WINDOW_LINES]
        for o in w["shares"]:
            mirrors[f"{p}.shares.{o}.count"] = f"{p}.{o}"
            rates += [(f"{p}.shares.{o}.{k}", (f"{p}.{o}", f"{p}.decided")) for k in ("share", "low", "high")]
        for o in ENDED_OUTCOMES:
            months = [f"monthly.{i}.count" for i, m in enumerate(report["monthly"])
                      if m["window"] == w["window"] and m["outcome"] == o]
            lines.append(suppress.Line(tuple(months), f"{p}.{o}"))
    values.update({f"monthly.{i}.count": m["count"] for i, m in enumerate(report["monthly"])})
    inputs = tuple(f"windows.{wi}.{k}" for wi in range(len(report["windows"])) for k in ("declined", "decided"))
    rates += [(f"comparison.{k}", inputs) for k in ("decline_share_before", "decline_share_after", "difference",
                                                     "low", "high", "intervals_overlap", "enough_data")]
    suppress.apply(report, values, lines, threshold, public, rates=rates, mirrors=mirrors, protects=(
        "Suppressed: the counts of both windows (section I), the decided counts of section II and the monthly "
        "series (section III); the shares, intervals and the comparison computed from a suppressed count are "
        "left empty, and the verdict does not give suppressed counts."))
    marked = set(report["suppression"]["cells"])
    for wi, w in enumerate(report["windows"]):
        for o, s in w["shares"].items():
            if {f"windows.{wi}.{o}", f"windows.{wi}.decided"} & marked:
                s["note"] = WITHHELD
    if marked & set(inputs):
        hidden = [w["window"] for wi, w in enumerate(report["windows"])
                  if {f"windows.{wi}.declined", f"windows.{wi}.decided"} & marked]
        where = " and ".join(hidden) + (" windows" if len(hidden) > 1 else " window")
        report["comparison"]["verdict"] = (
            f"Some counts of the {where} are too small to publish (suppressed for the public audience): the "
            "decline shares and their difference are not shown, and these counts cannot say whether the decline "
            "share changed.")


# ---------------------------------------------------------------- fidelity

def _stances(w: dict) -> str:
    parts = [f"{p['stance'] or 'no policy recorded'} ({p['from']} to {p['to']})" for p in w["policies"]]
    return "; ".join(parts)


def _fidelity(conn: Connection, q: PolicyChangeQuery, j, parts: list[dict], comparison: dict,
              change: dict | None, sources: list[dict], synthetic: bool) -> list[str]:
    notes = []
    if synthetic:
        notes.append("SYNTHETIC: the records behind this report were invented for demonstration; "
                     "no number in it describes real people.")
    if sources:
        notes.append(f"Made from {len(sources)} loaded sources (listed below with their SHA-256).")
    else:
        notes.append("No sources are loaded: every count is zero because there are no records.")
    notes.append(f"Only detainers lodged with facilities of {j.name}, {j.state} ({j.jurisdiction_id}) are "
                 "counted; jurisdictions are told apart by id and state, never by name.")
    before, after = parts
    for w in parts:
        notes.append(f"Policy in force in the {w['window']} window: {_stances(w)}.")
    if change is None:
        notes.append(f"No change of policy is recorded for {j.jurisdiction_id}; the windows are cut at the date "
                     "given.")
    elif change["days_from_date_given"] != 0:
        shift = change["days_from_date_given"]
        notes.append(f"The date given ({q.change_date}) is not a recorded policy change. The nearest recorded "
                     f"change is on {change['on']}, {abs(shift)} days {'after' if shift > 0 else 'before'} it "
                     f"({change['from_policy']['stance']} → "
                     f"{change['to_policy']['stance'] if change['to_policy'] else 'no policy recorded'}).")
    if not (before["one_policy"] and after["one_policy"]):
        notes.append("At least one window is not under a single policy: its counts mix the policies listed.")
    if before["days"] != after["days"]:
        notes.append(f"The windows are calendar months and differ in length: {before['days']} days before, "
                     f"{after['days']} after.")
    for w in parts:
        if suppress.is_marker(w["ended"]) or suppress.is_marker(w["unknown"]):
            notes.append(f"{w['window'].capitalize()} window: some detainers that ended may have an unknown "
                         "outcome (the counts are suppressed); they are in no share.")
        elif w["ended"]:
            notes.append(f"{w['window'].capitalize()} window: {w['unknown']} of {w['ended']} detainers that ended "
                         f"({w['unknown'] / w['ended']:.1%}) have an unknown outcome; they are in no share.")
    if after["open_at_end"] or after["end_unknown_at_end"]:
        notes.append(f"{after['open_at_end']} detainers lodged by {after['to']} had not ended on that day, and "
                     f"{after['end_unknown_at_end']} have no end date and no custody record: detainers that end "
                     "later are not in either window, so long stays are under-represented in the after window.")
    facts = queries.scope_facts(conn, date.fromisoformat(before["from"]), date.fromisoformat(after["to"]),
                                queries.Scope((q.jurisdiction_id,), unplaced=False))
    if facts["without_booking"]:
        notes.append(f"{facts['without_booking']} detainers lodged or ended in the windows are linked to no jail "
                     "booking: their outcome comes only from ICE's lift reason.")
    if facts["duplicates"]:
        notes.append(f"{facts['duplicates']} detainers are flagged as likely duplicates; they are counted.")
    shared = provenance.shared_names(conn)
    if shared:
        notes.append("Names used in more than one state: " + "; ".join(shared) + ".")
    notes.extend(provenance.source_limits(sources))
    notes.append(f"Intervals are 95% Wilson score intervals; a window with fewer than {MIN_DECIDED} decided "
                 "detainers is called too small to say anything. The difference in decline share has a 95% "
                 "interval by Newcombe's method; when it includes zero the report says the data cannot tell the "
                 "windows apart.")
    notes.append("A before/after comparison shows what changed between two periods, not why: other things "
                 "(ICE's practice, who was arrested, how long cases took) change too. Detainers never recorded in "
                 "the loaded sources are not shown.")
    return notes
