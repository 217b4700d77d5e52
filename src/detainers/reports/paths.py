"""Dotted paths into a report dict, e.g. ``jurisdictions.0.counts.by_category.sex_offense_child``.

A path is dict keys and list positions joined by dots. In a list, a segment is
either a position (``0``, ``1``, …) or an id of one element: its
``jurisdiction_id`` (``jurisdictions.nc-wake.counts.people``), its ``region``,
``FY2017`` for a fiscal year (``groups.nc-wake.years.FY2017.ended``), or
``unplaced`` for the row of facilities with no jurisdiction. An id that matches
several elements (a jurisdiction whose policy changed inside the period has one
row per policy) is an error that names the positions to use instead.

`canonical` turns any accepted path into the positional form that reports use in
their `suppression` and `provenance` entries.
"""

from __future__ import annotations

from detainers.errors import InputError

_ID_FIELDS = ("jurisdiction_id", "region")


def split(path: str) -> list[str]:
    segments = [s for s in path.strip().strip(".").split(".")]
    if not path.strip() or any(s == "" for s in segments):
        raise InputError(f"{path!r} is not a path: write keys and positions joined by dots, "
                         "e.g. jurisdictions.0.counts.people.")
    return segments


def _element(items: list, segment: str, where: str) -> int:
    if segment.isdigit():
        index = int(segment)
        if index < len(items):
            return index
        if not segment.startswith("0") and len(segment) != 4:
            raise InputError(f"{where}: position {index} is past the end (the list has {len(items)} items).")
    matches = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        if any(item.get(f) is not None and str(item.get(f)) == segment for f in _ID_FIELDS):
            matches.append(i)
        elif "fy" in item and segment.upper() in (f"FY{item['fy']}", str(item["fy"])):
            matches.append(i)
    if not matches and segment == "unplaced":
        matches = [i for i, item in enumerate(items)
                   if isinstance(item, dict) and "jurisdiction_id" in item and item["jurisdiction_id"] is None]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InputError(f"{where}: no item {segment!r} (use a position 0–{len(items) - 1}, an id, "
                         "FY<year> or unplaced).")
    raise InputError(f"{where}: {segment!r} matches items {', '.join(map(str, matches))}; use one of those "
                     "positions instead.")


def walk(report: dict, path: str) -> list[tuple[object, str]]:
    """[(container, canonical segment)] from the root to the value."""
    node: object = report
    steps = []
    done: list[str] = []
    for segment in split(path):
        where = ".".join(done) or "the report"
        if isinstance(node, list):
            key = str(_element(node, segment, where))
            steps.append((node, key))
            node = node[int(key)]
        elif isinstance(node, dict):
            if segment not in node:
                raise InputError(f"{where}: no key {segment!r} (there are: {', '.join(map(str, node))}).")
            steps.append((node, segment))
            node = node[segment]
        else:
            raise InputError(f"{where} is a value ({node!r}); the path goes on with {segment!r}.")
        done.append(steps[-1][1])
    return steps


def canonical(report: dict, path: str) -> str:
    return ".".join(key for _, key in walk(report, path))


def get(report: dict, path: str):
    container, key = walk(report, path)[-1]
    return container[int(key)] if isinstance(container, list) else container[key]


def put(report: dict, path: str, value) -> None:
    container, key = walk(report, path)[-1]
    if isinstance(container, list):
        container[int(key)] = value
    else:
        container[key] = value
