"""When each 287(g) agreement was active, from the lists that show it (pure functions).

ICE's list says only which agreements were listed on the day it was published. An
agreement is taken to be active from its signing date (or, when the list gives none or a
date after the first list that shows it, from that first list's date) until the date of
the first later list that no longer shows it (exclusive). Between two lists nothing is
known, so every end date is "no later than" that list's date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

Key = tuple[str, str, str]

#: Fields whose change between two lists `diff` reports.
COMPARED = ("signed_on", "moa", "county")


@dataclass(frozen=True)
class AgreementSpan:
    """One agency × model agreement over the dates it was active: [active_from, active_to)."""

    state: str
    agency: str
    agency_key: str
    agency_type: str | None
    county: str | None
    county_fips: str | None
    model: str
    signed_on: date | None
    active_from: date
    active_to: date | None
    first_list: date
    last_list: date


def key_of(entry: Mapping) -> Key:
    """The identity of an agreement across lists: (state, agency_key, model)."""
    return (entry["state"], entry["agency_key"], entry["model"])


def _day(value) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _by_list(entries: Iterable[Mapping]) -> dict[date, dict[Key, Mapping]]:
    """list_date → key → entry. Lists of the same date merge, so a list published twice counts once."""
    lists: dict[date, dict[Key, Mapping]] = {}
    for entry in entries:
        listed = lists.setdefault(_day(entry["list_date"]), {})
        listed.setdefault(key_of(entry), entry)
    return lists


def timeline(entries: Iterable[Mapping]) -> list[AgreementSpan]:
    """The active spans of every agreement in the given roster entries, from lists in any order."""
    lists = _by_list(entries)
    dates = sorted(lists)
    keys = sorted({k for listed in lists.values() for k in listed})
    spans: list[AgreementSpan] = []
    for key in keys:
        spans.extend(_spans(key, dates, lists))
    return spans


def _spans(key: Key, dates: list[date], lists: dict[date, dict[Key, Mapping]]) -> list[AgreementSpan]:
    """Walk the lists in date order for one agreement, opening and closing spans."""
    spans: list[dict] = []
    current: dict | None = None
    for listed_on in dates:
        entry = lists[listed_on].get(key)
        if entry is None:
            if current is not None and current["active_to"] is None:
                current["active_to"] = listed_on
            continue
        signed = _day(entry.get("signed_on"))
        if current is not None and current["active_to"] is not None and signed is not None \
                and signed == current["signed_on"]:
            # Back on the list under the same signing date: the same agreement, which the
            # list(s) in between left out; a renewed agreement would carry a new date.
            current["active_to"] = None
        elif current is None or current["active_to"] is not None:
            start = signed if signed is not None and signed <= listed_on else listed_on
            if current is not None:
                start = max(start, current["active_to"])  # never overlap the previous span
            current = {"signed_on": signed, "active_from": start, "active_to": None, "first_list": listed_on}
            spans.append(current)
        current["last_list"] = listed_on
        _describe(current, entry)
    return [AgreementSpan(state=key[0], agency_key=key[1], model=key[2], **s) for s in spans]


def _describe(span: dict, entry: Mapping) -> None:
    """Descriptive fields follow the latest list that states them (later lists name the county)."""
    span["agency"] = entry["agency"]
    for name in ("agency_type", "county", "county_fips"):
        value = entry.get(name)
        if value is not None or name not in span:
            span[name] = value


def diff(previous: Iterable[Mapping], current: Iterable[Mapping]) -> dict[str, list]:
    """What changed from one list to the next: agreements added, removed, and changed in signed_on/moa/county.

    `added` and `removed` hold the entries; each `changed` item holds the key, both entries and
    {field: (before, after)} for the fields that differ.
    """
    before: dict[Key, Mapping] = {}
    for entry in previous:
        before.setdefault(key_of(entry), entry)
    after: dict[Key, Mapping] = {}
    for entry in current:
        after.setdefault(key_of(entry), entry)
    changed = []
    for key in sorted(before.keys() & after.keys()):
        fields = {name: (before[key].get(name), after[key].get(name)) for name in COMPARED
                  if _day(before[key].get(name)) != _day(after[key].get(name))}
        if fields:
            changed.append({"key": key, "previous": before[key], "current": after[key], "fields": fields})
    return {
        "added": [after[k] for k in sorted(after.keys() - before.keys())],
        "removed": [before[k] for k in sorted(before.keys() - after.keys())],
        "changed": changed,
    }
