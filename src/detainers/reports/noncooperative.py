"""Non-cooperative jurisdictions report (DESIGN §7): who is held, where, on what charges.

For each jurisdiction whose policy on the as-of date declines (optionally: limits)
detainers, the people in its facilities with an active detainer on that date,
their charges with stage and category, counts by category, and the policy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from detainers import audit
from detainers.analytics import custody, provenance
from detainers.analytics.drilldown import people_spec
from detainers.analytics.policies import jurisdictions_on
from detainers.model import Audience
from detainers.offenses import category_rank, most_serious
from detainers.privacy import Keyer, installation_secret
from detainers.reports import manifest, suppress

TITLE = "Non-cooperative jurisdictions: people held with an active immigration detainer"


@dataclass(frozen=True)
class NonCooperativeQuery:
    as_of: date
    stances: tuple[str, ...] = ("declines",)
    jurisdiction_ids: tuple[str, ...] = ()
    audience: str = Audience.PUBLIC
    #: Small-cell threshold for the public audience (None: DETAINERS_SUPPRESS_BELOW, else 5).
    suppress_below: int | None = None


def build(conn: Connection, q: NonCooperativeQuery) -> dict:
    """The report as one plain dict; every renderer (md, csv, html, json) draws on it."""
    restricted = q.audience == Audience.RESTRICTED
    threshold = suppress.resolve_threshold(q.suppress_below)
    keyer = Keyer(installation_secret(conn))
    juris = jurisdictions_on(conn, q.as_of, stances=q.stances, jurisdiction_ids=q.jurisdiction_ids or None)
    ids = [j.jurisdiction_id for j in juris]
    held = custody.held_on(conn, q.as_of, ids)
    charges = custody.charges_of(conn, sorted({h.booking_id for h in held}))
    identities = custody.identities_of(conn, sorted({h.person_id for h in held})) if restricted else {}

    people_by_j: dict[str, list[dict]] = {j: [] for j in ids}
    for h in held:
        people_by_j[h.jurisdiction_id].append(_person(h, charges[h.booking_id], q.as_of, keyer, identities, restricted))

    sections = []
    for j in juris:
        people = people_by_j[j.jurisdiction_id]
        if not people and not q.jurisdiction_ids:
            continue
        sections.append({
            "jurisdiction_id": j.jurisdiction_id,
            "name": j.name,
            "state": j.state,
            "fips": j.fips,
            "policy": _policy(j),
            "people": people,
            "counts": _counts(people),
        })
        sections[-1]["provenance"] = _provenance(q, sections[-1])

    sources = provenance.source_list(conn)
    synthetic = provenance.is_synthetic(sources)
    report = {
        "report": "non-cooperative",
        "title": TITLE,
        "as_of": q.as_of.isoformat(),
        "audience": str(q.audience),
        "synthetic": synthetic,
        "data_label": provenance.SYNTHETIC_LABEL if synthetic else None,
        "parameters": {"stances": list(q.stances), "jurisdictions": list(q.jurisdiction_ids)},
        "definitions": DEFINITIONS,
        "jurisdictions": sections,
        "totals": {"jurisdictions": len(sections), "people": sum(len(s["people"]) for s in sections)},
        "sources": sources,
        "fidelity": _fidelity(conn, q, sections, ids, synthetic),
        "generated_by": provenance.tool_info(),
    }
    _suppress(report, threshold, public=not restricted)
    report["manifest"] = manifest.make(conn, "non-cooperative", q, suppress_below=threshold)
    if restricted:
        audit.record(conn, "report.restricted", {
            "report": "non-cooperative", "as_of": report["as_of"],
            "people": report["totals"]["people"]})
    return report


DEFINITIONS = {
    "held": "In custody on the as-of date with an active detainer: the detainer was lodged on or before "
            "that date and had not ended, and the booking had begun and had not ended (a release on the "
            "as-of date itself is not counted as held).",
    "days_held": "Days from the booking date to the as-of date.",
    "by_category": "People charged with at least one offence in the category on the booking during which "
                   "they are held, at any stage (pending, convicted, dismissed or unknown). A charge is an "
                   "accusation, not a conviction.",
    "by_category_convicted": "People convicted of at least one offence in the category (charge stage "
                             "`convicted`).",
    "most_serious_category": "The highest-ranked category among the person's charges (DESIGN §6 order; "
                             "ties broken by level, felony first).",
}


def _person(h, charge_rows: list, as_of: date, keyer: Keyer, identities: dict, restricted: bool) -> dict:
    charge_list = [
        {"description": c.description, "category": c.category, "stage": c.stage, "level": c.level}
        for c in charge_rows
    ]
    top = most_serious((c.category, c.level) for c in charge_rows)
    person = {
        "person_key": keyer(h.person_id),
        "citizenship": h.citizenship,
        "booked_on": h.booked_on.isoformat(),
        "lodged_on": h.lodged_on.isoformat(),
        "days_held": (as_of - h.booked_on).days,
        "charges": charge_list,
        "most_serious_category": top[0] if top else None,
    }
    if restricted:
        name, dob = identities.get(h.person_id, (None, None))
        person.update(person_id=h.person_id, name=name,
                      date_of_birth=dob.isoformat() if dob else None, booking_id=h.booking_id)
    return person


def _policy(j) -> dict | None:
    if j.stance is None:
        return None
    return {
        "stance": j.stance,
        "agreement": j.agreement,
        "effective_from": j.effective_from.isoformat(),
        "effective_to": j.effective_to.isoformat() if j.effective_to else None,
        "criteria": j.criteria,
        "source": j.citation,
    }


def _counts(people: list[dict]) -> dict:
    charged, convicted = Counter(), Counter()
    for p in people:
        charged.update({c["category"] for c in p["charges"]})
        convicted.update({c["category"] for c in p["charges"] if c["stage"] == "convicted"})
    order = lambda counter: dict(sorted(counter.items(), key=lambda kv: (category_rank(kv[0]), kv[0])))  # noqa: E731
    return {"people": len(people), "by_category": order(charged), "by_category_convicted": order(convicted)}


def _provenance(q: NonCooperativeQuery, section: dict) -> dict:
    """Count path (within the section) → the query spec that gives the people behind it."""
    where = {"as_of": q.as_of.isoformat(), "jurisdiction_id": section["jurisdiction_id"]}
    specs = {"counts.people": people_spec(**where)}
    for k in section["counts"]["by_category"]:
        specs[f"counts.by_category.{k}"] = people_spec(**where, category=k)
    for k in section["counts"]["by_category_convicted"]:
        specs[f"counts.by_category_convicted.{k}"] = people_spec(**where, category=k, stage="convicted")
    return specs


def _suppress(report: dict, threshold: int, public: bool) -> None:
    """Public: category counts from 1 to threshold-1 become "<5". They add up to nothing shown, so no
    complementary suppression is needed; the people count is left, since the list of people shows it."""
    values = {}
    for i, s in enumerate(report["jurisdictions"]):
        for table in ("by_category", "by_category_convicted"):
            values.update({f"jurisdictions.{i}.counts.{table}.{k}": v for k, v in s["counts"][table].items()})
    suppress.apply(report, values, (), threshold, public, protects=(
        "Suppressed: the by_category and by_category_convicted counts. Not suppressed: the number of people "
        "held per jurisdiction, and the list of people itself, which this report shows row by row (with "
        "pseudonymous keys) — the category counts can be counted from that list."))


def _fidelity(conn: Connection, q: NonCooperativeQuery, sections: list[dict], ids: list[str],
              synthetic: bool) -> list[str]:
    notes = []
    if synthetic:
        notes.append("SYNTHETIC: the records behind this report were invented for demonstration; "
                     "no number in it describes real people.")
    stages = Counter(c["stage"] for s in sections for p in s["people"] for c in p["charges"])
    total = sum(stages.values())
    notes.append(
        f"Charges are accusations, not convictions. Of {total} charges listed, "
        f"{stages.get('pending', 0)} are pending, {stages.get('convicted', 0)} convicted, "
        f"{stages.get('dismissed', 0)} dismissed and {stages.get('unknown', 0)} of unknown stage. "
        "by_category counts people charged at any stage; by_category_convicted counts convictions only.")
    notes.append(f"Custody on {q.as_of} is read from booking and release dates; a person released on "
                 f"{q.as_of} is not counted as held. Dates are days, without times.")
    missing = custody.detainers_without_booking(conn, ids, q.as_of)
    if missing:
        notes.append(f"{missing} detainers lodged with these jurisdictions' facilities by {q.as_of} are not "
                     "linked to any booking, so whether the person was held is unknown; they are not counted.")
    before = sum(1 for s in sections for p in s["people"]
                 if s["policy"] and p["lodged_on"] < s["policy"]["effective_from"])
    if before:
        notes.append(f"{before} of the people listed had their detainer lodged before the policy shown took "
                     "effect; the policy is the one in force on the as-of date.")
    other = sum(1 for s in sections for p in s["people"] for c in p["charges"] if c["category"] == "other")
    notes.append(f"Charge categories come from the source where given, else from the detainers classifier "
                 f"(tables {provenance.tool_info()['classifier_tables']}); {other} listed charges are "
                 "in 'other' because no rule recognised them.")
    unplaced = provenance.unplaced_facilities(conn)
    if unplaced:
        notes.append(f"{unplaced} facilities have no jurisdiction assigned; detainers there cannot be "
                     "attributed to any jurisdiction and are not in this report.")
    shared = provenance.shared_names(conn)
    if shared:
        notes.append("Jurisdictions are told apart by state and id, never by name alone; names used in more "
                     "than one state: " + "; ".join(shared) + ".")
    notes.extend(provenance.source_limits(provenance.source_list(conn)))
    notes.append("Immigration detainers entered in jail systems as charge lines are recognised as the "
                 "detainer itself and are not listed or counted as charges.")
    notes.append("This report does not show what happened after the as-of date, nor people whose detainers "
                 "were never recorded in the loaded sources.")
    return notes

