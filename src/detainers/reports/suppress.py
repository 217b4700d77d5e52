"""Small-cell suppression for the public audience (DESIGN §2: "small cells suppressed").

A count from 1 to `threshold - 1` (default threshold 5, so 1–4) in an aggregate
table is shown as the string ``"<5"`` (primary suppression). Zeros are shown.

Totals and the other cells of a table could give a suppressed cell back by
subtraction, so suppression is completed line by line (complementary
suppression). A *line* is an equation the table shows: parts that add up to a
total (the outcome counts of one row add up to its `ended`; one column over all
rows adds up to the totals row). For every line, each suppressed cell must keep
at least two possible values given everything shown in that line — what a
reader knows: shown cells exactly, a ``"<5"`` cell is 1–4, a ``"suppressed"``
cell is 5 or more. While some line pins a suppressed cell down (always so when
exactly one of its cells is suppressed), the smallest non-zero shown cell of
that line is suppressed too and marked ``"suppressed"``; this repeats until no
line changes.

Known limits. The check is per line: inference that combines several lines at
once (a rectangle of suppressed cells across rows and columns) is not audited.
A line whose every non-zero cell is small can say more than its markers (four
"<5" outcomes adding up to a "<5" total are all 1), because zeros are shown and
nothing else is left to suppress in it.

The restricted audience is never suppressed. The threshold comes from the query
(`suppress_below`), else the environment variable ``DETAINERS_SUPPRESS_BELOW``,
else 5; ``1`` (or ``0``) turns suppression off, which the report then says; ``2`` is refused
(zeros are shown, so "<2" could only mean 1).
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from detainers.errors import InputError

DEFAULT_THRESHOLD = 5
ENV_VAR = "DETAINERS_SUPPRESS_BELOW"
PRIMARY = "primary"
COMPLEMENTARY = "complementary"
#: What a complementary-suppressed cell shows (its value is at least the threshold).
COMPLEMENTARY_MARKER = "suppressed"


def resolve_threshold(value: int | None = None) -> int:
    """The threshold to use: the query's, else DETAINERS_SUPPRESS_BELOW, else 5."""
    if value is None:
        raw = os.environ.get(ENV_VAR, "").strip()
        if not raw:
            return DEFAULT_THRESHOLD
        try:
            value = int(raw)
        except ValueError:
            raise InputError(f"{ENV_VAR}={raw!r} is not a whole number; set it to e.g. 5 "
                             "(counts 1–4 are suppressed) or 1 (no suppression).") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"The suppression threshold must be a whole number ≥ 0, not {value!r}.")
    if value == 2:
        raise InputError("A suppression threshold of 2 would hide nothing (zeros are shown, so \"<2\" could only "
                         "mean 1): use 3 or more, or 1 to turn suppression off.")
    return value


def primary_marker(threshold: int) -> str:
    return f"<{threshold}"


def is_marker(value: object) -> bool:
    """True for a cell that suppression replaced."""
    return isinstance(value, str) and (value == COMPLEMENTARY_MARKER or value.startswith("<"))


@dataclass(frozen=True)
class Line:
    """`parts` add up to `total` (a total of None: the parts are equal to nothing shown — no line)."""

    parts: tuple[Hashable, ...]
    total: Hashable

    @property
    def cells(self) -> tuple[Hashable, ...]:
        return (*self.parts, self.total)


def plan(values: Mapping[Hashable, int], lines: Iterable[Line], threshold: int) -> dict[Hashable, str]:
    """Which cells to suppress: {cell: PRIMARY | COMPLEMENTARY}. Cells not in `values` are ignored."""
    if threshold <= 1:
        return {}
    marks = {k: PRIMARY for k, v in values.items() if 0 < v < threshold}
    lines = [line for line in lines if all(c in values for c in line.cells)]
    changed = bool(marks)
    while changed:
        changed = False
        for line in lines:
            if not _pinned(line, values, marks, threshold):
                continue
            # parts first (smallest first, then in line order); the total only as a last resort
            candidates = [c for c in line.parts if c not in marks and values[c] > 0]
            if not candidates and line.total not in marks and values[line.total] > 0:
                candidates = [line.total]
            if candidates:
                pick = min(candidates, key=lambda c: values[c])
                marks[pick] = COMPLEMENTARY
                changed = True
    return marks


def _bounds(mark: str, threshold: int) -> tuple[float, float]:
    return (1, threshold - 1) if mark == PRIMARY else (threshold, math.inf)


