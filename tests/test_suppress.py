"""Small-cell suppression: hand-built tables that cannot be undone by subtraction, and the reports.

A table here is a grid of counts with row totals and column totals (and a grand total),
like section I of the declined report. `attack` plays the reader: from everything shown,
it finds every value each suppressed cell could have, line by line and over all lines at
once (exhaustively, the tables are small), and each suppressed cell must keep at least two.
"""

from __future__ import annotations

import itertools
import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from detainers.datapackage.importer import import_package
from detainers.errors import InputError
from detainers.reports import suppress
from detainers.reports.declined import DeclinedQuery
from detainers.reports.declined import build as build_declined
from detainers.reports.noncooperative import NonCooperativeQuery
from detainers.reports.noncooperative import build as build_noncooperative
from detainers.reports.paths import get
from detainers.reports.render import FORMATS, render
from detainers.reports.transfers import TransfersQuery
from detainers.reports.transfers import build as build_transfers
from detainers.store.schema import audit_log
from tests.pkg import write_package
from tests.scenario import AS_OF, scenario
from tests.test_report_declined import package as declined_package
from tests.test_report_transfers import package as transfers_package

T = 5


def grid(rows: list[list[int]]) -> tuple[dict, list[suppress.Line]]:
    """Cells (r, c), row totals (r, 'T'), column totals ('T', c) and the grand total ('T', 'T')."""
    values, lines = {}, []
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            values[(r, c)] = v
        values[(r, "T")] = sum(row)
        lines.append(suppress.Line(tuple((r, c) for c in range(len(row))), (r, "T")))
    for c in range(len(rows[0])):
        values[("T", c)] = sum(row[c] for row in rows)
        lines.append(suppress.Line(tuple((r, c) for r in range(len(rows))), ("T", c)))
    values[("T", "T")] = sum(map(sum, rows))
    lines.append(suppress.Line(tuple((r, "T") for r in range(len(rows))), ("T", "T")))
    lines.append(suppress.Line(tuple(("T", c) for c in range(len(rows[0]))), ("T", "T")))
    return values, lines


