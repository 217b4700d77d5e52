"""Jail exports read through a TOML mapping: mutated exports, and mutated mapping files."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from detainers.ingest import jail_csv
from detainers.ingest.base import IngestOptions
from tests.fuzz.support import (DATA, FUZZ, assert_dates_in_bounds, encoded, mutated_table, reads_cleanly, read_rows,
                                text_cell, to_csv)

EXPORT = read_rows(DATA / "jail" / "example-export.csv")
MAPPING = (DATA / "jail" / "example-mapping.toml").read_text("utf-8")
MAPPING_LINES = MAPPING.splitlines()
#: Values a mapping could hold: texts, TOML syntax, formats, vocabularies.
TOML_BITS = st.sampled_from(['"%m/%d/%Y"', '"%Y"', '"%"', '"%Q"', '"%d-%b-%y"', '"%j"', "1", "true", "[]", "{}",
                             '["ICE"]', "[1, 2]", '""', '"  "', '"BookDate"', '"bookdate"', "= =", "[columns]",
                             "[values.stage]", '"x" = "pending"', "[[columns]]", "\\u0000", '"\\ud800"'])


@st.composite
def mapping_text(draw) -> str:
    lines = list(MAPPING_LINES)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "drop", "dup", "line"]))
        if op == "value" and "=" in lines[at]:
            key = lines[at].split("=", 1)[0]
            lines[at] = f"{key}= {draw(TOML_BITS | text_cell(20).map(repr))}"
        elif op == "drop":
            del lines[at]
        elif op == "dup":
            lines.insert(at, lines[at])
        else:
            lines.insert(at, draw(TOML_BITS | text_cell(30)))
    return "\n".join(lines)


@FUZZ
@given(table=mutated_table(EXPORT, max_ops=8), data=st.data(), state=st.sampled_from([None, "TX", "nc"]))
def test_export(table, data, state):
    with tempfile.TemporaryDirectory() as folder:
        path, mapping = Path(folder) / "export.csv", Path(folder) / "mapping.toml"
        path.write_bytes(data.draw(encoded(to_csv(table))))
        mapping.write_text(MAPPING, "utf-8")
        options = IngestOptions(jurisdiction_id="tx-example", state=state, mapping=mapping)
        extract = reads_cleanly(lambda: jail_csv.read(path, options), path, mapping)
        if extract is not None:
            assert_dates_in_bounds(extract.rows)


@FUZZ
@given(text=mapping_text(), data=st.data())
def test_mapping(text, data):
    with tempfile.TemporaryDirectory() as folder:
        path, mapping = Path(folder) / "export.csv", Path(folder) / "mapping.toml"
        path.write_text(to_csv(EXPORT), "utf-8")
        mapping.write_bytes(data.draw(encoded(text)))
        options = IngestOptions(jurisdiction_id="tx-example", mapping=mapping)
        extract = reads_cleanly(lambda: jail_csv.read(path, options), path, mapping)
        if extract is not None:
            assert_dates_in_bounds(extract.rows)
