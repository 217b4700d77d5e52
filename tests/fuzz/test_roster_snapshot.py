"""Jail roster snapshots: mutated CSV rosters and mutated JSON rosters (odd types, nesting, huge numbers)."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from detainers.ingest import roster_snapshot
from detainers.ingest.base import IngestOptions
from tests.fuzz.support import (DATA, FUZZ, assert_dates_in_bounds, encoded, mutated_table, reads_cleanly, read_rows,
                                text_cell, to_csv)

ROSTERS = [read_rows(DATA / "roster" / name) for name in ("per-charge.csv", "per-booking.csv", "marshal-hold.csv")]
JSON = json.loads((DATA / "roster" / "roster.json").read_text("utf-8"))
OPTIONS = IngestOptions(jurisdiction_id="tx-example", facility_id="tx-example-jail", as_of=datetime(2024, 3, 5, 6))

#: Stands for an integer of 5,000 digits, written into the JSON text as digits (Python cannot print it).
BIG = "__BIG_INTEGER__"
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text_cell(40),
                      st.sampled_from([BIG, float("nan"), float("inf"), "2024-03-04T22:15:00", "ICE"]))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(text_cell(12), inner, max_size=4), max_leaves=12)


def _check(extract) -> None:
    if extract is not None:
        assert_dates_in_bounds(extract.rows)


@FUZZ
@given(table=st.sampled_from(ROSTERS).flatmap(lambda rows: mutated_table(rows, max_ops=8)), data=st.data())
def test_csv_roster(table, data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        path.write_bytes(data.draw(encoded(to_csv(table))))
        _check(reads_cleanly(lambda: roster_snapshot.read(path, OPTIONS), path))


@st.composite
def json_roster(draw):
    doc = json.loads(json.dumps(JSON))
    inmates = doc["inmates"]
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(["value", "value", "drop_key", "rename_key", "item", "wrap", "nest"]))
        item = inmates[draw(st.integers(0, len(inmates) - 1))] if inmates else None
        item = item if isinstance(item, dict) else None
        if op == "value" and item:
            item[draw(st.sampled_from(sorted(item)))] = draw(json_value)
        elif op == "drop_key" and item:
            item.pop(draw(st.sampled_from(sorted(item))))
        elif op == "rename_key" and item:
            key = draw(st.sampled_from(sorted(item)))
            item[draw(text_cell(12))] = item.pop(key)
        elif op == "item":
            inmates.append(draw(json_value))
        elif op == "wrap":
            doc = draw(st.sampled_from([inmates, {"a": inmates, "b": inmates}, {"x": 1}, inmates[:1], []]))
        elif op == "nest":  # deeper than any parser's recursion
            depth = draw(st.integers(1, 200_000))
            return "[" * depth + _dumps(doc) + "]" * depth
    return _dumps(doc)


def _dumps(doc) -> str:
    return json.dumps(doc, allow_nan=True).replace(f'"{BIG}"', "1" * 5000)


@FUZZ
@given(text=json_roster(), data=st.data())
def test_json_roster(text, data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.json"
        path.write_bytes(data.draw(encoded(text)))
        _check(reads_cleanly(lambda: roster_snapshot.read(path, OPTIONS), path))


@FUZZ
@given(value=json_value)
def test_items(value):
    """Charges and holds of any JSON shape become a list of texts."""
    items = roster_snapshot.split_list(value)
    assert all(isinstance(i, str) for i in items)
    for item in items:
        roster_snapshot.is_immigration_hold(item)
        roster_snapshot.is_detainer_line(item)
    roster_snapshot.detainer_form(items)