def _propagate(bounds: dict, values: dict, lines: list[suppress.Line]) -> bool:
    """Tighten each hidden cell's [lo, hi] from every line until nothing changes; False if impossible."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            coef = {c: 1 for c in line.parts}
            coef[line.total] = coef.get(line.total, 0) - 1
            hidden = [c for c in coef if c in bounds and coef[c]]
            rhs = -sum(coef[c] * values[c] for c in coef if c not in bounds)
            for c in hidden:
                lo = sum(min(coef[d] * bounds[d][0], coef[d] * bounds[d][1]) for d in hidden if d != c)
                hi = sum(max(coef[d] * bounds[d][0], coef[d] * bounds[d][1]) for d in hidden if d != c)
                low, high = (rhs - hi, rhs - lo) if coef[c] > 0 else (lo - rhs, hi - rhs)
                new = (max(bounds[c][0], low), min(bounds[c][1], high))
                if new[0] > new[1]:
                    return False
                if new != bounds[c]:
                    bounds[c] = new
                    changed = True
    return True


def _feasible(bounds: dict, values: dict, lines: list[suppress.Line]) -> bool:
    bounds = dict(bounds)
    if not _propagate(bounds, values, lines):
        return False
    open_cells = [c for c, (lo, hi) in bounds.items() if lo < hi]
    if not open_cells:
        return True
    cell = min(open_cells, key=lambda c: bounds[c][1] - bounds[c][0])
    lo, hi = bounds[cell]
    return any(_feasible({**bounds, cell: (v, v)}, values, lines) for v in range(lo, hi + 1))


def attack(values: dict, lines: list[suppress.Line], marks: dict, threshold: int = T) -> dict:
    """Every value each suppressed cell can take, given all shown cells and all lines at once: an exact
    search (bounds propagation and backtracking). A "suppressed" cell is known to be ≥ threshold; the cap
    on it stands for "unbounded" and is far above any value in the table."""
    cap = 3 * sum(values.values()) + 10
    shown = {k: v for k, v in values.items() if k not in marks}
    start = {h: (1, threshold - 1) if m == suppress.PRIMARY else (threshold, cap) for h, m in marks.items()}
    possible = {}
    for h in marks:
        lo, hi = start[h]
        possible[h] = {v for v in range(lo, min(hi, cap) + 1) if _feasible({**start, h: (v, v)}, shown, lines)}
        if len(possible[h]) > 3:  # enough to know it is not pinned; keep the search short
            possible[h] = set(sorted(possible[h])[:3]) | {values[h]}
    return possible


@pytest.mark.parametrize("rows", [
    [[3, 10, 20]],                              # one small cell in a row: its smallest neighbour goes too
    [[1, 5]],                                   # 1 + 5 = 6: a "suppressed" cell is ≥ 5, so even the pair
                                                # would give 1 back; the total goes as well
    [[2, 9, 7], [12, 8, 15]],                   # a small cell protected along its row and its column
    [[4, 0, 11], [6, 3, 0], [9, 14, 8]],        # zeros stay shown; two small cells in different lines
    [[1, 2, 30], [20, 25, 6], [7, 8, 9]],       # two small cells in one row
    [[0, 0, 3], [0, 0, 0]],                     # the small cell's whole row and column are zeros but itself
])
def test_suppressed_cells_cannot_be_recovered(rows):
    values, lines = grid(rows)
    marks = suppress.plan(values, lines, T)
    assert marks, "every table here has a small cell"
    assert {k for k, m in marks.items() if m == suppress.PRIMARY} == {k for k, v in values.items() if 0 < v < T}
    assert all(values[k] > 0 for k in marks), "zeros are never suppressed"
    for line in lines:  # never exactly one suppressed cell in a line
        assert sum(c in marks for c in line.cells) != 1, line
    for cell, options in attack(values, lines, marks).items():
        assert values[cell] in options
        assert len(options) >= 2, (cell, options)


def test_the_rule_of_the_brief_on_one_row():
    values, lines = grid([[3, 10, 20]])
    marks = suppress.plan(values, lines, T)
    # the small cell, the next-smallest non-zero cell of its row; then column lines of a one-row table
    # (each column's total is the cell itself) pull the column totals in too
    assert marks[(0, 0)] == suppress.PRIMARY and marks[(0, 1)] == suppress.COMPLEMENTARY
    assert (0, 2) not in marks


def test_no_small_cells_no_suppression_and_threshold_one_turns_it_off():
    values, lines = grid([[5, 10], [7, 0]])
    assert suppress.plan(values, lines, T) == {}
    values, lines = grid([[1, 2], [3, 4]])
    assert suppress.plan(values, lines, 1) == {}
    assert suppress.plan(values, lines, 0) == {}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(0, 14), min_size=2, max_size=4), min_size=1, max_size=4)
       .filter(lambda rows: len({len(r) for r in rows}) == 1))
def test_no_line_pins_a_suppressed_cell(rows):
    values, lines = grid(rows)
    marks = suppress.plan(values, lines, T)
    for line in lines:
        hidden = [c for c in line.cells if c in marks]
        assert len(hidden) != 1
        for cell, (lo, hi) in suppress.ranges(line, values, marks, T).items():
            assert lo <= values[cell] <= hi
            assert lo < hi or not any(c not in marks and values[c] > 0 for c in line.cells), (line, cell)


def test_threshold_from_query_then_environment(monkeypatch):
    monkeypatch.delenv(suppress.ENV_VAR, raising=False)
    assert suppress.resolve_threshold(None) == 5
    assert suppress.resolve_threshold(11) == 11
    monkeypatch.setenv(suppress.ENV_VAR, "3")
    assert suppress.resolve_threshold(None) == 3
    assert suppress.resolve_threshold(7) == 7
    monkeypatch.setenv(suppress.ENV_VAR, "many")
    with pytest.raises(InputError, match="DETAINERS_SUPPRESS_BELOW"):
        suppress.resolve_threshold(None)
    with pytest.raises(InputError):
        suppress.resolve_threshold(-1)


# ---------------------------------------------------------------- the reports


@pytest.fixture
def declined_db(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", declined_package()))
    return engine


@pytest.fixture
def transfers_db(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", transfers_package()))
    return engine


def declined(engine, **kw):
    with engine.begin() as conn:
        return build_declined(conn, DeclinedQuery(date(2018, 10, 1), date(2019, 3, 31), **kw))


def transfers(engine, **kw):
    with engine.begin() as conn:
        return build_transfers(conn, TransfersQuery(2016, 2018, **kw))


def shown(report: dict, path: str):
    return get(report, path)


def check_report_lines(public: dict, truth: dict, lines: list[suppress.Line]) -> None:
    """Per line of the public report: no suppressed cell can be worked out from the others."""
    sup = public["suppression"]
    marks = {p: (suppress.COMPLEMENTARY if p in sup["complementary"] else suppress.PRIMARY) for p in sup["cells"]}
    values = {p: get(truth, p) for line in lines for p in line.cells}
    for p in values:
        if p not in marks:
            assert get(public, p) == values[p], p  # shown cells are the true ones
        else:
            assert get(public, p) == ("<5" if marks[p] == suppress.PRIMARY else "suppressed"), p
    for line in lines:
        for cell, (lo, hi) in suppress.ranges(line, values, marks, 5).items():
            assert lo < hi, (line, cell, lo, hi)


def declined_lines(report: dict) -> list[suppress.Line]:
    n = len(report["jurisdictions"])
    prefixes = [f"jurisdictions.{i}" for i in range(n)] + ["totals"]
    lines = []
    for p in prefixes:
        lines.append(suppress.Line((f"{p}.honored", f"{p}.declined", f"{p}.transferred"), f"{p}.decided"))
        lines.append(suppress.Line(tuple(f"{p}.{o}" for o in ("honored", "declined", "transferred", "lifted",
                                                               "cancelled", "unknown")), f"{p}.ended"))
    for k in ("issued", "honored", "declined", "transferred", "lifted", "cancelled", "unknown", "ended", "decided"):
        lines.append(suppress.Line(tuple(f"jurisdictions.{i}.{k}" for i in range(n)), f"totals.{k}"))
    return lines


def test_declined_public_is_suppressed_and_restricted_is_not(declined_db, monkeypatch):
    monkeypatch.delenv(suppress.ENV_VAR, raising=False)
    public = declined(declined_db)
    truth = declined(declined_db, audience="restricted")
    assert truth["suppression"]["applied"] is False and truth["suppression"]["cells"] == []
    assert all(isinstance(row[k], int) for row in truth["jurisdictions"]
               for k in ("issued", "declined", "ended", "decided", "still_open"))
    assert truth["jurisdictions"][1]["declined"] == 3 and truth["totals"]["declined"] == 6

    rows = public["jurisdictions"]
    assert rows[1]["declined"] == "<5" and rows[0]["honored"] == "<5"
    assert public["suppression"]["applied"] is True and public["suppression"]["threshold"] == 5
    # every rate whose counts are suppressed is withheld
    assert all(row["decline_rate"] is None for row in rows)
    assert public["totals"]["decline_rate"] is None
    assert public["suppression"]["rates_withheld"]
    # totals.issued is 12: shown; the count of declined detainers listed repeats totals.declined
    assert public["totals"]["issued"] in (12, "suppressed")
    assert public["totals"]["declined_listed"] == public["totals"]["declined"]
    check_report_lines(public, truth, declined_lines(public))
    notes = " ".join(public["fidelity"])
    assert 'shown as "<5"' in notes and "section II" in notes
    assert "unknown outcome" in notes and "(9.1%)" not in notes  # the fidelity numbers are suppressed too
    assert "suppressed" not in " ".join(truth["fidelity"])


def test_declined_large_counts_are_shown(declined_db):
    """A threshold of 3 suppresses only the ones and twos; the table stays protected line by line."""
    public = declined(declined_db, suppress_below=3)
    truth = declined(declined_db, audience="restricted")
    assert public["suppression"]["marker"] == "<3"
    assert public["totals"]["issued"] == 12  # not small, not needed to protect anything
    assert public["jurisdictions"][0]["issued"] == "<3"
    check_report_lines_threshold(public, truth, declined_lines(public), 3)
    with pytest.raises(InputError, match="threshold of 2"):
        declined(declined_db, suppress_below=2)


def check_report_lines_threshold(public, truth, lines, threshold):
    sup = public["suppression"]
    marks = {p: (suppress.COMPLEMENTARY if p in sup["complementary"] else suppress.PRIMARY) for p in sup["cells"]}
    values = {p: get(truth, p) for line in lines for p in line.cells}
    for line in lines:
        for cell, (lo, hi) in suppress.ranges(line, values, marks, threshold).items():
            # a line whose every non-zero cell is small can say more than "<3" (1 + 1 = 2): the known limit,
            # since zeros are shown; nothing is left to suppress there
            assert lo < hi or not any(c not in marks and values[c] > 0 for c in line.cells), (line, cell, lo, hi)


def test_environment_sets_the_threshold(declined_db, monkeypatch):
    monkeypatch.setenv(suppress.ENV_VAR, "3")
    r = declined(declined_db)
    assert r["suppression"]["threshold"] == 3 and r["manifest"]["parameters"]["suppress_below"] == 3
    assert "<3" in {v for row in r["jurisdictions"] for v in row.values() if isinstance(v, str)}
    monkeypatch.setenv(suppress.ENV_VAR, "1")
    off = declined(declined_db)
    assert off["suppression"]["applied"] is False
    assert any("suppression is turned off" in n for n in off["fidelity"])


def transfers_lines(report: dict) -> list[suppress.Line]:
    lines = []
    for gi, g in enumerate(report["groups"]):
        for yi, y in enumerate(g["years"]):
            p = f"groups.{gi}.years.{yi}"
            lines.append(suppress.Line(tuple(f"{p}.ended_outcomes.{o}" for o in y["ended_outcomes"]), f"{p}.ended"))
            lines.append(suppress.Line((f"{p}.ended_outcomes.honored",), f"{p}.honored_by_ended"))
    for ti in range(len(report["totals"])):
        for k in ("honored_by_lodged", "lodged", "open_of_lodged", "honored_by_ended", "ended"):
            lines.append(suppress.Line(tuple(f"groups.{gi}.years.{ti}.{k}" for gi in range(len(report["groups"]))),
                                       f"totals.{ti}.{k}"))
    return lines


def test_transfers_public_is_suppressed_and_restricted_is_not(transfers_db):
    public = transfers(transfers_db, suppress_below=5)
    truth = transfers(transfers_db, audience="restricted")
    assert truth["audience"] == "restricted" and truth["suppression"]["cells"] == []
    assert truth["groups"][0]["years"][1]["lodged"] == 4
    y = public["groups"][0]["years"][1]
    assert (y["lodged"], y["honored_by_ended"], y["share_honored"]) == ("<5", "<5", None)
    assert all(t["share_honored"] is None for t in public["totals"])
    check_report_lines(public, truth, transfers_lines(public))
    with transfers_db.connect() as conn:
        assert conn.execute(select(audit_log.c.action)).scalars().all()[-1] == "report.restricted"
    # the fidelity sums would give suppressed cells back: not shown
    assert any("sums over all years are not shown" in n for n in public["fidelity"])
    for fmt in FORMATS:
        text = render(public, fmt)
        assert "&lt;5" in text or "<5" in text, fmt


def test_noncooperative_category_counts_are_suppressed(engine, tmp_path):
    import_package(engine, write_package(tmp_path / "pkg", scenario()))
    with engine.begin() as conn:
        public = build_noncooperative(conn, NonCooperativeQuery(date.fromisoformat(AS_OF), suppress_below=5))
        restricted = build_noncooperative(conn, NonCooperativeQuery(date.fromisoformat(AS_OF), audience="restricted"))
    counts = public["jurisdictions"][0]["counts"]
    assert counts["people"] == 3  # the list of people shows it: not suppressed
    assert counts["by_category"] == {"homicide": "<5", "sex_offense_child": "<5", "dui": "<5",
                                     "drug_possession": "<5"}
    assert counts["by_category_convicted"] == {"dui": "<5", "drug_possession": "<5"}
    assert len(public["jurisdictions"][0]["people"]) == 3  # the row-level list is kept
    assert restricted["jurisdictions"][0]["counts"]["by_category"]["homicide"] == 1
    assert restricted["suppression"]["cells"] == []
    note = next(n for n in public["fidelity"] if n.startswith("Small cells are suppressed"))
    assert "by_category" in note and "list of people" in note
    md = render(public, "md")
    assert "| sex_offense_child | &lt;5 | 0 |" in md
    assert json.loads(render(public, "json"))["jurisdictions"][0]["counts"]["by_category"]["dui"] == "<5"