def ranges(line: Line, values: Mapping[Hashable, int], marks: Mapping[Hashable, str],
           threshold: int) -> dict[Hashable, tuple[float, float]]:
    """What a reader can tell about each suppressed cell of one line: its smallest and largest possible value."""
    coef = {c: 1 for c in line.parts}
    coef[line.total] = coef.get(line.total, 0) - 1
    hidden = [c for c in coef if c in marks]
    # sum(coef * x over hidden) == rhs
    rhs = -sum(coef[c] * values[c] for c in coef if c not in marks)
    bounds = {c: _bounds(marks[c], threshold) for c in hidden}
    found = {}
    for c in hidden:
        lo = hi = 0.0
        for d in hidden:
            if d == c:
                continue
            a, b = coef[d] * bounds[d][0], coef[d] * bounds[d][1]
            lo += min(a, b)
            hi += max(a, b)
        # coef[c] * x == rhs - others, others in [lo, hi]
        low, high = rhs - hi, rhs - lo
        if coef[c] < 0:
            low, high = -high, -low
        found[c] = (max(low, bounds[c][0]), min(high, bounds[c][1]))
    return found


def _pinned(line: Line, values, marks, threshold: int) -> bool:
    """Some suppressed cell of the line has one possible value (beyond what its marker says by itself:
    with a threshold of 2, "<2" can only be 1, and no other cell can change that)."""
    return any(lo >= hi and _bounds(marks[c], threshold)[0] < _bounds(marks[c], threshold)[1]
               for c, (lo, hi) in ranges(line, values, marks, threshold).items())


# ---------------------------------------------------------------- applying a plan to a report


def cell_values(report: dict, paths: Iterable[str]) -> dict[str, int]:
    from detainers.reports.paths import get

    return {p: get(report, p) for p in paths}


def apply(report: dict, values: Mapping[str, int], lines: Iterable[Line], threshold: int,
          public: bool, rates: Iterable[tuple[str, tuple[str, ...]]] = (), mirrors: Mapping[str, str] = (),
          protects: str = "") -> None:
    """Suppress the report's cells (paths) in place and record what was done under `suppression`.

    `rates`: (rate path, the count paths it is computed from) — withheld (null) when any is suppressed.
    `mirrors`: {path: path it repeats} — shown or suppressed together with it.
    """
    from detainers.reports.paths import get, put

    info = {"audience": report["audience"], "applied": False, "threshold": threshold,
            "marker": primary_marker(threshold), "complementary_marker": COMPLEMENTARY_MARKER,
            "cells": [], "complementary": [], "rates_withheld": []}
    if public and threshold > 1:
        marks = plan(values, lines, threshold)
        info["applied"] = True
        for path, mark in marks.items():
            put(report, path, primary_marker(threshold) if mark == PRIMARY else COMPLEMENTARY_MARKER)
        for path, source in dict(mirrors).items():
            if source in marks:
                put(report, path, get(report, source))
                marks[path] = marks[source]
        info["cells"] = sorted(marks, key=_path_key)
        info["complementary"] = sorted((p for p, m in marks.items() if m == COMPLEMENTARY), key=_path_key)
        for rate, inputs in rates:
            if any(i in marks for i in inputs) and get(report, rate) is not None:
                put(report, rate, None)
                info["rates_withheld"].append(rate)
    report["suppression"] = info
    note = fidelity_note(info, protects)
    if note:
        report["fidelity"].append(note)


def _path_key(path: str) -> tuple:
    return tuple((0, int(s), "") if s.isdigit() else (1, 0, s) for s in path.split("."))


def fidelity_note(info: dict, protects: str = "") -> str | None:
    if info["audience"] != "public":
        return None
    if not info["applied"]:
        return ("Small-cell suppression is turned off for this public report (threshold "
                f"{info['threshold']}): small counts are shown as they are.")
    t = info["threshold"]
    text = (f"Small cells are suppressed for the public audience: counts from 1 to {t - 1} are shown as "
            f"\"<{t}\", and further cells are shown as \"{COMPLEMENTARY_MARKER}\" (each {t} or more) so that no "
            f"suppressed count can be worked out by subtracting the others of its row or column from a total; "
            f"zeros are shown. {len(info['cells'])} cells are suppressed here, "
            f"{len(info['complementary'])} of them to protect others.")
    if info["rates_withheld"]:
        text += f" {len(info['rates_withheld'])} rates computed from suppressed counts are left empty."
    if protects:
        text += " " + protects
    return text
